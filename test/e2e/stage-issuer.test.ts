/**
 * `npm start -- --issuer <url> --audience <client id>`, what `--stage`
 * resolves to from the stack's outputs: the API checks that issuer's tokens,
 * through its gateway and serverless-offline alike, as the stage's
 * authorizer does. A stand-in for the stage's Cognito pool serves its JWKS on
 * localhost.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { signJwt } from '../../scripts/local-issuer.js';
import { request, useApi } from '../support/api-process.js';
import { root } from '../support/bundle.js';
import { run } from '../support/run.js';
import { type StandInIssuer, startStandInIssuer } from '../support/stand-in-issuer.js';

const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
let pool: StandInIssuer;

beforeAll(async () => {
  pool = await startStandInIssuer();
});

const e2e = useApi('cats_e2e_stage_issuer', () => ({
  args: ['--issuer', pool.issuer, '--audience', pool.clientId],
  env: { POWERTOOLS_LOG_LEVEL: 'INFO' },
}));

afterAll(() => pool?.close());

const cat = { name: 'Pooled', price: 1, breed: 'e2e-stage-issuer' };

it('says at start which issuer and client it checks, and that local tokens are refused', () => {
  expect(e2e.api.output()).toContain(
    `signature by the keys at ${pool.issuer}/.well-known/jwks.json, issuer ${pool.issuer}, client ${pool.clientId}`,
  );
  expect(e2e.api.output()).toContain(
    'Local tokens are refused and the local token endpoint (POST /oauth2/token) is off',
  );
});

it("writes with the issuer's token, and the request line names its client", async () => {
  const created = await request(e2e.api.baseUrl, 'POST', '/cats', cat, { authorization: `Bearer ${pool.token()}` });
  expect(created.status).toBe(201);
  expect(await e2e.api.lineWith(created.headers['x-request-id'] as string)).toContain(pool.clientId);
});

it.each([
  ['a local token (npm run -s token)', () => e2e.api.token],
  ["the issuer's claims and kid signed by another key", () => signJwt(pool.claims(), otherKey, pool.kid)],
  ['another client_id', () => pool.token({ client_id: 'another-client' })],
  ['no exp', () => pool.token({ exp: undefined })],
])('refuses a write with %s, and nothing is written', async (_what, token) => {
  const refused = await request(
    e2e.api.baseUrl,
    'POST',
    '/cats',
    { ...cat, name: 'Refused' },
    { authorization: `Bearer ${token()}` },
  );
  expect(refused.status).toBe(401);
  const stored = await request(e2e.api.baseUrl, 'GET', `/cats?breed=${cat.breed}&limit=100`);
  expect(stored.body.items.map((item: { name: string }) => item.name)).not.toContain('Refused');
});

it("serves a document whose security scheme names the issuer's discovery document, not the local token endpoint", async () => {
  const document = await request(e2e.api.baseUrl, 'GET', '/openapi.json');
  const schemes = Object.values(document.body.components.securitySchemes) as Record<string, unknown>[];
  expect(schemes).toEqual([
    expect.objectContaining({
      type: 'openIdConnect',
      openIdConnectUrl: `${pool.issuer}/.well-known/openid-configuration`,
    }),
  ]);
  expect(JSON.stringify(document.body)).not.toContain('/oauth2/token');
});

it('says that the local token endpoint is off', async () => {
  const answer = await request(e2e.api.baseUrl, 'POST', '/oauth2/token', undefined, {
    authorization: `Basic ${Buffer.from('local-developer:local-developer-secret').toString('base64')}`,
  });
  expect(answer.status).toBe(404);
  expect(answer.body.message).toContain(`The local token endpoint is off: npm start checks tokens of ${pool.issuer}`);
});

it.each([
  [['--issuer', 'https://issuer.example.com'], /--issuer and --audience go together/],
  [['--stage', 'dev', '--issuer', 'https://issuer.example.com', '--audience', 'a'], /--stage reads the issuer/],
  [['--region', 'eu-west-1'], /--region goes with --stage/],
  [['--open', '--stage', 'dev'], /--open checks no token at all/],
  [['--param=authIssuer=https://issuer.example.com'], /npm start takes --issuer <url> --audience/],
  [['--stage'], /--stage needs a value/],
])('npm start %j stops before starting anything, with a sentence', async (args, message) => {
  // Not spawnSync: the API's keep-alive connection must not go stale unseen meanwhile (test/support/run.ts).
  const result = await run(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...args], {
    cwd: root,
    env: { ...process.env, CATS_DATA_DIR: join(e2e.dataDir, 'refused'), NODE_OPTIONS: '' },
    timeoutMs: 5 * 60 * 1000, // only a hang exceeds it
  });
  expect(result.status).toBe(1);
  expect(result.stderr).toMatch(message);
});
