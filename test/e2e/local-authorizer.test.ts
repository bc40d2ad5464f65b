/**
 * npm start answers as API Gateway would, over HTTP: its gateway
 * (scripts/local-gateway.ts) checks a token as API Gateway's JWT authorizer
 * does, signature included, never lets a header name the caller, serves the
 * local token endpoint; a write without Content-Type and a CORS preflight
 * from an origin not allowed get the deployed answers.
 */
import { generateKeyPairSync } from 'node:crypto';
import { localClient, localClientSecret, localIssuer, signJwt, writeScope } from '../../scripts/local-issuer.js';
import { request, testIssuerKey, useApi } from '../support/api-process.js';

// INFO: the request lines, to see whom they name.
const e2e = useApi('cats_e2e_local_authorizer', { env: { POWERTOOLS_LOG_LEVEL: 'INFO' } });
const cat = { name: 'Gatekept', price: 1, breed: 'e2e-local-authorizer' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function gatekeptCats(): Promise<unknown[]> {
  return (await request(e2e.api.baseUrl, 'GET', `/cats?breed=${cat.breed}&limit=100`)).body.items;
}

/** Waits for the request line of this request id (or a generous deadline that only a hang reaches). */
async function requestLine(requestId: string): Promise<string> {
  const deadline = Date.now() + 30000;
  for (;;) {
    const line = e2e.api
      .output()
      .split('\n')
      .find((text) => text.includes(requestId));
    if (line || Date.now() > deadline) return line ?? '';
    await new Promise((done) => setTimeout(done, 50));
  }
}

describe('a write through npm start', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (more: Record<string, unknown> = {}) => ({
    iss: localIssuer,
    sub: localClient,
    client_id: localClient,
    token_use: 'access',
    scope: writeScope,
    iat: now(),
    exp: now() + 3600,
    ...more,
  });
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const forged: Array<[string, number, () => string]> = [
    [
      'a signature by another key',
      401,
      () => signJwt(claims(), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
    ],
    ['alg none', 401, () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`],
    ['no exp', 401, () => signJwt({ ...claims(), exp: undefined }, testIssuerKey())],
    ['an exp in the past', 401, () => signJwt(claims({ exp: now() - 60 }), testIssuerKey())],
    ['an nbf in the future', 401, () => signJwt(claims({ nbf: now() + 600 }), testIssuerKey())],
    ['an iat in the future', 401, () => signJwt(claims({ iat: now() + 600 }), testIssuerKey())],
    ['another issuer', 401, () => signJwt(claims({ iss: 'https://issuer.example.com' }), testIssuerKey())],
    ['another client_id', 401, () => signJwt(claims({ client_id: 'someone-else' }), testIssuerKey())],
    ['an unknown kid', 401, () => signJwt(claims(), testIssuerKey(), 'another-kid')],
    ['no cats/write scope', 403, () => signJwt(claims({ scope: 'cats/read' }), testIssuerKey())],
  ];

  it.each(forged)('with a token with %s is refused with %i and changes nothing', async (_what, status, token) => {
    const before = await gatekeptCats();
    const reply = await request(e2e.api.baseUrl, 'POST', '/cats', cat, bearer(token()));
    expect(reply.status).toBe(status);
    expect(reply.body).toEqual({ message: status === 401 ? 'Unauthorized' : 'Forbidden' });
    expect(await gatekeptCats()).toEqual(before);
  });

  it('never lets sls-offline-authorizer-override name the caller, nor pass without a token', async () => {
    const override = JSON.stringify({
      jwt: { claims: { sub: 'mallory', client_id: 'mallory' }, scopes: [writeScope] },
    });
    const refused = await request(e2e.api.baseUrl, 'POST', '/cats', cat, {
      authorization: '',
      'sls-offline-authorizer-override': override,
    });
    expect(refused.status).toBe(401);
    const created = await request(e2e.api.baseUrl, 'POST', '/cats', cat, {
      'sls-offline-authorizer-override': override,
    });
    expect(created.status).toBe(201);
    const line = await requestLine(created.headers['x-request-id'] as string);
    expect(line).toContain(`by ${localClient}`);
    expect(e2e.api.output()).not.toContain('mallory');
  });

  it('gets a token from POST /oauth2/token with the local client credentials, and none with a wrong secret', async () => {
    const basic = (secret: string) => `Basic ${Buffer.from(`${localClient}:${secret}`).toString('base64')}`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const wrong = await fetch(`${e2e.api.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: { ...form, authorization: basic('guess') },
      body: 'grant_type=client_credentials',
    });
    expect(wrong.status).toBe(401);
    const granted = await fetch(`${e2e.api.baseUrl}/oauth2/token`, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: localClient,
        client_secret: localClientSecret,
        scope: writeScope,
      }).toString(),
    });
    expect(granted.status).toBe(200);
    const { access_token: token, token_type: type } = (await granted.json()) as Record<string, string>;
    expect(type).toBe('Bearer');
    expect((await request(e2e.api.baseUrl, 'POST', '/cats', cat, bearer(token as string))).status).toBe(201);
  });

  it('without Content-Type is a 415 naming content-type, as deployed, and changes nothing', async () => {
    const before = await gatekeptCats();
    const response = await fetch(`${e2e.api.baseUrl}/cats`, {
      method: 'POST',
      headers: { authorization: `Bearer ${e2e.api.token}` },
      body: Buffer.from(JSON.stringify(cat)),
    });
    expect(response.status).toBe(415);
    const problem = (await response.json()) as { detail: string; errors: { field: string }[] };
    expect(problem.detail).toContain('got none');
    expect(problem.errors.map((error) => error.field)).toEqual(['content-type']);
    expect(await gatekeptCats()).toEqual(before);
  });
});

describe('HEAD through npm start', () => {
  it('on a GET route gets what API Gateway gives it: no HEAD route, so the catch-all 405 with Allow: GET', async () => {
    for (const path of ['/cats', '/openapi.json']) {
      const response = await fetch(`${e2e.api.baseUrl}${path}`, { method: 'HEAD' });
      expect([path, response.status, response.headers.get('allow')]).toEqual([
        path,
        405,
        expect.stringContaining('GET'),
      ]);
      expect(await response.text()).toBe('');
    }
  });
});

describe('CORS through npm start with no corsAllowedOrigins', () => {
  it('gives a preflight, and a request, from another origin no Access-Control-Allow-Origin', async () => {
    const preflight = await fetch(`${e2e.api.baseUrl}/cats`, {
      method: 'OPTIONS',
      headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const read = await fetch(`${e2e.api.baseUrl}/cats`, { headers: { origin: 'https://elsewhere.example' } });
    expect(read.status).toBe(200);
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });
});
