/**
 * npm start's stand-in for what API Gateway does before a function runs, in
 * front of serverless-offline (which listens on a private port behind it):
 *
 * - the JWT authorizer, as API Gateway's checks it: an RS256 signature by a
 *   key of the issuer's JWKS (the local issuer's, scripts/local-issuer.ts, or
 *   with `npm start -- --stage` that stage's Cognito pool's), its `kid`,
 *   `iss`, `aud` or `client_id`, `exp` (required), `nbf`, `iat` and the
 *   route's scope, verified with jose. serverless-offline alone
 *   checks only the claims, never the signature, and lets a token without
 *   `exp` through;
 * - the `sls-offline-authorizer-override` header, with which serverless-offline
 *   lets a request name its own caller, never passes;
 * - a write without Content-Type reaches the function without one
 *   (serverless-offline fills in application/json when a body is sent);
 * - HEAD: an HTTP API has no GET route answer HEAD (a route is a method and
 *   a path), so HEAD goes to the catch-all ($default) function, which
 *   answers 405 with `Allow` (serverless-offline would run the GET route);
 * - CORS: an origin not in corsAllowedOrigins gets no Access-Control-*
 *   header (serverless-offline answers any origin);
 * - POST /oauth2/token: a client-credentials token endpoint for the local
 *   client, as the stage's Cognito domain has one, for the docs page's
 *   Authorize button; GET /.well-known/jwks.json: the local issuer's keys.
 *   Off when the tokens come from another issuer (--stage): the token
 *   endpoint says so, and the JWKS path goes on to the catch-all.
 *
 * Which route needs which scope comes from the OpenAPI document, which the
 * same rules build (lib/openapi/operations.ts). Only npm start loads this: it
 * is in no deployed bundle.
 */

import { createPublicKey, type KeyObject, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  exportJWK,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose';
import { routePattern } from '../lib/http/routes.js';
import { openApiDocument } from '../lib/openapi/document.js';
import { type ApiAuth, localTokenPath } from '../lib/openapi/operations.js';
import {
  localAudience,
  localClient,
  localClientSecret,
  localIssuer,
  localKeyId,
  localToken,
  readScope,
  writeScope,
} from './local-issuer.js';

export interface GatewayOptions {
  /** Where serverless-offline listens. */
  target: { host: string; port: number };
  /**
   * Whose tokens are accepted: the local issuer's, by its private key (whose
   * public half is the JWKS the gateway serves), or another issuer's (npm
   * start --stage: the stage's Cognito pool, whose app client is the
   * audience).
   */
  issuer: { key: KeyObject } | RemoteIssuer;
  auth: ApiAuth;
  /** Browser origins allowed by CORS (corsAllowedOrigins); none: no CORS. */
  corsAllowedOrigins: string[];
  /** serverless-offline's Lambda endpoint and the name of the catch-all ($default) function. */
  catchAll: { port: number; functionName: string };
}

/** The scope each `METHOD /template` needs, as a matcher. */
export function routeScopes(auth: ApiAuth): (method: string, path: string) => string[] | undefined {
  const routes: { method: string; pattern: RegExp; scopes: string[] }[] = [];
  for (const [template, operations] of Object.entries(openApiDocument(auth).paths)) {
    const pattern = routePattern(template);
    for (const [method, operation] of Object.entries(operations as Record<string, { security?: unknown[] }>)) {
      const scopes = (operation.security ?? []).flatMap((requirement) => Object.values(requirement as object).flat());
      routes.push({ method: method.toUpperCase(), pattern, scopes: scopes as string[] });
    }
  }
  // A request no route takes goes to the public catch-all ($default), as deployed.
  return (method, path) => routes.find((route) => route.method === method && route.pattern.test(path))?.scopes;
}

/** The local issuer's JWKS: its one public key. */
export async function localJwks(key: KeyObject): Promise<JSONWebKeySet> {
  const jwk = await exportJWK(createPublicKey(key));
  return { keys: [{ ...jwk, kid: localKeyId, alg: 'RS256', use: 'sig' }] };
}

/** An issuer other than the local one: its `iss`, and the audience (or `client_id`) its tokens must carry. */
export interface RemoteIssuer {
  url: string;
  audience: string;
}

/** What a token is checked against: the issuer's keys, its `iss`, and the authorizer's audience. */
export interface Verifier {
  issuer: string;
  audience: string;
  keys: JWTVerifyGetKey;
}

export function localVerifier(jwks: JSONWebKeySet): Verifier {
  return { issuer: localIssuer, audience: localAudience, keys: createLocalJWKSet(jwks) };
}

/** Where an issuer keeps its keys: `<issuer>/.well-known/jwks.json`, as a Cognito pool does. */
export const jwksUrl = (issuer: string) =>
  new URL('.well-known/jwks.json', issuer.endsWith('/') ? issuer : `${issuer}/`);

/**
 * Another issuer's keys, fetched when a token names a `kid` not yet seen (and
 * cached), as API Gateway does for a deployed authorizer.
 */
export function remoteVerifier({ url, audience }: RemoteIssuer): Verifier {
  const where = jwksUrl(url);
  const jwks = createRemoteJWKSet(where);
  return {
    issuer: url,
    audience,
    keys: async (header, token) => {
      try {
        return await jwks(header, token);
      } catch (error) {
        // A key the set lacks is the token's fault; anything else (no network, not a JWKS) is said as such.
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
        throw new Error(`could not get the issuer's keys from ${where}: ${(error as Error).message}`);
      }
    },
  };
}

export class Refusal extends Error {
  constructor(
    readonly status: 401 | 403,
    reason: string,
  ) {
    super(reason);
  }
}

/**
 * What API Gateway's JWT authorizer does with a bearer token for a route
 * needing one of `scopes`: the claims, or a Refusal (401, or 403 for a
 * missing scope). Exported for the unit tests.
 */
export async function authorize(
  authorization: string | undefined,
  scopes: string[],
  verifier: Verifier,
  now = Math.floor(Date.now() / 1000),
): Promise<Record<string, unknown>> {
  const token = /^Bearer +(\S+)$/i.exec(authorization ?? '')?.[1];
  if (!token) throw new Refusal(401, 'no bearer token');
  let claims: Record<string, unknown>;
  try {
    // RS256 only (a token with alg none or HS256 is refused), a kid the JWKS
    // has, the issuer, exp required, nbf checked; no clock tolerance.
    ({ payload: claims } = await jwtVerify(token, verifier.keys, {
      algorithms: ['RS256'],
      issuer: verifier.issuer,
      requiredClaims: ['exp'],
      currentDate: new Date(now * 1000),
    }));
  } catch (error) {
    throw new Refusal(401, (error as Error).message);
  }
  if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > now)) {
    throw new Refusal(401, '"iat" claim is in the future');
  }
  // API Gateway: one of the token's `aud` values is an audience of the
  // authorizer; only a token without `aud` is judged by its `client_id`.
  const audiences = Array.isArray(claims.aud) ? claims.aud : claims.aud === undefined ? undefined : [claims.aud];
  if (audiences ? !audiences.includes(verifier.audience) : claims.client_id !== verifier.audience) {
    throw new Refusal(401, 'neither aud nor client_id is the authorizer audience');
  }
  const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
  if (scopes.length > 0 && !scopes.some((scope) => granted.includes(scope))) {
    throw new Refusal(403, `the token lacks the scope ${scopes.join(' or ')}`);
  }
  return claims;
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const sameText = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

