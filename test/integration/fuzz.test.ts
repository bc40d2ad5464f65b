/**
 * Property-based tests: thousands of generated requests, well-formed or not,
 * against the real handlers and a real PostgreSQL. Whatever comes in: never a
 * 5xx, every error is problem+json, a rejected request changes no row, and an
 * accepted one round-trips exactly. Uses a database of its own, so its writes
 * cannot disturb the other test files.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { sql } from 'kysely';
import { handler as createCat } from '../../functions/create-cat.js';
import { handler as deleteCat } from '../../functions/delete-cat.js';
import { handler as getCat } from '../../functions/get-cat.js';
import { handler as listCats } from '../../functions/list-cats.js';
import { handler as updateCat } from '../../functions/update-cat.js';
import { db } from '../../lib/db/index.js';
import type { HttpHandler } from '../../lib/http/handler.js';
import { useFuzzSeed } from '../support/fuzz-seed.js';
import { call, type Fixture, httpEvent, type Reply } from '../support/lambda.js';
import { useScratchDatabase } from '../support/scratch-database.js';

useFuzzSeed(import.meta.url);

useScratchDatabase('cats_fuzz');

/**
 * Each property sends hundreds to thousands of requests, with a table
 * fingerprint around each: seconds on an idle machine, minutes on a loaded
 * one. A bound that only a hang exceeds, not Jest's 30 s default.
 */
const propertyTimeoutMs = 15 * 60 * 1000;

/** A fingerprint of the whole table, cheap enough to take around every request. */
async function tableState(): Promise<string> {
  const { rows } = await sql<{ state: string | null }>`
    SELECT count(*) || ':' || coalesce(md5(string_agg(c::text, ',' ORDER BY id)), '') AS state FROM cats c`.execute(
    db(),
  );
  return rows[0]?.state ?? '';
}

function expectWellFormed(reply: Reply): void {
  expect(reply.status).toBeLessThan(500);
  if (reply.status >= 400) {
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.body).toMatchObject({ status: reply.status, type: expect.any(String), detail: expect.any(String) });
  }
}

// Text that stresses the edges: unicode of every plane, lone surrogates, NUL,
// quotes and SQL, white space, long strings.
const nastyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 120 }),
  fc.string({ unit: 'grapheme', maxLength: 110 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', "'; DROP TABLE cats; --", '%_\\', 'x'.repeat(100), 'x'.repeat(101)),
);
const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, 2147483647, 2147483648, -1, Number.MAX_SAFE_INTEGER, 1e308, 0.5),
);
const anyJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    nastyNumber,
    nastyText,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;
// Objects that look almost like cats: right keys with wrong values, extra keys.
const catLike = fc.record(
  {
    name: fc.oneof(nastyText, anyJson),
    price: fc.oneof(nastyNumber, anyJson),
    breed: fc.oneof(nastyText, anyJson),
    id: anyJson,
    createdAt: anyJson,
  },
  { requiredKeys: [] },
);
// Valid cats, so that the accepting half of each property is exercised too.
const goodText = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 100 }),
    fc.constantFrom("O'Malley", 'Robert"); DROP TABLE cats;--', '%_\\', '😺'.repeat(100), ' padded '),
  )
  .filter((s) => s.trim() !== '' && [...s].length <= 100);
const goodFields = {
  name: goodText,
  price: fc.integer({ min: 0, max: 2147483647 }),
  breed: goodText,
};
const goodCat = fc.record(goodFields);
const goodPatch = fc.record(goodFields, { requiredKeys: [] }).filter((patch) => Object.keys(patch).length > 0);

const body = fc.oneof(
  goodCat.map((value) => ({ json: value as unknown })),
  goodPatch.map((value) => ({ json: value as unknown })),
  catLike.map((value) => ({ json: value as unknown })),
  anyJson.map((value) => ({ json: value })),
  fc.string({ unit: 'binary', maxLength: 200 }).map((raw) => ({ raw })),
  fc.nat({ max: 200 }).map((depth) => ({ raw: '['.repeat(depth) + ']'.repeat(depth) })),
);
const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'application/vnd.api+json',
  'text/plain',
  'application/x-www-form-urlencoded',
  undefined,
);
const pathId = fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), fc.nat().map(String), fc.integer().map(String));

function withBody(
  fixture: Fixture,
  payload: { json?: unknown; raw?: string },
  type: string | undefined,
): APIGatewayProxyEventV2 {
  const event = httpEvent(fixture, { headers: { 'content-type': type } });
  event.body = 'raw' in payload ? payload.raw : JSON.stringify(payload.json);
  return event;
}

