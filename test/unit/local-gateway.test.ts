/**
 * npm start's gateway authorizes as API Gateway's JWT authorizer does
 * (scripts/local-gateway.ts), with jose: every token below is one that
 * serverless-offline alone let through or that API Gateway refuses.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet } from 'jose';
import { authorize, localJwks, Refusal, routeScopes } from '../../scripts/local-gateway.js';
import { localClient, localIssuer, localToken, readScope, signJwt, writeScope } from '../../scripts/local-issuer.js';

const { privateKey: key } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
let keys: ReturnType<typeof createLocalJWKSet>;
beforeAll(async () => {
  keys = createLocalJWKSet(await localJwks(key));
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

async function refusal(token: string, scopes = [writeScope]): Promise<Refusal> {
  try {
    await authorize(`Bearer ${token}`, scopes, keys, now);
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