/** POST /oauth2/token (RFC 6749 §4.4): the local client's id and secret, in Basic auth or the form, buy a token. */
function tokenEndpoint(key: KeyObject, request: IncomingMessage, body: Buffer, response: ServerResponse): void {
  const form = new URLSearchParams(body.toString('utf8'));
  let id = form.get('client_id') ?? undefined;
  let secret = form.get('client_secret') ?? undefined;
  const basic = /^Basic +(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (basic) {
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    id = decodeURIComponent(decoded.slice(0, colon));
    secret = decodeURIComponent(decoded.slice(colon + 1));
  }
  const noStore = { 'cache-control': 'no-store' };
  if (form.get('grant_type') !== 'client_credentials') {
    send(response, 400, { error: 'unsupported_grant_type' }, noStore);
    return;
  }
  if (id !== localClient || secret === undefined || !sameText(secret, localClientSecret)) {
    send(
      response,
      401,
      { error: 'invalid_client' },
      { ...noStore, 'www-authenticate': 'Basic realm="cats-api-local"' },
    );
    return;
  }
  const known = [readScope, writeScope];
  const asked = (form.get('scope') ?? '').split(' ').filter(Boolean);
  if (asked.some((scope) => !known.includes(scope))) {
    send(response, 400, { error: 'invalid_scope' }, noStore);
    return;
  }
  const scopes = asked.length > 0 ? asked : known;
  const expiresIn = 3600;
  send(
    response,
    200,
    { access_token: localToken(key, { scopes, expiresIn }), token_type: 'Bearer', expires_in: expiresIn },
    noStore,
  );
}

const authorizationHeaders = ['sls-offline-authorizer-override'];

export async function startLocalGateway(port: number, options: GatewayOptions): Promise<Server> {
  const issuer = options.issuer;
  let keys: JSONWebKeySet | undefined;
  let verifier: Verifier;
  if ('key' in issuer) {
    keys = await localJwks(issuer.key);
    verifier = localVerifier(keys);
  } else verifier = remoteVerifier(issuer);
  const scopesOf = routeScopes(options.auth);
  const server = createServer((incoming, response) => {
    void handle(incoming, response).catch((error) => {
      if (!response.headersSent) send(response, 502, { message: 'Bad Gateway' });
      else response.destroy(error as Error);
    });
  });

  async function handle(incoming: IncomingMessage, response: ServerResponse): Promise<void> {
    const method = (incoming.method ?? 'GET').toUpperCase();
    const url = new URL(incoming.url ?? '/', 'http://localhost');
    const body = await readBody(incoming);
    if (url.pathname === localTokenPath && method === 'POST') {
      if ('key' in issuer) return tokenEndpoint(issuer.key, incoming, body, response);
      return send(response, 404, {
        message:
          `The local token endpoint is off: npm start checks tokens of ${verifier.issuer} (client ${verifier.audience}). ` +
          'Get one from that issuer (npm run -s token -- --stage <stage>).',
      });
    }
    if (url.pathname === '/.well-known/jwks.json' && method === 'GET' && keys) return send(response, 200, keys);

    const origin = incoming.headers.origin;
    const corsAllowed = origin !== undefined && options.corsAllowedOrigins.includes(origin);
    const preflight = method === 'OPTIONS' && origin !== undefined && incoming.headers['access-control-request-method'];
    const scopes = preflight ? undefined : scopesOf(method, url.pathname);
    if (scopes && scopes.length > 0 && options.auth !== 'open') {
      try {
        await authorize(incoming.headers.authorization, scopes, verifier);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        const headers: Record<string, string> =
          error.status === 401 ? { 'www-authenticate': 'Bearer error="invalid_token"' } : {};
        if (corsAllowed && origin) headers['access-control-allow-origin'] = origin;
        console.error(`[cats-api] ${method} ${url.pathname} -> ${error.status}: ${error.message}`);
        return send(response, error.status, { message: error.status === 401 ? 'Unauthorized' : 'Forbidden' }, headers);
      }
    }

    const headers = { ...incoming.headers };
    for (const name of authorizationHeaders) delete headers[name];
    if (method === 'HEAD') return catchAll(incoming, url, headers, response, corsAllowed);
    // serverless-offline gives a body sent without Content-Type the type
    // application/json; API Gateway passes none, and the function answers
    // 415 before it reads a body. Without the body, serverless-offline adds
    // no type either.
    const forwarded =
      headers['content-type'] === undefined && method !== 'GET' && method !== 'HEAD' ? Buffer.alloc(0) : body;
    headers['content-length'] = String(forwarded.length);
    delete headers['transfer-encoding'];

    const upstream = request({
      host: options.target.host,
      port: options.target.port,
      method,
      path: incoming.url,
      headers,
    });
    upstream.on('response', (answer) => {
      const out = { ...answer.headers };
      if (!corsAllowed) {
        for (const name of Object.keys(out)) if (name.startsWith('access-control-')) delete out[name];
      }
      response.writeHead(answer.statusCode ?? 502, out);
      answer.pipe(response);
    });
    upstream.on('error', (error) => {
      if (!response.headersSent) send(response, 502, { message: 'Bad Gateway' });
      else response.destroy(error);
    });
    upstream.end(forwarded);
  }

  /** Invokes the catch-all function with the API Gateway (payload 2.0) event of this request, as $default would. */
  async function catchAll(
    incoming: IncomingMessage,
    url: URL,
    headers: IncomingMessage['headers'],
    response: ServerResponse,
    corsAllowed: boolean,
  ): Promise<void> {
    const method = incoming.method ?? 'HEAD';
    const event = {
      version: '2.0',
      routeKey: '$default',
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [name, Array.isArray(value) ? value.join(',') : String(value)]),
      ),
      requestContext: {
        accountId: 'offlineContext_accountId',
        apiId: 'offlineContext_apiId',
        domainName: url.host,
        http: {
          method,
          path: url.pathname,
          protocol: `HTTP/${incoming.httpVersion}`,
          sourceIp: incoming.socket.remoteAddress ?? '127.0.0.1',
          userAgent: headers['user-agent'] ?? '',
        },
        requestId: randomUUID(),
        routeKey: '$default',
        stage: '$default',
        time: new Date().toUTCString(),
        timeEpoch: Date.now(),
      },
      isBase64Encoded: false,
    };
    const { port, functionName } = options.catchAll;
    const invoked = await fetch(`http://127.0.0.1:${port}/2015-03-31/functions/${functionName}/invocations`, {
      method: 'POST',
      body: JSON.stringify(event),
    });
    const result = (await invoked.json()) as { statusCode?: number; headers?: Record<string, string> };
    const out: Record<string, string> = { ...(result.headers ?? {}) };
    if (!corsAllowed)
      for (const name of Object.keys(out)) if (name.toLowerCase().startsWith('access-control-')) delete out[name];
    response.writeHead(result.statusCode ?? 502, out);
    response.end();
  }

  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(port, () => ready());
  });
  return server;
}
