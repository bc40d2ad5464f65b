/**
 * A stand-in for a stage's Cognito user pool, for `npm start -- --stage`'s
 * checks without AWS: its issuer URL, its JWKS at
 * `<issuer>/.well-known/jwks.json` over plain HTTP on localhost, and tokens
 * signed by its key, shaped like the pool's client-credentials access tokens.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK } from 'jose';
import { signJwt, writeScope } from '../../scripts/local-issuer.js';

export interface StandInIssuer {
  /** `iss` of its tokens: http://127.0.0.1:<port>/<pool id>. */
  issuer: string;
  /** The app client: `client_id` and `sub` of its tokens. */
  clientId: string;
  key: KeyObject;
  kid: string;
  /** The claims of a token with the write scope, valid for an hour from now, with `more` over them. */
  claims(more?: Record<string, unknown>): Record<string, unknown>;
  /** Those claims signed by its key. */
  token(more?: Record<string, unknown>): string;
  /** How many times its JWKS was fetched. */
  jwksRequests(): number;
  close(): Promise<void>;
}

export async function startStandInIssuer(clientId = 'stage-app-client'): Promise<StandInIssuer> {
  const { privateKey: key } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'pool-key-1';
  const jwk = { ...(await exportJWK(createPublicKey(key))), kid, alg: 'RS256', use: 'sig' };
  let fetched = 0;
  const server = createServer((request, response) => {
    if (request.url !== '/eu-west-1_Pool/.well-known/jwks.json') return void response.writeHead(404).end();
    fetched++;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/eu-west-1_Pool`;
  const claims = (more: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: issuer,
      sub: clientId,
      client_id: clientId,
      token_use: 'access',
      scope: writeScope,
      iat: now,
      exp: now + 3600,
      ...more,
    };
  };
  return {
    issuer,
    clientId,
    key,
    kid,
    claims,
    token: (more) => signJwt(claims(more), key, kid),
    jwksRequests: () => fetched,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}
