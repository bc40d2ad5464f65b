/**
 * `npm start -- --issuer <url> --audience <client id>`, what `--stage`
 * resolves to from the stack's outputs: the API checks that issuer's tokens,
 * through its gateway and serverless-offline alike, as the stage's
 * authorizer does. A stand-in for the stage's Cognito pool serves its JWKS on
 * localhost.
 */
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK } from 'jose';
import { removeCluster } from '../../scripts/local-db.js';
import { signJwt, writeScope } from '../../scripts/local-issuer.js';
import { type ApiProcess, apiTimeoutMs, request, startApi } from '../support/api-process.js';

const { privateKey: poolKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const poolKid = 'pool-key-1';
const clientId = 'stage-app-client';
let pool: Server;
let issuer: string;
let dataDir: string;
let api: ApiProcess;

beforeAll(async () => {
  const jwk = { ...(await exportJWK(createPublicKey(poolKey))), kid: poolKid, alg: 'RS256', use: 'sig' };
  pool = createServer((incoming, response) => {
    if (incoming.url !== '/eu-west-1_Pool/.well-known/jwks.json') return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((listening) => pool.listen(0, '127.0.0.1', listening));
  issuer = `http://127.0.0.1:${(pool.address() as AddressInfo).port}/eu-west-1_Pool`;
  dataDir = await mkdtemp(join(tmpdir(), 'cats-e2e-stage-issuer-'));
  api = await startApi({
    dataDir,
    args: ['--issuer', issuer, '--audience', clientId],
    env: { POWERTOOLS_LOG_LEVEL: 'INFO' },
  });
  expect(api.output()).toContain('[cats-api] Ready:');
}, apiTimeoutMs);

afterAll(async () => {
  await api?.stop();
  await removeCluster(join(dataDir, 'postgres'));
  await rm(dataDir, { recursive: true, force: true });
  await new Promise((closed) => pool?.close(closed));
}, apiTimeoutMs);

const cat = { name: 'Pooled', price: 1, breed: 'e2e-stage-issuer' };
const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const poolClaims = (more: Record<string, unknown> = {}) => {
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
const poolToken = (more: Record<string, unknown> = {}) => signJwt(poolClaims(more), poolKey, poolKid);

it('says at start which issuer and client it checks, and that local tokens are refused', () => {
  expect(api.output()).toContain(
    `signature by the keys at ${issuer}/.well-known/jwks.json, issuer ${issuer}, client ${clientId}`,
  );
  expect(api.output()).toContain('Local tokens are refused and the local token endpoint (POST /oauth2/token) is off');
});

it("writes with the issuer's token, and the request line names its client", async () => {
  const created = await request(api.baseUrl, 'POST', '/cats', cat, { authorization: `Bearer ${poolToken()}` });
  expect(created.status).toBe(201);
  expect(await api.lineWith(created.headers['x-request-id'] as string)).toContain(clientId);
});

it.each([
  ['a local token (npm run -s token)', () => api.token],
  ["the issuer's claims and kid signed by another key", () => signJwt(poolClaims(), otherKey, poolKid)],
  ['another client_id', () => poolToken({ client_id: 'another-client' })],
  ['no exp', () => poolToken({ exp: undefined })],
])('refuses a write with %s, and nothing is written', async (_what, token) => {
  const refused = await request(
    api.baseUrl,
    'POST',
    '/cats',
    { ...cat, name: 'Refused' },
    { authorization: `Bearer ${token()}` },
  );
  expect(refused.status).toBe(401);
  const stored = await request(api.baseUrl, 'GET', `/cats?breed=${cat.breed}&limit=100`);
  expect(stored.body.items.map((item: { name: string }) => item.name)).not.toContain('Refused');
});

it('says that the local token endpoint is off', async () => {
  const answer = await request(api.baseUrl, 'POST', '/oauth2/token', undefined, {
    authorization: `Basic ${Buffer.from('local-developer:local-developer-secret').toString('base64')}`,
  });
  expect(answer.status).toBe(404);
  expect(answer.body.message).toContain(`The local token endpoint is off: npm start checks tokens of ${issuer}`);
});
