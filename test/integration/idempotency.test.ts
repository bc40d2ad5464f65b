/**
 * POST with an Idempotency-Key: a retry gets the original response and never
 * creates a second cat. Uses a database of its own (it counts rows).
 */
import { sql } from 'kysely';
import pg from 'pg';
import { handler as createCat } from '../../functions/create-cat.js';
import { db } from '../../lib/db/index.js';
import { expectProblem } from '../support/assertions.js';
import { call, httpEvent } from '../support/lambda.js';
import { useScratchDatabase } from '../support/scratch-database.js';

const scratchUrl = useScratchDatabase('cats_idempotency');

let keyCounter = 0;
const newKey = () => `key-${Date.now()}-${++keyCounter}`;
const cat = { name: 'Idem', price: 10, breed: 'potent' };

const post = (key: string | undefined, body: unknown = cat) =>
  call(createCat, httpEvent('create-cat', { body, headers: key === undefined ? {} : { 'idempotency-key': key } }));

async function catCount(): Promise<number> {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM cats`.execute(db());
  return rows[0]?.n ?? -1;
}

it('answers a retry with the original status, body, id and headers, and creates one cat', async () => {
  const key = newKey();
  const before = await catCount();
  const first = await post(key);
  const retry = await post(key);
  expect(first.status).toBe(201);
  expect(retry.status).toBe(201);
  expect(retry.body).toEqual(first.body);
  expect(retry.headers.location).toBe(first.headers.location);
  expect(retry.headers.etag).toBe(first.headers.etag);
  expect(retry.headers['idempotent-replayed']).toBe('true');
  expect(await catCount()).toBe(before + 1);
});

it('treats the same body with other spacing or key order as the same request', async () => {
  const key = newKey();
  const first = await post(key);
  const reordered = await call(
    createCat,
    httpEvent('create-cat', {
      rawBody: `{ "breed": "potent",  "price": 10, "name": "Idem" }`,
      headers: { 'idempotency-key': key },
    }),
  );
  expect(reordered.body.id).toBe(first.body.id);
});

it('refuses the same key with a different body with 422, creating nothing', async () => {
  const key = newKey();
  await post(key);
  const before = await catCount();
  const reply = await post(key, { ...cat, price: 11 });
  expectProblem(reply, 422, 'idempotency-key');
  expect(await catCount()).toBe(before);
});

it('answers 409 with Retry-After while the first request with the key is still in flight', async () => {
  const key = newKey();
  // Another session holds the key's lock, as the first request does until it commits.
  const other = new pg.Client({ connectionString: scratchUrl() });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
    const before = await catCount();
    const reply = await post(key);
    expectProblem(reply, 409, 'idempotency-key');
    expect(reply.headers['retry-after']).toBe('1');
    expect(await catCount()).toBe(before);
    await other.query('COMMIT');
  } finally {
    await other.end();
  }
  expect((await post(key)).status).toBe(201);
});

it('creates exactly one cat when many requests with one key arrive at once', async () => {
  const key = newKey();
  const before = await catCount();
  const replies = await Promise.all(Array.from({ length: 6 }, () => post(key)));
  const created = replies.filter((r) => r.status === 201);
  expect(created.length).toBeGreaterThanOrEqual(1);
  for (const reply of replies) expect([201, 409]).toContain(reply.status);
  expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
  expect(await catCount()).toBe(before + 1);
});

it('stores nothing for a rejected request, so the key can be used again with a corrected body', async () => {
  const key = newKey();
  expectProblem(await post(key, { ...cat, price: -1 }), 400, 'price');
  expect((await post(key)).status).toBe(201);
});

it('forgets an expired key: the next request with it creates a new cat, and expired rows are cleaned up', async () => {
  const key = newKey();
  const first = await post(key);
  await sql`UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = ${key}`.execute(db());
  const again = await post(key);
  expect(again.status).toBe(201);
  expect(again.body.id).not.toBe(first.body.id);
  expect(again.headers['idempotent-replayed']).toBeUndefined();
  const expired = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM idempotency_keys WHERE expires_at < now()`.execute(db());
  expect(expired.rows[0]?.n).toBe(0);
});

it('behaves as before without the header: every POST creates a cat', async () => {
  const before = await catCount();
  await post(undefined);
  await post(undefined);
  expect(await catCount()).toBe(before + 2);
});

it.each(['', 'with space', 'x'.repeat(256), 'ключ'])(
  'rejects the Idempotency-Key %j with a 400 naming the header',
  async (key) => {
    expectProblem(await post(key), 400, 'idempotency-key');
  },
);