async function expectNoChangeUnlessAccepted(handler: HttpHandler, event: APIGatewayProxyEventV2): Promise<Reply> {
  const before = await tableState();
  const reply = await call(handler, event);
  expectWellFormed(reply);
  if (reply.status >= 400) expect(await tableState()).toBe(before);
  return reply;
}

it(
  'answers any POST body with a 201 that round-trips exactly, or a 4xx problem that changes nothing',
  async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, contentType, async (payload, type) => {
        const reply = await expectNoChangeUnlessAccepted(createCat, withBody('create-cat', payload, type));
        if (reply.status === 201 && 'json' in payload) {
          accepted += 1;
          const sent = payload.json as { name: string; price: number; breed: string };
          expect(reply.body).toMatchObject({ name: sent.name, price: sent.price, breed: sent.breed });
          const read = await call(getCat, httpEvent('get-cat', { id: reply.body.id }));
          expect(read.body).toEqual(reply.body);
        } else {
          expect([400, 415]).toContain(reply.status);
        }
      }),
      { numRuns: 1500 },
    );
    // The round-trip half of the property must have been exercised too.
    expect(accepted).toBeGreaterThan(20);
  },
  propertyTimeoutMs,
);

it(
  'answers any PATCH with the updated cat or a 4xx problem that leaves it as it was',
  async () => {
    let accepted = 0;
    const created = await call(createCat, httpEvent('create-cat'));
    const id = created.body.id as number;
    await fc.assert(
      fc.asyncProperty(body, contentType, fc.oneof(fc.constant(String(id)), pathId), async (payload, type, rawId) => {
        const event = withBody('update-cat', payload, type);
        event.pathParameters = { id: rawId };
        const before = (await call(getCat, httpEvent('get-cat', { id }))).body;
        const reply = await expectNoChangeUnlessAccepted(updateCat, event);
        const after = (await call(getCat, httpEvent('get-cat', { id }))).body;
        if (reply.status === 200 && 'json' in payload) {
          accepted += 1;
          expect(reply.body).toMatchObject(payload.json as object);
          if (rawId === String(id)) expect(after).toEqual(reply.body);
        } else {
          expect(after).toEqual(before);
        }
      }),
      { numRuns: 800 },
    );
    expect(accepted).toBeGreaterThan(10);
  },
  propertyTimeoutMs,
);

it(
  'answers any path id on GET and DELETE with a cat, a 204, or a 4xx problem',
  async () => {
    await fc.assert(
      fc.asyncProperty(pathId, fc.boolean(), async (rawId, remove) => {
        const event = httpEvent(remove ? 'delete-cat' : 'get-cat');
        event.pathParameters = { id: rawId };
        const reply = await expectNoChangeUnlessAccepted(remove ? deleteCat : getCat, event);
        expect([200, 204, 400, 404]).toContain(reply.status);
      }),
      { numRuns: 800 },
    );
  },
  propertyTimeoutMs,
);

it(
  'answers any query string on GET /cats with a page or a 4xx problem naming a parameter',
  async () => {
    const parameter = fc.oneof(fc.constantFrom('limit', 'cursor', 'breed'), fc.string({ maxLength: 10 }));
    const value = fc.oneof(nastyText, nastyNumber.map(String), fc.base64String({ maxLength: 60 }));
    await fc.assert(
      fc.asyncProperty(fc.dictionary(parameter, value, { maxKeys: 4 }), async (query) => {
        const reply = await call(listCats, httpEvent('list-cats', { query }));
        expectWellFormed(reply);
        if (reply.status === 200) {
          expect(Array.isArray(reply.body.items)).toBe(true);
        } else {
          expect(reply.status).toBe(400);
          expect(reply.body.errors.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 800 },
    );
  },
  propertyTimeoutMs,
);

it(
  'answers any value of the headers the API reads (If-Match, If-None-Match, Idempotency-Key) with a 2xx/3xx or a 4xx problem',
  async () => {
    const created = await call(createCat, httpEvent('create-cat'));
    const id = created.body.id as number;
    const headerValue = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constantFrom('*', '"1"', 'W/"1"', '"1", "2"', '""', '"', ',', 'W/', '"99999999999"'),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('if-match', 'if-none-match', 'idempotency-key'),
        headerValue,
        async (name, value) => {
          const headers = { [name]: value };
          const replies = [
            await call(getCat, httpEvent('get-cat', { id, headers })),
            await expectNoChangeUnlessAccepted(updateCat, httpEvent('update-cat', { id, body: { price: 5 }, headers })),
            await expectNoChangeUnlessAccepted(createCat, httpEvent('create-cat', { headers })),
          ];
          for (const reply of replies) expectWellFormed(reply);
        },
      ),
      { numRuns: 300 },
    );
  },
  propertyTimeoutMs,
);
