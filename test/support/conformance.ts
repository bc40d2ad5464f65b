/**
 * The standard behaviour of every resource, from its description (the
 * ResourceDoc its module gives resourceApi) and the functions serverless.yml
 * routes to: create, get, list (paging, sorts, filters), update, delete,
 * ETags (304, 412), Idempotency-Key replays, problem responses, references
 * and their delete rules, and that a refused write changes nothing. A
 * resource's test file is one call, `conformance('owners')`, plus what is
 * particular to it.
 *
 * Each file that calls it gets a database of its own (it empties the tables
 * before a listing test and compares them whole around a refused write).
 */
import { sql } from 'kysely';
import pg from 'pg';
import { db } from '../../lib/db/index.js';
import type { HttpHandler } from '../../lib/http/handler.js';
import { resources } from '../../lib/openapi/document.js';
import { jsonSchema, type ResourceDoc } from '../../lib/openapi/operations.js';
import { expectProblem } from './assertions.js';
import { call, type EventChanges, routeEvent } from './lambda.js';
import { useScratchDatabase } from './scratch-database.js';
import { declaredFunctions } from './serverless-config.js';

type Body = Record<string, any>;
type Changes = Omit<EventChanges, 'id'> & { path?: Record<string, string | number> };

/** The resource of this plural, as lib/openapi/document.ts lists it. */
export function resourceOf(plural: string): ResourceDoc {
  const found = resources.find(({ resource }) => resource.plural === plural)?.resource;
  if (!found) throw new Error(`no resource ${plural} in lib/openapi/document.ts's resources`);
  return found;
}

/** The handler serverless.yml routes this route to, e.g. `POST /owners`. */
export async function routeHandler(route: string): Promise<HttpHandler> {
  const declared = declaredFunctions().find((f) => f.routes.includes(route));
  if (!declared) throw new Error(`serverless.yml routes no function to ${route}`);
  return ((await import(`../../functions/${declared.file}.js`)) as { handler: HttpHandler }).handler;
}

/** A resource's five routes, each called with an event for it (and checked against the document). */
export async function resourceClient(plural: string) {
  // One at a time: Jest's ES module loader can fail concurrent dynamic
  // imports that share modules ("request for ... is not in cache").
  const handlers: HttpHandler[] = [];
  for (const route of ['GET', 'POST', 'GET {id}', 'PATCH {id}', 'DELETE {id}']) {
    const [method, id] = route.split(' ');
    handlers.push(await routeHandler(`${method} /${plural}${id ? '/{id}' : ''}`));
  }
  const [list, create, get, update, remove] = handlers as [
    HttpHandler,
    HttpHandler,
    HttpHandler,
    HttpHandler,
    HttpHandler,
  ];
  const at = (id: unknown, changes: Changes = {}) => ({ ...changes, path: { id: String(id) } });
  return {
    list: (query: Record<string, string> = {}) => call(list, routeEvent(`GET /${plural}`, { query })),
    create: (changes: Changes) => call(create, routeEvent(`POST /${plural}`, changes)),
    get: (id: unknown, changes?: Changes) => call(get, routeEvent(`GET /${plural}/{id}`, at(id, changes))),
    update: (id: unknown, changes: Changes) => call(update, routeEvent(`PATCH /${plural}/{id}`, at(id, changes))),
    remove: (id: unknown, changes?: Changes) => call(remove, routeEvent(`DELETE /${plural}/{id}`, at(id, changes))),
  };
}

const columnOf = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
// Small: a bulkRow is written for the i of a bulk load (1 to 100,000), and
// its integer arithmetic must not overflow.
let rowCounter = 0;

/**
 * Inserts one row of `resource` from its bulkRow (and rows for its required
 * references), straight into the table, and returns its id: a row that exists,
 * for a reference to name.
 */
export async function insertRowOf(resource: ResourceDoc, references: Record<string, number> = {}): Promise<number> {
  const columns: Record<string, unknown> = {};
  const i = ++rowCounter;
  for (const [column, expression] of Object.entries(resource.bulkRow)) {
    columns[column] = sql.raw(expression.replaceAll(/\bi\b/g, String(i)));
  }
  for (const [field, target] of Object.entries(resource.references ?? {})) {
    columns[columnOf(field)] = references[field] ?? (await insertRowOf(resourceOf(target.resource)));
  }
  const row = await (db() as any)
    .insertInto(resource.listing.table)
    .values(columns)
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id as number;
}

