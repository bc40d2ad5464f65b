/**
 * End to end: `npm start`'s script runs serverless-offline with the bundled
 * functions, and we use the API over HTTP like the tutorial's reader would.
 * Without DATABASE_URL in the environment the script starts its own embedded
 * PostgreSQL (in a temporary folder); with it, a scratch database on that server.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { handler as createCat } from '../../functions/create-cat.js';
import { readApplicationUser } from '../../lib/config.js';
import { closeDatabase } from '../../lib/db/index.js';
import { apiTimeoutMs, request, useApi } from '../support/api-process.js';
import { catsTable, expectProblem } from '../support/assertions.js';
import { call, httpEvent } from '../support/lambda.js';

const external = process.env.CATS_TEST_EXTERNAL === '1';
const e2e = useApi('cats_e2e');

afterAll(closeDatabase);

describe("the tutorial's flow, verbatim routes", () => {
  it('adds a cat, lists it, edits its price and removes it', async () => {
    const added = await request(e2e.api.baseUrl, 'POST', '/add', {
      name: 'catty mcCatFace',
      price: 5000,
      breed: 'bengal',
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ name: 'catty mcCatFace', price: 5000, breed: 'bengal' });
    const id = added.body.id;

    // Newest first: the cat is on the first page however many other tests made before.
    const listed = await request(e2e.api.baseUrl, 'GET', '/?order=desc');
    expect(listed.status).toBe(200);
    expect(Array.isArray(listed.body)).toBe(true);
    expect(listed.body).toContainEqual(added.body);

    const edited = await request(e2e.api.baseUrl, 'PATCH', `/edit/${id}`, { price: 4000 });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ id, price: 4000, name: 'catty mcCatFace' });

    const removed = await request(e2e.api.baseUrl, 'DELETE', `/remove/${id}`);
    expect(removed.status).toBe(204);
    expect((await request(e2e.api.baseUrl, 'GET', '/?order=desc')).body).not.toContainEqual(
      expect.objectContaining({ id }),
    );
  });
});

describe('the /cats routes over HTTP', () => {
  it('creates with a Location that leads to the cat, updates, pages and deletes it', async () => {
    const created = await request(e2e.api.baseUrl, 'POST', '/cats', { name: 'Tom', price: 100, breed: 'e2e-tabby' });
    expect(created.status).toBe(201);
    expect(created.headers['content-type']).toMatch(/^application\/json/);
    const fetched = await request(e2e.api.baseUrl, 'GET', created.headers.location ?? '');
    expect(fetched.body).toEqual(created.body);

    const patched = await request(e2e.api.baseUrl, 'PATCH', `/cats/${created.body.id}`, { name: "Tom O'Malley" });
    expect(patched.body).toMatchObject({ name: "Tom O'Malley", price: 100 });

    await request(e2e.api.baseUrl, 'POST', '/cats', { name: 'Jerry', price: 1, breed: 'e2e-tabby' });
    const page1 = await request(e2e.api.baseUrl, 'GET', '/cats?breed=e2e-tabby&limit=1');
    expect(page1.body.items).toHaveLength(1);
    const page2 = await request(
      e2e.api.baseUrl,
      'GET',
      `/cats?breed=e2e-tabby&limit=1&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items[0].name).toBe('Jerry');
    expect(page2.body.nextCursor).toBeNull();

    expect((await request(e2e.api.baseUrl, 'DELETE', `/cats/${created.body.id}`)).status).toBe(204);
    expectProblem(await request(e2e.api.baseUrl, 'GET', `/cats/${created.body.id}`), 404);
  });

  it('follows the Link header of GET / to the next page', async () => {
    for (const name of ['a', 'b'])
      await request(e2e.api.baseUrl, 'POST', '/add', { name, price: 1, breed: 'e2e-link' });
    const first = await request(e2e.api.baseUrl, 'GET', '/?breed=e2e-link&limit=1');
    const link = /^<([^>]+)>; rel="next"$/.exec(first.headers.link ?? '');
    expect(link).not.toBeNull();
    const second = await request(e2e.api.baseUrl, 'GET', link?.[1] ?? '');
    expect(second.body.map((c: { name: string }) => c.name)).toEqual(['b']);
  });
});

describe('the two roles, as deployed', () => {
  it("migrates as the database's owner and serves as the application role, which owns nothing", async () => {
    expect((await request(e2e.api.baseUrl, 'GET', '/cats?limit=1')).status).toBe(200);
    const owner = await e2e.ownerClient();
    // The serving containers keep their connection open (DB_IDLE_TIMEOUT_MS) after answering.
    const serving = await owner.query<{ usename: string }>(
      "SELECT DISTINCT usename FROM pg_stat_activity WHERE application_name = 'cats-api' AND datname = current_database()",
    );
    expect(serving.rows).toEqual([{ usename: readApplicationUser() }]);
    const tables = await owner.query<{ tableowner: string }>(
      "SELECT DISTINCT tableowner FROM pg_tables WHERE tablename IN ('cats', 'idempotency_keys', 'kysely_migration')",
    );
    expect(tables.rows).toEqual([{ tableowner: new URL(e2e.ownerUrl).username }]);
    expect(e2e.api.output()).toMatch(new RegExp(`The API connects as postgres://${readApplicationUser()}[:@]`));
  });
});

describe('the OpenAPI document over HTTP', () => {
  it('is served at /openapi.json', async () => {
    const reply = await request(e2e.api.baseUrl, 'GET', '/openapi.json');
    expect(reply.status).toBe(200);
    expect(reply.body.paths['/cats/{id}']).toBeDefined();
  });
});

describe('response headers over HTTP', () => {
  it('sends security headers and an x-request-id matching the problem body', async () => {
    const reply = await request(e2e.api.baseUrl, 'GET', '/cats/2147483640');
    expect(reply.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'strict-transport-security': expect.stringMatching(/^max-age=\d+/),
      'x-request-id': reply.body.requestId,
    });
  });
});

describe('conditional requests over HTTP', () => {
  it('answers 304 to a matching If-None-Match and 412 to a stale If-Match', async () => {
    const created = await request(e2e.api.baseUrl, 'POST', '/cats', { name: 'Etag', price: 1, breed: 'e2e-etag' });
    expect(created.headers.etag).toBe('"1"');
    const cached = await request(e2e.api.baseUrl, 'GET', `/cats/${created.body.id}`, undefined, {
      'if-none-match': '"1"',
    });
    expect(cached.status).toBe(304);
    await request(e2e.api.baseUrl, 'PATCH', `/cats/${created.body.id}`, { price: 2 }, { 'if-match': '"1"' });
    const stale = await request(
      e2e.api.baseUrl,
      'PATCH',
      `/cats/${created.body.id}`,
      { price: 3 },
      { 'if-match': '"1"' },
    );
    expectProblem(stale, 412, 'if-match');
    expect(stale.headers.etag).toBe('"2"');
  });
});

describe('bad input over HTTP', () => {
  const cases: Array<[string, string, string, unknown, Record<string, string>, number, string | undefined]> = [
    ['malformed JSON', 'POST', '/cats', '{"name":', {}, 400, 'body'],
    ['a text/plain body', 'POST', '/add', 'name=Tom', { 'content-type': 'text/plain' }, 415, 'content-type'],
    ['a string price', 'POST', '/add', { name: 'Tom', price: '5000', breed: 'bengal' }, {}, 400, 'price'],
    ['an id in the body', 'POST', '/cats', { id: 1, name: 'Tom', price: 1, breed: 'x' }, {}, 400, 'id'],
    ['an empty PATCH', 'PATCH', '/edit/1', {}, {}, 400, 'body'],
    ['a non-numeric id', 'DELETE', '/remove/abc', undefined, {}, 400, 'id'],
    ['a limit of 1000', 'GET', '/cats?limit=1000', undefined, {}, 400, 'limit'],
    ['a forged cursor', 'GET', '/cats?cursor=eyJ2IjoxfQ', undefined, {}, 400, 'cursor'],
    ['an unknown id', 'GET', '/cats/2147483647', undefined, {}, 404, undefined],
  ];

  it.each(cases)(
    'answers %s with a problem document and changes nothing',
    async (_name, method, path, body, headers, status, field) => {
      const before = await catsTable(e2e.ownerUrl);
      const reply = await request(e2e.api.baseUrl, method, path, body, headers);
      expectProblem(reply, status, field);
      expect(await catsTable(e2e.ownerUrl)).toEqual(before);
    },
  );
});

describe('JSON bodies that are not objects, over HTTP', () => {
  // serverless-offline parses a JSON body itself, and hands a falsy value
  // (false, 0, null) over parsed, and a JSON string without its quotes; Lambda
  // hands the text. Where serverless-offline keeps the information, the answer
  // is the very one Lambda gives; where it loses it (null reads as no body,
  // "str" as the text str), the same kind of answer.
  it.each([
    ['false', true],
    ['0', true],
    ['true', true],
    ['[]', true],
    ['null', false],
    ['"str"', false],
  ])('answers POST /cats with the body %s as Lambda does: 400 naming body, nothing created', async (text, exact) => {
    const before = await catsTable(e2e.ownerUrl);
    const reply = await request(e2e.api.baseUrl, 'POST', '/cats', text);
    expectProblem(reply, 400, 'body');
    expect(await catsTable(e2e.ownerUrl)).toEqual(before);

    const lambda = await call(createCat, httpEvent('create-cat', { rawBody: text }));
    const { requestId: _a, ...onLambda } = lambda.body;
    const { requestId: _b, ...overHttp } = reply.body;
    if (exact) expect(overHttp).toEqual(onLambda);
    else
      expect(overHttp).toMatchObject({
        type: onLambda.type,
        status: 400,
        errors: [expect.objectContaining({ field: 'body' })],
      });
  });
});

describe('running npm start', () => {
  it(
    'refuses a second start on the same data folder and says why',
    async () => {
      const second = await e2e.start({ waitFor: /already running/ });
      expect(await second.exited).toBe(1);
      expect(second.output()).toMatch(/The Cats API is already running \(pid \d+/);
    },
    apiTimeoutMs,
  );

  it(
    'stops cleanly on Ctrl-C, leaving no PostgreSQL behind, and keeps the data for the next start',
    async () => {
      const kept = await request(e2e.api.baseUrl, 'POST', '/cats', {
        name: 'Survivor',
        price: 9,
        breed: 'e2e-restart',
      });
      expect(kept.status).toBe(201);
      const pidFile = join(e2e.dataDir, 'postgres', 'postmaster.pid');
      const postgresPid = external ? undefined : Number(readFileSync(pidFile, 'utf8').split('\n')[0]);

      expect(await e2e.api.stop('SIGINT')).toBe(0);
      expect(existsSync(join(e2e.dataDir, 'start.lock'))).toBe(false);
      if (postgresPid !== undefined) {
        expect(existsSync(pidFile)).toBe(false);
        expect(() => process.kill(postgresPid, 0)).toThrow();
      }

      await e2e.start();
      const again = await request(e2e.api.baseUrl, 'GET', `/cats/${kept.body.id}`);
      expect(again.status).toBe(200);
      expect(again.body).toEqual(kept.body);
    },
    apiTimeoutMs,
  );

  const embeddedOnly = external ? it.skip : it;

  embeddedOnly('runs its embedded PostgreSQL on loopback only', async () => {
    const client = new pg.Client({ connectionString: e2e.ownerUrl });
    await client.connect();
    try {
      expect((await client.query('SHOW listen_addresses')).rows).toEqual([{ listen_addresses: '127.0.0.1' }]);
    } finally {
      await client.end();
    }
  });

  embeddedOnly(
    'says what happened when its PostgreSQL is killed, answers 503 meanwhile, and recovers on the next start',
    async () => {
      const kept = await request(e2e.api.baseUrl, 'POST', '/cats', { name: 'Committed', price: 1, breed: 'e2e-crash' });
      const pidFile = join(e2e.dataDir, 'postgres', 'postmaster.pid');
      process.kill(Number(readFileSync(pidFile, 'utf8').split('\n')[0]), 'SIGKILL');
      await waitFor(() => /stopped unexpectedly \(killed by SIGKILL\)/.test(e2e.api.output()));

      const meanwhile = await request(e2e.api.baseUrl, 'GET', `/cats/${kept.body.id}`);
      expectProblem(meanwhile, 503);
      expect(meanwhile.headers['retry-after']).toBeDefined();

      expect(await e2e.api.stop('SIGINT')).toBe(0);
      await e2e.start();
      expect((await request(e2e.api.baseUrl, 'GET', `/cats/${kept.body.id}`)).body).toEqual(kept.body);
    },
    apiTimeoutMs,
  );

  embeddedOnly(
    'shuts down a PostgreSQL left running by a start that was killed with SIGKILL',
    async () => {
      // Its own committed cat, under a breed no other test uses.
      const kept = await request(e2e.api.baseUrl, 'POST', '/cats', {
        name: 'Orphaned',
        price: 1,
        breed: 'e2e-leftover',
      });
      expect(kept.status).toBe(201);
      const pidFile = join(e2e.dataDir, 'postgres', 'postmaster.pid');
      const leftover = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
      // Its serverless-offline is orphaned too (PostgreSQL is the other
      // child); this test stops that one itself.
      const pid = e2e.api.child.pid;
      const offline = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .trim()
        .split(/\s+/)
        .map(Number)
        .filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('serverless'));
      expect(offline).toHaveLength(1);
      e2e.api.child.kill('SIGKILL');
      await e2e.api.exited;
      for (const child of offline) process.kill(child, 'SIGINT');
      expect(() => process.kill(leftover, 0)).not.toThrow(); // orphaned, still running

      await e2e.start();
      expect(e2e.api.output()).toContain(
        `still running on ${join(e2e.dataDir, 'postgres')} (pid ${leftover}); shutting it down first`,
      );
      expect(() => process.kill(leftover, 0)).toThrow();
      expect((await request(e2e.api.baseUrl, 'GET', '/cats?breed=e2e-leftover')).body.items).toEqual([kept.body]);
    },
    apiTimeoutMs,
  );
});

async function waitFor(condition: () => boolean, timeoutMs = 10000): Promise<void> {
  for (const started = Date.now(); !condition(); ) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
