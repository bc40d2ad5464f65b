/**
 * Who may call what, over HTTP against `npm start`: its gateway enforces the
 * JWT authorizer of serverless.yml against the local issuer as API Gateway
 * does (signature, issuer, client, expiry, scopes; forged tokens are
 * test/e2e/local-authorizer.test.ts). Tokens are made as `npm run -s token`
 * makes them.
 */
import { createRequire } from 'node:module';
import { localClient, readScope, writeScope } from '../../scripts/local-issuer.js';
import { apiTimeoutMs, request, testToken, useApi } from '../support/api-process.js';
import { root } from '../support/bundle.js';
import { run } from '../support/run.js';

// INFO: the request lines, to see whom they name.
const e2e = useApi('cats_e2e_auth', { env: { POWERTOOLS_LOG_LEVEL: 'INFO' } });

const cat = { name: 'Guarded', price: 1, breed: 'e2e-auth' };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The test's cats, as the API lists them. */
async function guardedCats(): Promise<unknown[]> {
  return (await request(e2e.api.baseUrl, 'GET', '/cats?breed=e2e-auth&limit=100')).body.items;
}

/** A cat to change, made with the default (write) token. */
async function aCat(): Promise<number> {
  const created = await request(e2e.api.baseUrl, 'POST', '/cats', cat);
  expect(created.status).toBe(201);
  return created.body.id;
}

const writes = (id: number): Array<[string, string, unknown]> => [
  ['POST', '/cats', cat],
  ['POST', '/add', cat],
  ['PATCH', `/cats/${id}`, { price: 2 }],
  ['PATCH', `/edit/${id}`, { price: 3 }],
  ['DELETE', `/cats/${id}`, undefined],
  ['DELETE', `/remove/${id}`, undefined],
];

describe('a write without a valid token', () => {
  const refusals: Array<[string, Record<string, string>]> = [
    ['no token', { authorization: '' }],
    ['a malformed token', { authorization: 'Bearer not-a-jwt' }],
    ['an expired token', bearer(testToken({ expiresIn: -60 }))],
    ['a token of another issuer', bearer(testToken({ issuer: 'https://issuer.example.com' }))],
    ['a token for another audience', bearer(testToken({ audience: 'another-api' }))],
  ];

  it.each(refusals)(
    'is refused with 401 on every write route when it carries %s, and changes nothing',
    async (_what, headers) => {
      const id = await aCat();
      const before = await guardedCats();
      for (const [method, path, body] of writes(id)) {
        const reply = await request(e2e.api.baseUrl, method, path, body, headers);
        expect([method, path, reply.status]).toEqual([method, path, 401]);
        expect(reply.body.message).toEqual(expect.any(String));
      }
      expect(await guardedCats()).toEqual(before);
    },
  );

  it('is refused with 403 on every write route when the token has only cats/read', async () => {
    const id = await aCat();
    const before = await guardedCats();
    const readOnly = bearer(testToken({ scopes: [readScope] }));
    for (const [method, path, body] of writes(id)) {
      const reply = await request(e2e.api.baseUrl, method, path, body, readOnly);
      expect([method, path, reply.status]).toEqual([method, path, 403]);
    }
    expect(await guardedCats()).toEqual(before);
  });
});

describe('a write with a token that has cats/write', () => {
  it('creates (201), changes (200) and removes (204) on /cats and on the tutorial routes', async () => {
    const token = bearer(testToken({ scopes: [writeScope] }));
    for (const [create, edit, remove] of [
      ['/cats', '/cats', '/cats'],
      ['/add', '/edit', '/remove'],
    ]) {
      const created = await request(e2e.api.baseUrl, 'POST', create as string, cat, token);
      expect(created.status).toBe(201);
      const edited = await request(e2e.api.baseUrl, 'PATCH', `${edit}/${created.body.id}`, { price: 9 }, token);
      expect(edited.status).toBe(200);
      expect(edited.body.price).toBe(9);
      expect((await request(e2e.api.baseUrl, 'DELETE', `${remove}/${created.body.id}`, undefined, token)).status).toBe(
        204,
      );
    }
  });

  it("is logged with the token's sub and client_id in the request line", async () => {
    // The local client is the authorizer's one audience, as a stage's app client is.
    const token = bearer(testToken({ client: localClient }));
    const created = await request(e2e.api.baseUrl, 'POST', '/cats', cat, token);
    expect(created.status).toBe(201);
    const id = created.headers['x-request-id'] ?? '';
    expect(await e2e.api.lineWith(`[${id}]`)).toMatch(
      new RegExp(`POST /cats -> 201 in \\d+ ms {2}\\[[^\\]]+\\] {2}by ${localClient}`),
    );
  });
});

