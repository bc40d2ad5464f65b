/**
 * Who called: the `sub` and `client_id` of the access token that API
 * Gateway's JWT authorizer accepted for this request. Read from the claims
 * the authorizer puts in the request context (after checking the token's
 * signature, issuer, audience, expiry and scopes), never from the
 * Authorization header: on a route without the authorizer (the public
 * reads) API Gateway checks nothing and passes no claims, so a token sent
 * there names nobody.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';

export interface Caller {
  /** The token's subject: for a client-credentials token, the app client. */
  sub: string;
  /** The app client the token was issued to. */
  clientId?: string;
}

type Claims = Record<string, unknown>;

/** The caller, or undefined on a public route (or a token without a subject). */
export function callerOf(event: APIGatewayProxyEventV2): Caller | undefined {
  const context = event.requestContext as { authorizer?: { jwt?: { claims?: Claims } } } | undefined;
  const claims = context?.authorizer?.jwt?.claims;
  // API Gateway passes claims as strings; anything else did not come from it.
  if (typeof claims?.sub !== 'string' || claims.sub === '') return undefined;
  return typeof claims.client_id === 'string' ? { sub: claims.sub, clientId: claims.client_id } : { sub: claims.sub };
}