/** Every row of every resource's table, to compare before and after a request that must change nothing. */
export async function allTables(): Promise<Record<string, unknown[]>> {
  const tables: Record<string, unknown[]> = {};
  for (const { resource } of resources) {
    const table = resource.listing.table;
    tables[table] = (await sql`SELECT * FROM ${sql.table(table)} ORDER BY id`.execute(db())).rows;
  }
  tables.idempotency_keys = (await sql`SELECT key FROM idempotency_keys ORDER BY key`.execute(db())).rows;
  return tables;
}

/** As the owner: the API's role may delete rows but not TRUNCATE (least privilege). */
async function emptyTables(ownerUrl: string): Promise<void> {
  const tables = resources.map(({ resource }) => `"${resource.listing.table}"`).join(', ');
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    await client.query(`TRUNCATE ${tables} CASCADE`);
  } finally {
    await client.end();
  }
}

export function conformance(plural: string): void {
  const resource = resourceOf(plural);
  const { noun, listing } = resource;
  const ownerUrl = useScratchDatabase(`cats_conformance_${plural.replace(/\W/g, '_')}`);
  let api: Awaited<ReturnType<typeof resourceClient>>;
  beforeAll(async () => {
    api = await resourceClient(plural);
  });

  let sampleCounter = 0;
  /** The next valid create body, its references set to rows that exist. */
  async function validBody(n = ++sampleCounter): Promise<Body> {
    const body: Body = { ...resource.sample(n) };
    for (const [field, target] of Object.entries(resource.references ?? {})) {
      body[field] = await insertRowOf(resourceOf(target.resource));
    }
    return body;
  }
  async function add(n?: number): Promise<Body> {
    const reply = await api.create({ body: await validBody(n) });
    expect(reply.status).toBe(201);
    return reply.body;
  }
  /** A PATCH body: the first field of a sample not used yet. */
  function patchBody(): Body {
    const [field, value] = Object.entries(resource.sample(++sampleCounter))[0] ?? [];
    if (field === undefined) throw new Error(`${plural}: sample() gave no field`);
    return { [field]: value };
  }
  const requiredFields = (jsonSchema(resource.create).required as string[] | undefined) ?? [];
  const referencedBy = resources
    .map(({ resource: other }) => other)
    .flatMap((other) =>
      Object.entries(other.references ?? {})
        .filter(([, target]) => target.resource === plural)
        .map(([field, target]) => ({ other, field, onDelete: target.onDelete })),
    );

  describe(`POST /${plural}`, () => {
    it(`creates ${noun} and answers 201 with its Location, ETag and representation, which GET then returns`, async () => {
      const body = await validBody();
      const reply = await api.create({ body });
      expect(reply.status).toBe(201);
      expect(reply.headers['content-type']).toBe('application/json');
      expect(reply.body).toEqual({
        ...body,
        id: expect.any(Number),
        version: 1,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        updatedAt: reply.body.createdAt,
      });
      expect(reply.headers.location).toBe(`/${plural}/${reply.body.id}`);
      expect(reply.headers.etag).toBe('"1"');
      expect((await api.get(reply.body.id)).body).toEqual(reply.body);
    });

    it('accepts a JSON media type with parameters or a +json suffix, and a base64-encoded body', async () => {
      const withCharset = await api.create({
        body: await validBody(),
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expect(withCharset.status).toBe(201);
      const base64 = Buffer.from(JSON.stringify(await validBody())).toString('base64');
      const event = routeEvent(`POST /${plural}`, {
        rawBody: base64,
        headers: { 'content-type': 'application/merge-patch+json' },
      });
      event.isBase64Encoded = true;
      expect((await call(await routeHandler(`POST /${plural}`), event)).status).toBe(201);
    });

    const bad: Array<[string, number, string, (valid: Body) => Changes]> = [
      ['a body that is not JSON', 400, 'body', () => ({ rawBody: '{"name": "Tom",' })],
      ['an empty body', 400, 'body', () => ({ rawBody: '' })],
      ['a JSON array', 400, 'body', (valid) => ({ body: [valid] })],
      ['a JSON string', 400, 'body', () => ({ body: 'Tom' })],
      ['JSON null', 400, 'body', () => ({ body: null })],
      ['JSON false', 400, 'body', () => ({ body: false })],
      ['JSON 0', 400, 'body', () => ({ body: 0 })],
      ['JSON true', 400, 'body', () => ({ body: true })],
      ['no content type', 415, 'content-type', (valid) => ({ body: valid, headers: { 'content-type': undefined } })],
      [
        'a form content type',
        415,
        'content-type',
        (valid) => ({ body: valid, headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      ],
      ['an id in the body', 400, 'id', (valid) => ({ body: { ...valid, id: 1 } })],
      [
        'a createdAt in the body',
        400,
        'createdAt',
        (valid) => ({ body: { ...valid, createdAt: '2020-01-01T00:00:00Z' } }),
      ],
      ['a version in the body', 400, 'version', (valid) => ({ body: { ...valid, version: 1 } })],
      ['an unknown field', 400, 'colour', (valid) => ({ body: { ...valid, colour: 'black' } })],
    ];
    it.each(bad)('rejects %s with a %i problem naming %s and changes nothing', async (_label, status, field, make) => {
      const changes = make(await validBody());
      const before = await allTables();
      expectProblem(await api.create(changes), status, field);
      expect(await allTables()).toEqual(before);
    });

    // serverless-offline (npm start) hands a falsy JSON body over parsed, not as
    // the text Lambda gives: the answer must not depend on which one ran it.
    it.each([false, 0])('answers the body %p handed over parsed exactly as its JSON text', async (value) => {
      const asText = await api.create({ body: value });
      const offline = routeEvent(`POST /${plural}`);
      (offline as { body: unknown }).body = value;
      const asValue = await call(await routeHandler(`POST /${plural}`), offline);
      expectProblem(asValue, 400, 'body');
      expect({ ...asValue.body, requestId: '' }).toEqual({ ...asText.body, requestId: '' });
    });

    it('refuses a body over 16 KiB with 413 before parsing it, and takes one of exactly 16 KiB', async () => {
      const json = JSON.stringify(await validBody());
      const before = await allTables();
      const tooBig = await api.create({ rawBody: json + ' '.repeat(16 * 1024 - json.length + 1) });
      expectProblem(tooBig, 413, 'body');
      expectProblem(await api.create({ rawBody: '['.repeat(20000) }), 413, 'body');
      expect(await allTables()).toEqual(before);
      expect((await api.create({ rawBody: json + ' '.repeat(16 * 1024 - json.length) })).status).toBe(201);
    });

    it('names every missing required field in one answer, each with a JSON pointer', async () => {
      const reply = await api.create({ body: {} });
      expectProblem(reply, 400);
      expect(reply.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([...requiredFields].sort());
      expect(reply.body.errors[0]).toMatchObject({ in: 'body', pointer: expect.stringMatching(/^#\//) });
    });

    eachOf(Object.keys(resource.references ?? {}))(
      'refuses %s naming a row that does not exist with a 422 naming it, and changes nothing',
      async (field) => {
        const body = { ...(await validBody()), [field]: 2147483647 };
        const before = await allTables();
        expectProblem(await api.create({ body }), 422, field);
        expect(await allTables()).toEqual(before);
      },
    );
  });

  describe(`POST /${plural} with an Idempotency-Key`, () => {
    let keyCounter = 0;
    const newKey = () => `conformance-${plural}-${++keyCounter}`;

    it(`answers a retry with the first response and creates one ${noun}`, async () => {
      const key = newKey();
      const body = await validBody();
      const first = await api.create({ body, headers: { 'idempotency-key': key } });
      const between = await allTables();
      const retry = await api.create({ body, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers).toMatchObject({
        location: first.headers.location,
        etag: first.headers.etag,
        'idempotent-replayed': 'true',
      });
      expect(await allTables()).toEqual(between);
    });

    it('refuses the key with another body with a 422 naming the header, and creates nothing', async () => {
      const key = newKey();
      expect((await api.create({ body: await validBody(), headers: { 'idempotency-key': key } })).status).toBe(201);
      const other = await validBody();
      const before = await allTables();
      const reused = await api.create({ body: other, headers: { 'idempotency-key': key } });
      expectProblem(reused, 422, 'idempotency-key');
      expect(await allTables()).toEqual(before);
    });

    // One namespace for every create of the API (docs/api.md): a key is the
    // client's name for one request, whichever route it went to.
    eachOf(resources.map(({ resource: other }) => other.plural).filter((other) => other !== plural))(
      'refuses a key that a create of %s used, with a 422, and creates nothing',
      async (other) => {
        const key = newKey();
        const otherApi = await resourceClient(other);
        const otherResource = resourceOf(other);
        const otherBody: Body = { ...otherResource.sample(++sampleCounter) };
        for (const [field, target] of Object.entries(otherResource.references ?? {})) {
          otherBody[field] = await insertRowOf(resourceOf(target.resource));
        }
        expect((await otherApi.create({ body: otherBody, headers: { 'idempotency-key': key } })).status).toBe(201);
        const body = await validBody();
        const before = await allTables();
        expectProblem(await api.create({ body, headers: { 'idempotency-key': key } }), 422);
        expect(await allTables()).toEqual(before);
      },
    );
  });

  describe(`GET /${plural}/{id}`, () => {
    it(`returns the ${noun}`, async () => {
      const item = await add();
      const reply = await api.get(item.id);
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual(item);
    });

    it('answers 404 as a problem for an id that does not exist', async () => {
      const reply = await api.get(2147483647);
      expectProblem(reply, 404);
      expect(reply.body.detail).toBe(`${noun} 2147483647 does not exist`);
    });

    it.each(['0', '-1', 'abc', '1.5', '01', '1e3', '2147483648', '99999999999', ' 1', "1'--"])(
      'rejects the id %j with a 400 naming id',
      async (id) => {
        expectProblem(await api.get(id), 400, 'id');
      },
    );
  });

  describe(`GET /${plural}`, () => {
    beforeEach(() => emptyTables(ownerUrl()));

    /** Every page of a listing, following nextCursor. */
    async function allPages(query: Record<string, string>) {
      const items: Body[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const reply = await api.list({ ...query, ...(cursor ? { cursor } : {}) });
        expect(reply.status).toBe(200);
        if (query.limit) expect(reply.body.items.length).toBeLessThanOrEqual(Number(query.limit));
        items.push(...reply.body.items);
        cursor = reply.body.nextCursor;
        pages += 1;
      } while (cursor !== null);
      return { items, pages };
    }

    it('pages through in id order with keyset cursors, ending with a null cursor', async () => {
      const created = [];
      for (let i = 0; i < 5; i++) created.push(await add());
      const { items, pages } = await allPages({ limit: '2' });
      expect(pages).toBe(3);
      expect(items).toEqual(created);
    });

    it(`gives ${listing.defaultPageSize} items per page by default`, async () => {
      for (let i = 0; i <= listing.defaultPageSize; i++) await add();
      const reply = await api.list();
      expect(reply.body.items).toHaveLength(listing.defaultPageSize);
      expect(reply.body.nextCursor).toEqual(expect.any(String));
    });

    it('answers an empty page with a null cursor when there is nothing', async () => {
      expect((await api.list()).body).toEqual({ items: [], nextCursor: null });
    });

    it(`neither skips nor repeats ${noun} added or removed between pages`, async () => {
      const [a, b, c] = [await add(), await add(), await add()];
      const first = await api.list({ limit: '2' });
      expect(first.body.items).toEqual([a, b]);
      expect((await api.remove(a?.id)).status).toBe(204);
      const late = await add();
      const second = await api.list({ limit: '2', cursor: first.body.nextCursor });
      expect(second.body.items).toEqual([c, late]);
    });

    const orders = Object.keys(listing.sorts).flatMap((sort) => [
      [sort, 'asc'],
      [sort, 'desc'],
    ]);
    it.each(orders)(
      'pages through sorted by %s %s, ties broken by id, as the database orders them, none skipped or repeated',
      async (sort, order) => {
        for (let n = 1; n <= 7; n++) await add(n);
        const { items } = await allPages({ sort, order, limit: '2' });
        const column = sql.ref(listing.sorts[sort]?.column ?? 'id');
        const direction = sql.raw(order === 'desc' ? 'DESC' : 'ASC');
        const { rows } = await sql<{ id: number }>`SELECT id FROM ${sql.table(listing.table)}
          ORDER BY ${column} ${direction}, id ${direction}`.execute(db());
        expect(items.map((item) => item.id)).toEqual(rows.map((row) => row.id));
        expect(new Set(items.map((item) => item.id)).size).toBe(7);
      },
    );

    it.each(Object.entries(listing.filters).map(([name, filter]) => [name, filter.operator, filter.column] as const))(
      'filters by %s (%s) as the database does, across pages',
      async (name, operator, column) => {
        const created = [];
        for (let n = 1; n <= 7; n++) created.push(await add(n));
        const value = String(created[3]?.[camel(column)]);
        const query = operator === 'startsWith' ? value.slice(0, 3) : value;
        const { items } = await allPages({ [name]: query, limit: '2' });
        const ref = sql.ref(column);
        // The query's text as the parameter, which PostgreSQL reads as the
        // column's type: a number, a date or a boolean alike.
        const where = {
          equals: sql`${ref} = ${query}`,
          atLeast: sql`${ref} >= ${query}`,
          atMost: sql`${ref} <= ${query}`,
          startsWith: sql`lower(${ref}) LIKE lower(${query}) || '%'`,
        }[operator];
        const { rows } = await sql<{ id: number }>`SELECT id FROM ${sql.table(listing.table)}
          WHERE ${where} ORDER BY id`.execute(db());
        expect(rows.length).toBeGreaterThan(0);
        expect(items.map((item) => item.id)).toEqual(rows.map((row) => row.id));
      },
    );

    it.each([
      ['limit', { limit: '0' }],
      ['limit', { limit: String(listing.maxPageSize + 1) }],
      ['limit', { limit: 'ten' }],
      ['limit', { limit: '-1' }],
      ['limit', { limit: '1,2' }],
      ['cursor', { cursor: 'not-a-cursor' }],
      ['cursor', { cursor: Buffer.from('{"v":1,"after":"1 OR 1=1"}').toString('base64url') }],
      ['cursor', { cursor: 'x'.repeat(600) }],
      ['sort', { sort: 'no-such-key' }],
      ['order', { order: 'up' }],
    ])('rejects a bad %s parameter with a 400 naming it', async (field, query) => {
      expectProblem(await api.list(query), 400, field);
    });

    it('rejects a cursor used with another sort or filter than it was issued for', async () => {
      for (let n = 1; n <= 3; n++) await add(n);
      const sorts = Object.keys(listing.sorts);
      const first = await api.list({ limit: '1' });
      const cursor = first.body.nextCursor;
      expectProblem(await api.list({ limit: '1', order: 'desc', cursor }), 400, 'cursor');
      if (sorts.length > 1) expectProblem(await api.list({ limit: '1', sort: sorts[1] ?? '', cursor }), 400, 'cursor');
      const [filter, spec] = Object.entries(listing.filters)[0] ?? [];
      if (filter && spec) {
        const value = String(first.body.items[0]?.[camel(spec.column)]);
        expectProblem(await api.list({ limit: '1', [filter]: value, cursor }), 400, 'cursor');
      }
    });
  });

  describe(`PATCH /${plural}/{id}`, () => {
    it('changes only the fields sent, bumps the version and moves updatedAt forward', async () => {
      const item = await add();
      const patch = patchBody();
      const reply = await api.update(item.id, { body: patch });
      expect(reply.status).toBe(200);
      expect(reply.body).toEqual({ ...item, ...patch, version: 2, updatedAt: expect.any(String) });
      expect(Date.parse(reply.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(item.updatedAt));
      expect((await api.get(item.id)).body).toEqual(reply.body);
    });

    it(`answers 404 for ${noun} that does not exist, and creates nothing`, async () => {
      const before = await allTables();
      expectProblem(await api.update(2147483646, { body: patchBody() }), 404);
      expect(await allTables()).toEqual(before);
    });

    it.each([
      ['an empty object', 400, 'body', () => ({ body: {} })],
      ['an id', 400, 'id', () => ({ body: { id: 7 } })],
      ['an updatedAt', 400, 'updatedAt', () => ({ body: { updatedAt: '2020-01-01T00:00:00Z' } })],
      ['a valid field beside an unknown one', 400, 'colour', () => ({ body: { ...patchBody(), colour: 'black' } })],
      ['no content type', 415, 'content-type', () => ({ body: patchBody(), headers: { 'content-type': undefined } })],
      ['a body that is not JSON', 400, 'body', () => ({ rawBody: 'price=1' })],
    ] as const)('rejects %s with a %i problem naming %s and changes nothing', async (_label, status, field, make) => {
      const item = await add();
      const before = await allTables();
      expectProblem(await api.update(item.id, make() as Changes), status, field);
      expect(await allTables()).toEqual(before);
    });

    it('rejects a bad id before looking at the body', async () => {
      expectProblem(await api.update('abc', { body: patchBody() }), 400, 'id');
    });

    eachOf(Object.keys(resource.references ?? {}))(
      'refuses %s naming a row that does not exist with a 422 naming it, and changes nothing',
      async (field) => {
        const item = await add();
        const before = await allTables();
        expectProblem(await api.update(item.id, { body: { [field]: 2147483647 } }), 422, field);
        expect(await allTables()).toEqual(before);
      },
    );
  });

  describe(`DELETE /${plural}/{id}`, () => {
    it(`removes the ${noun} and answers 204 with no body; a second delete is 404`, async () => {
      const item = await add();
      const reply = await api.remove(item.id);
      expect(reply.status).toBe(204);
      expect(reply.raw.body).toBeUndefined();
      expectProblem(await api.get(item.id), 404);
      expectProblem(await api.remove(item.id), 404);
    });

    it('rejects a bad id with 400 and deletes nothing', async () => {
      await add();
      const before = await allTables();
      expectProblem(await api.remove('1 OR 1=1'), 400, 'id');
      expect(await allTables()).toEqual(before);
    });

    eachOf(referencedBy.map(({ other, field, onDelete }) => [other.plural, field, onDelete] as const))(
      `follows the rule for rows of %s whose %s names it (%s)`,
      async (otherPlural, field, onDelete) => {
        const item = await add();
        const other = await resourceClient(otherPlural);
        const namingId = await insertRowOf(resourceOf(otherPlural), { [field]: item.id });
        const naming = (await other.get(namingId)).body;
        const before = await allTables();
        const reply = await api.remove(item.id);
        if (onDelete === 'restrict') {
          expectProblem(reply, 409);
          expect(reply.body.detail).toBe(`rows of ${otherPlural} still refer to it: change or remove them first`);
          expect(await allTables()).toEqual(before);
          return;
        }
        expect(reply.status).toBe(204);
        const after = await other.get(namingId, { headers: { 'if-none-match': `"${naming.version}"` } });
        if (onDelete === 'cascade') {
          expectProblem(after, 404);
          return;
        }
        // set null: the row changed, so its ETag did, and If-None-Match no longer holds.
        expect(after.status).toBe(200);
        expect(after.body).toEqual({
          ...naming,
          [field]: null,
          version: naming.version + 1,
          updatedAt: expect.any(String),
        });
        expect(Date.parse(after.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(naming.updatedAt));
      },
    );
  });

  describe(`conditional requests to ${plural} (ETag, If-Match, If-None-Match)`, () => {
    it('gives every representation an ETag that changes with each update', async () => {
      const item = await add();
      expect((await api.get(item.id)).headers.etag).toBe('"1"');
      const changed = await api.update(item.id, { body: patchBody() });
      expect(changed.headers.etag).toBe('"2"');
      expect(changed.body.version).toBe(2);
    });

    it(`answers GET with 304 and no body while If-None-Match still matches, and 200 once it changed`, async () => {
      const item = await add();
      const fresh = await api.get(item.id, { headers: { 'if-none-match': '"1"' } });
      expect(fresh.status).toBe(304);
      expect(fresh.raw.body).toBeUndefined();
      expect(fresh.headers.etag).toBe('"1"');
      expect((await api.get(item.id, { headers: { 'if-none-match': 'W/"0", W/"1"' } })).status).toBe(304);
      const patch = patchBody();
      await api.update(item.id, { body: patch });
      const stale = await api.get(item.id, { headers: { 'if-none-match': '"1"' } });
      expect(stale.status).toBe(200);
      expect(stale.body).toMatchObject(patch);
    });

    it('applies a PATCH whose If-Match is the current ETag', async () => {
      const item = await add();
      const patch = patchBody();
      const reply = await api.update(item.id, { body: patch, headers: { 'if-match': '"1"' } });
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject(patch);
    });

    it('refuses a PATCH based on a stale ETag with 412 and the current ETag, changing nothing', async () => {
      const item = await add();
      await api.update(item.id, { body: patchBody() });
      const before = await allTables();
      const reply = await api.update(item.id, { body: patchBody(), headers: { 'if-match': '"1"' } });
      expectProblem(reply, 412, 'if-match');
      expect(reply.headers.etag).toBe('"2"');
      expect(await allTables()).toEqual(before);
    });

    it('lets exactly one of two clients that read the same version write', async () => {
      const item = await add();
      const [one, two] = [patchBody(), patchBody()];
      const replies = await Promise.all(
        [one, two].map((body) => api.update(item.id, { body, headers: { 'if-match': '"1"' } })),
      );
      expect(replies.map((r) => r.status).sort()).toEqual([200, 412]);
      const winner = replies.find((r) => r.status === 200);
      expect((await api.get(item.id)).body).toEqual(winner?.body);
    });

    it('treats a weak or unknown tag in If-Match as not matching (strong comparison)', async () => {
      const item = await add();
      for (const ifMatch of ['W/"1"', '"abc"', '"99"']) {
        expectProblem(await api.update(item.id, { body: patchBody(), headers: { 'if-match': ifMatch } }), 412);
      }
    });

    it.each(['"2147483648"', '"9999999999"', '"99999999999999999999"', '"1", "4294967296"'])(
      'treats If-Match %s, beyond any version there can be, as not matching: 412 and nothing changed, never a 500',
      async (ifMatch) => {
        const item = await add();
        const headers = { 'if-match': ifMatch };
        await api.update(item.id, { body: patchBody() });
        const before = await allTables();
        expectProblem(await api.update(item.id, { body: patchBody(), headers }), 412);
        expectProblem(await api.remove(item.id, { headers }), 412);
        expect(await allTables()).toEqual(before);
      },
    );

    it(`answers 404, not 412, for a conditional write to ${noun} that does not exist`, async () => {
      expectProblem(await api.remove(2147483645, { headers: { 'if-match': '"1"' } }), 404);
    });

    it('deletes only with the current ETag when If-Match is sent, or with *', async () => {
      const item = await add();
      await api.update(item.id, { body: patchBody() });
      expectProblem(await api.remove(item.id, { headers: { 'if-match': '"1"' } }), 412);
      expect((await api.get(item.id)).status).toBe(200);
      expect((await api.remove(item.id, { headers: { 'if-match': '*' } })).status).toBe(204);
    });

    it.each(['1', '"unterminated', 'W/1', '"a" "b"'])(
      'rejects the malformed If-Match %j with a 400 naming the header',
      async (ifMatch) => {
        const item = await add();
        expectProblem(
          await api.update(item.id, { body: patchBody(), headers: { 'if-match': ifMatch } }),
          400,
          'if-match',
        );
      },
    );
  });
}

/** it.each, where a resource without references (or alone in the API) has no case instead of an error. */
const eachOf = ((cases: readonly unknown[]) =>
  cases.length > 0 ? it.each(cases as never) : () => undefined) as unknown as typeof it.each;

const camel = (column: string) => column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