describe('reads and the documentation', () => {
  it('answer 200 without a token', async () => {
    const id = await aCat();
    for (const path of ['/cats', `/cats/${id}`, '/', '/openapi.json', '/docs']) {
      const reply = await request(e2e.api.baseUrl, 'GET', path, undefined, { authorization: '' });
      expect([path, reply.status]).toEqual([path, 200]);
    }
  });

  it('name nobody in the request line, even when a token is sent (no authorizer checked it)', async () => {
    const token = bearer(testToken({ client: 'e2e-reader-client' }));
    const reply = await request(e2e.api.baseUrl, 'GET', '/cats?breed=e2e-reader', undefined, token);
    expect(reply.status).toBe(200);
    // This request's own line, not one an earlier GET wrote.
    const line = await e2e.api.lineWith(`[${reply.headers['x-request-id']}]`);
    expect(line).toMatch(/GET \/cats -> 200 in \d+ ms {2}\[[^\]]+\]/);
    expect(line).not.toContain(' by ');
    expect(e2e.api.output()).not.toContain('e2e-reader-client');
  });

  it('include a document that says which scope each route needs', async () => {
    const { body } = await request(e2e.api.baseUrl, 'GET', '/openapi.json');
    expect(body.components.securitySchemes.oauth2).toMatchObject({
      type: 'oauth2',
      flows: { clientCredentials: { tokenUrl: '/oauth2/token' } },
    });
    expect(body.paths['/cats'].post.security).toEqual([{ oauth2: ['cats/write'] }]);
    expect(body.paths['/remove/{id}'].delete.security).toEqual([{ oauth2: ['cats/write'] }]);
    expect(body.paths['/cats'].get.security).toEqual([]);
    expect(body.paths['/docs'].get.security).toEqual([]);
  });
});

describe('npm start -- --open', () => {
  const opened = useApi('cats_e2e_open', { args: ['--open'] });

  it(
    'lets writes through without a token, and says so loudly',
    async () => {
      const open = opened.api;
      expect(open.output()).toContain('!!! OPEN (--open): no route checks a token');
      const created = await request(open.baseUrl, 'POST', '/add', cat, { authorization: '' });
      expect(created.status).toBe(201);
      const { body } = await request(open.baseUrl, 'GET', '/openapi.json');
      expect(body.paths['/cats'].post.security).toEqual([]);
    },
    apiTimeoutMs,
  );
});

describe('npm start -- --param=authReads=true', () => {
  const reads = useApi('cats_e2e_reads', { args: ['--param=authReads=true'] });

  it(
    'closes the reads as a stage would: 401 without a token, 403 with only cats/write, 200 with cats/read; the docs stay open',
    async () => {
      const closed = reads.api;
      expect(closed.output()).toContain('reads one with cats/read');
      const none = { authorization: '' };
      // The document of this API says reads need cats/read, so request() checks these answers against it.
      const { body } = await request(closed.baseUrl, 'GET', '/openapi.json', undefined, none);
      expect(body.paths['/cats'].get.security).toEqual([{ oauth2: ['cats/read'] }]);
      expect((await request(closed.baseUrl, 'GET', '/docs', undefined, none)).status).toBe(200);
      expect((await fetch(`${closed.baseUrl}/cats`)).status).toBe(401);
      expect((await fetch(`${closed.baseUrl}/`, { headers: bearer(testToken({ scopes: [writeScope] })) })).status).toBe(
        403,
      );
      const read = await fetch(`${closed.baseUrl}/cats`, { headers: bearer(testToken({ scopes: [readScope] })) });
      expect(read.status).toBe(200);
    },
    apiTimeoutMs,
  );
});

describe('serverless-offline started without npm start', () => {
  it(
    'refuses to run without --ignoreJWTSignature, which alone makes it check tokens',
    async () => {
      const sls = createRequire(import.meta.url).resolve('serverless/bin/serverless.js');
      // Not spawnSync: this file's API keeps its keep-alive connections (test/support/run.ts).
      const result = await run(process.execPath, [sls, 'offline', 'start', '--httpPort', '1', '--lambdaPort', '2'], {
        cwd: root,
        env: { ...process.env, NODE_OPTIONS: '' },
        // Only a hang exceeds it: sls took over 60 s to start at a load average of 60 on 2 cores.
        timeoutMs: apiTimeoutMs,
      });
      expect(result.status).not.toBe(0);
      expect(`${result.stdout}${result.stderr}`).toContain('checks JWT authorizers only with --ignoreJWTSignature');
    },
    apiTimeoutMs,
  );
});
