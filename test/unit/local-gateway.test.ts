/**
 * npm start's gateway authorizes as API Gateway's JWT authorizer does
 * (scripts/local-gateway.ts), with jose: every token below is one that
 * serverless-offline alone let through or that API Gateway refuses.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import {
  authorize,
  localJwks,
  localVerifier,
  Refusal,
  remoteVerifier,
  routeScopes,
  startLocalGateway,
  type Verifier,
} from '../../scripts/local-gateway.js';
import { localClient, localIssuer, localToken, readScope, signJwt, writeScope } from '../../scripts/local-issuer.js';
import { type StandInIssuer, startStandInIssuer } from '../support/stand-in-issuer.js';

const { privateKey: key } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
let keys: Verifier;
beforeAll(async () => {
  keys = localVerifier(await localJwks(key));
});

const now = Math.floor(Date.now() / 1000);
const claims = (more: Record<string, unknown> = {}) => ({
  iss: localIssuer,
  sub: localClient,
  client_id: localClient,
  token_use: 'access',
  scope: `${readScope} ${writeScope}`,
  iat: now,
  exp: now + 3600,
  ...more,
});
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function refusal(token: string, scopes = [writeScope], verifier = keys): Promise<Refusal> {
  try {
    await authorize(`Bearer ${token}`, scopes, verifier, now);
  } catch (error) {
    if (error instanceof Refusal) return error;
    throw error;
  }
  throw new Error('the token was accepted');
}

it('accepts a local token, shaped like a Cognito client-credentials access token, for the scope it has', async () => {
  const accepted = await authorize(`Bearer ${localToken(key, { now })}`, [writeScope], keys, now);
  expect(accepted).toMatchObject({ client_id: localClient, token_use: 'access' });
  expect(accepted).not.toHaveProperty('aud');
});

it.each([
  ['a signature by another key', () => signJwt(claims(), otherKey)],
  ['alg none and no signature', () => `${b64({ alg: 'none', typ: 'JWT', kid: 'cats-api-local' })}.${b64(claims())}.`],
  [
    'HS256 signed with the public key',
    () => `${b64({ alg: 'HS256', typ: 'JWT', kid: 'cats-api-local' })}.${b64(claims())}.AAAA`,
  ],
  ['no exp', () => signJwt({ ...claims(), exp: undefined }, key)],
  ['an exp in the past', () => signJwt(claims({ exp: now - 1 }), key)],
  ['an nbf in the future', () => signJwt(claims({ nbf: now + 600 }), key)],
  ['an iat in the future', () => signJwt(claims({ iat: now + 600 }), key)],
  ['another issuer', () => signJwt(claims({ iss: 'https://issuer.example.com' }), key)],
  ['another client_id and no aud', () => signJwt(claims({ client_id: 'someone-else' }), key)],
  ['an aud of another API, whatever its client_id', () => signJwt(claims({ aud: 'another-api' }), key)],
  ['a kid the issuer does not have', () => signJwt(claims(), key, 'another-kid')],
  ['garbage', () => 'not-a-jwt'],
])('refuses with 401 a token with %s', async (_what, token) => {
  expect((await refusal(token())).status).toBe(401);
});

it('refuses with 401 a request without a bearer token', async () => {
  await expect(authorize(undefined, [writeScope], keys, now)).rejects.toMatchObject({ status: 401 });
  await expect(authorize(`Basic ${b64('a:b')}`, [writeScope], keys, now)).rejects.toMatchObject({ status: 401 });
});

it.each([
  ['only cats/read', signJwt(claims({ scope: readScope }), key)],
  ['no scope claim', signJwt(claims({ scope: undefined }), key)],
])('refuses with 403 a write with a valid token that has %s', async (_what, token) => {
  expect((await refusal(token)).status).toBe(403);
});

it('knows the scope each route needs from the document: writes need cats/write, reads nothing unless closed', () => {
  const writes = routeScopes('writes');
  expect(writes('POST', '/cats')).toEqual([writeScope]);
  expect(writes('DELETE', '/remove/7')).toEqual([writeScope]);
  expect(writes('GET', '/cats/7')).toEqual([]);
  expect(writes('GET', '/nowhere')).toBeUndefined();
  expect(routeScopes('reads-and-writes')('GET', '/cats')).toEqual([readScope]);
  expect(routeScopes('reads-and-writes')('GET', '/docs')).toEqual([]);
});

describe('with the tokens of another issuer (npm start --stage, --issuer and --audience)', () => {
  let pool: StandInIssuer;
  let issuer: string;
  let verifier: Verifier;
  beforeAll(async () => {
    pool = await startStandInIssuer();
    issuer = pool.issuer;
    verifier = remoteVerifier({ url: issuer, audience: pool.clientId });
  });
  afterAll(() => pool.close());

  // At the test's clock (authorize's `now`), with the pool's claims.
  const poolClaims = (more: Record<string, unknown> = {}) => pool.claims({ iat: now, exp: now + 3600, ...more });

  it("accepts a Cognito-shaped access token signed by the issuer's key, fetched from its JWKS", async () => {
    const accepted = await authorize(
      `Bearer ${signJwt(poolClaims(), pool.key, pool.kid)}`,
      [writeScope],
      verifier,
      now,
    );
    expect(accepted).toMatchObject({ iss: issuer, client_id: pool.clientId });
    expect(pool.jwksRequests()).toBeGreaterThan(0);
  });

  it.each([
    [
      "signed by the local issuer's key, with the issuer's kid and claims",
      () => signJwt(poolClaims(), key, pool.kid),
      /signature verification failed/,
    ],
    ['of the local issuer (npm run -s token)', () => localToken(key, { now }), /no applicable key/],
    ['of another issuer', () => signJwt(poolClaims({ iss: `${issuer}x` }), pool.key, pool.kid), /"iss"/],
    [
      'for another client_id',
      () => signJwt(poolClaims({ client_id: 'another-client' }), pool.key, pool.kid),
      /client_id/,
    ],
    ['without exp', () => signJwt(poolClaims({ exp: undefined }), pool.key, pool.kid), /"exp"/],
  ])('refuses with 401 a token %s', async (_what, token, reason) => {
    const refused = await refusal(token(), [writeScope], verifier);
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(reason);
  });

  it('refuses with 403 a token of the issuer without the write scope', async () => {
    const token = signJwt(poolClaims({ scope: readScope }), pool.key, pool.kid);
    expect((await refusal(token, [writeScope], verifier)).status).toBe(403);
  });

  it("says that the issuer's keys could not be fetched when its JWKS is not there", async () => {
    const nowhere = remoteVerifier({ url: `${issuer}/missing`, audience: pool.clientId });
    const token = signJwt(poolClaims({ iss: `${issuer}/missing` }), pool.key, pool.kid);
    const refused = await refusal(token, [writeScope], nowhere);
    expect(refused.status).toBe(401);
    expect(refused.message).toMatch(/could not get the issuer's keys from http:.*\/missing\/\.well-known\/jwks\.json/);
  });

  it('forwards a write with such a token, refuses a local one, and turns the local token endpoint off', async () => {
    const seen: string[] = [];
    const target = createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      response.writeHead(201, { 'content-type': 'application/json' }).end('{}');
    });
    await new Promise<void>((listening) => target.listen(0, '127.0.0.1', listening));
    const gateway = await startLocalGateway(0, {
      target: { host: '127.0.0.1', port: (target.address() as AddressInfo).port },
      issuer: { url: issuer, audience: pool.clientId },
      auth: 'writes',
      corsAllowedOrigins: [],
      catchAll: { port: 1, functionName: 'unused' },
    });
    const base = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}`;
    try {
      const write = (token: string) =>
        fetch(`${base}/cats`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: '{}',
        });
      expect((await write(localToken(key))).status).toBe(401);
      expect(seen).toEqual([]);
      expect((await write(signJwt(poolClaims(), pool.key, pool.kid))).status).toBe(201);
      expect(seen).toEqual(['POST /cats']);

      const tokenEndpoint = await fetch(`${base}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&client_id=local-developer&client_secret=local-developer-secret',
      });
      expect(tokenEndpoint.status).toBe(404);
      expect(((await tokenEndpoint.json()) as { message: string }).message).toContain(
        `The local token endpoint is off: npm start checks tokens of ${issuer}`,
      );
    } finally {
      await new Promise((closed) => gateway.close(closed));
      await new Promise((closed) => target.close(closed));
    }
  });
});

describe("serverless-offline's own claim check behind the gateway", () => {
  const PerFunction = createRequire(import.meta.url)('../../plugins/serverless-per-function.cjs');
  function offlineAuthorizer(auth: { issuer: string; audience: string }) {
    const authorizers = { cats: { type: 'jwt', issuerUrl: 'deployed', audience: ['deployed'] } };
    const serverless = {
      configSchemaHandler: { defineFunctionProperties: () => {} },
      processedInput: { commands: ['offline', 'start'] },
      service: {
        provider: { httpApi: { authorizers } },
        custom: {
          auth: {
            authorizer: 'cats',
            writeScope,
            readScope,
            reads: 'false',
            open: 'false',
            ...auth,
            local: { issuer: localIssuer, audience: localClient },
          },
        },
        getAllFunctions: () => [],
      },
    };
    new PerFunction(serverless, { ignoreJWTSignature: true }).attachAuthorizer();
    return authorizers.cats;
  }

  it('expects the local issuer, or the issuer npm start --stage passes as authIssuer and authAudience', () => {
    expect(offlineAuthorizer({ issuer: '', audience: '' })).toMatchObject({
      issuerUrl: localIssuer,
      audience: [localClient],
    });
    const pool = 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Pool';
    expect(offlineAuthorizer({ issuer: pool, audience: 'app-client' })).toMatchObject({
      issuerUrl: pool,
      audience: ['app-client'],
    });
  });
});
