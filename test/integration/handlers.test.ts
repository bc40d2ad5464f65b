/**
 * Every route handler, called with API Gateway HTTP API (payload 2.0) events
 * against a real PostgreSQL. The file has a database of its own, so "the
 * table did not change" is a meaningful assertion here even while other files
 * write in parallel.
 */
import { handler as createCat } from '../../functions/create-cat.js';
import { handler as deleteCat } from '../../functions/delete-cat.js';
import { handler as getCat } from '../../functions/get-cat.js';
import { handler as listCats } from '../../functions/list-cats.js';
import { handler as updateCat } from '../../functions/update-cat.js';
import { catListing } from '../../lib/cats/schema.js';
import { type ListQuery as AnyListQuery, listingOf } from '../../lib/listing.js';
import { catsTable, expectProblem } from '../support/assertions.js';
import { call, httpEvent } from '../support/lambda.js';
import { useScratchDatabase } from '../support/scratch-database.js';

useScratchDatabase('cats_handlers');

let breedCounter = 0;
/** A breed no other test uses, so listings can be asserted exactly. */
const uniqueBreed = () => `breed-${Date.now()}-${++breedCounter}`;

async function addCat(body: Record<string, unknown> = {}) {
  const reply = await call(
    createCat,
    httpEvent('create-cat', { body: { name: 'catty mcCatFace', price: 5000, breed: 'bengal', ...body } }),
  );
  expect(reply.status).toBe(201);
  return reply.body;
}

describe('POST /cats', () => {
  it('creates a cat and answers 201 with its Location and representation', async () => {
    const reply = await call(
      createCat,
      httpEvent('create-cat', { body: { name: 'Tom', price: 1200, breed: 'tabby' } }),
    );
    expect(reply.status).toBe(201);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.body).toEqual({
      id: expect.any(Number),
      name: 'Tom',
      price: 1200,
      breed: 'tabby',
      version: 1,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: reply.body.createdAt,
    });
    expect(reply.headers.location).toBe(`/cats/${reply.body.id}`);
    expect(reply.headers.etag).toBe('"1"');
    const stored = await call(getCat, httpEvent('get-cat', { id: reply.body.id }));
    expect(stored.body).toEqual(reply.body);
  });

  it('answers the tutorial route POST /add exactly like POST /cats', async () => {
    const reply = await call(createCat, httpEvent('create-cat-tutorial'));
    expect(reply.status).toBe(201);
    expect(reply.body).toMatchObject({ name: 'catty mcCatFace', price: 5000, breed: 'bengal' });
    expect(reply.headers.location).toBe(`/cats/${reply.body.id}`);
  });

  it('stores SQL metacharacters, quotes and unicode verbatim', async () => {
    const name = `Robert'); DROP TABLE cats;-- \\ % _ "😺" ${'ü'.repeat(10)}`;
    const cat = await addCat({ name, breed: "O'Malley" });
    expect(cat.name).toBe(name);
    const stored = await call(getCat, httpEvent('get-cat', { id: cat.id }));
    expect(stored.body.name).toBe(name);
    expect(stored.body.breed).toBe("O'Malley");
  });

  it('accepts a name of exactly 100 characters counted as Postgres counts them (code points)', async () => {
    const name = '😺'.repeat(100); // 200 UTF-16 units, 100 characters
    const cat = await addCat({ name });
    expect(cat.name).toBe(name);
  });

  it('accepts the integer bounds of price, 0 and 2147483647', async () => {
    expect((await addCat({ price: 0 })).price).toBe(0);
    expect((await addCat({ price: 2147483647 })).price).toBe(2147483647);
  });

  it('accepts a JSON media type with parameters or a +json suffix, and a base64-encoded body', async () => {
    const withCharset = httpEvent('create-cat', { headers: { 'content-type': 'application/json; charset=utf-8' } });
    expect((await call(createCat, withCharset)).status).toBe(201);
    const base64 = httpEvent('create-cat', { headers: { 'content-type': 'application/merge-patch+json' } });
    base64.body = Buffer.from(base64.body ?? '').toString('base64');
    base64.isBase64Encoded = true;
    expect((await call(createCat, base64)).status).toBe(201);
  });
});

describe('bad input to POST /cats', () => {
  const valid = { name: 'Tom', price: 100, breed: 'tabby' };
  const cases: Array<
    [string, number, string, { body?: unknown; rawBody?: string; headers?: Record<string, string | undefined> }]
  > = [
    ['a body that is not JSON', 400, 'body', { rawBody: '{"name": "Tom",' }],
    ['an empty body', 400, 'body', { rawBody: '' }],
    ['a JSON array', 400, 'body', { body: [valid] }],
    ['a JSON string', 400, 'body', { body: 'Tom' }],
    ['JSON null', 400, 'body', { body: null }],
    ['JSON false', 400, 'body', { body: false }],
    ['JSON 0', 400, 'body', { body: 0 }],
    ['JSON true', 400, 'body', { body: true }],
    ['no content type', 415, 'content-type', { headers: { 'content-type': undefined } }],
    ['a form content type', 415, 'content-type', { headers: { 'content-type': 'application/x-www-form-urlencoded' } }],
    ['a missing name', 400, 'name', { body: { price: 100, breed: 'tabby' } }],
    ['an empty name', 400, 'name', { body: { ...valid, name: '' } }],
    ['a name of only white space', 400, 'name', { body: { ...valid, name: ' \t\n ' } }],
    ['a 101-character name', 400, 'name', { body: { ...valid, name: 'x'.repeat(101) } }],
    ['a numeric name', 400, 'name', { body: { ...valid, name: 42 } }],
    ['a name with a NUL character', 400, 'name', { body: { ...valid, name: 'To\u0000m' } }],
    ['a name with a lone surrogate', 400, 'name', { rawBody: '{"name":"\\ud800","price":1,"breed":"x"}' }],
    ['a missing breed', 400, 'breed', { body: { name: 'Tom', price: 100 } }],
    ['an empty breed', 400, 'breed', { body: { ...valid, breed: '   ' } }],
    ['a 101-character breed', 400, 'breed', { body: { ...valid, breed: 'b'.repeat(101) } }],
    ['a missing price', 400, 'price', { body: { name: 'Tom', breed: 'tabby' } }],
    ['a price given as a string', 400, 'price', { body: { ...valid, price: '100' } }],
    ['a fractional price', 400, 'price', { body: { ...valid, price: 10.5 } }],
    ['a negative price', 400, 'price', { body: { ...valid, price: -1 } }],
    ['a price over the integer range', 400, 'price', { body: { ...valid, price: 2147483648 } }],
    ['a huge price', 400, 'price', { rawBody: '{"name":"Tom","price":1e400,"breed":"x"}' }],
    ['a null price', 400, 'price', { body: { ...valid, price: null } }],
    ['a boolean price', 400, 'price', { body: { ...valid, price: true } }],
    ['an id in the body', 400, 'id', { body: { ...valid, id: 1 } }],
    ['a createdAt in the body', 400, 'createdAt', { body: { ...valid, createdAt: '2020-01-01T00:00:00Z' } }],
    ['an unknown field', 400, 'colour', { body: { ...valid, colour: 'black' } }],
  ];

  it.each(cases)(
    'rejects %s with a %i problem naming %s and changes nothing',
    async (_name, status, field, changes) => {
      const before = await catsTable();
      const reply = await call(createCat, httpEvent('create-cat', changes));
      expectProblem(reply, status, field);
      expect(await catsTable()).toEqual(before);
    },
  );

  // serverless-offline (npm start) hands a falsy JSON body over parsed, not as
  // the text Lambda gives: the answer must not depend on which one ran it.
  it.each([false, 0])('answers the body %p handed over parsed exactly as its JSON text', async (value) => {
    const asText = await call(createCat, httpEvent('create-cat', { body: value }));
    const offline = httpEvent('create-cat');
    (offline as { body: unknown }).body = value;
    const asValue = await call(createCat, offline);
    expectProblem(asValue, 400, 'body');
    expect({ ...asValue.body, requestId: '' }).toEqual({ ...asText.body, requestId: '' });
  });

  it('refuses a body over 16 KiB with 413 before parsing it, and takes one of exactly 16 KiB', async () => {
    const before = await catsTable();
    const json = JSON.stringify({ name: 'Big', price: 1, breed: 'x' });
    const tooBig = await call(
      createCat,
      httpEvent('create-cat', { rawBody: json + ' '.repeat(16 * 1024 - json.length + 1) }),
    );
    expectProblem(tooBig, 413, 'body');
    expect(await catsTable()).toEqual(before);
    const deepTooBig = await call(createCat, httpEvent('create-cat', { rawBody: '['.repeat(20000) }));
    expectProblem(deepTooBig, 413, 'body');
    const atLimit = await call(
      createCat,
      httpEvent('create-cat', { rawBody: json + ' '.repeat(16 * 1024 - json.length) }),
    );
    expect(atLimit.status).toBe(201);
  });

  it('lists every field at fault in one answer', async () => {
    const reply = await call(createCat, httpEvent('create-cat', { body: { name: '', price: -5 } }));
    expectProblem(reply, 400);
    expect(reply.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['breed', 'name', 'price']);
    expect(reply.body.errors[0]).toMatchObject({ in: 'body', pointer: expect.stringMatching(/^#\//) });
  });
});

describe('GET /cats/{id}', () => {
  it('returns the cat', async () => {
    const cat = await addCat({ name: 'Felix' });
    const reply = await call(getCat, httpEvent('get-cat', { id: cat.id }));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual(cat);
  });

  it('answers 404 as a problem for an id that does not exist', async () => {
    const reply = await call(getCat, httpEvent('get-cat', { id: 2147483647 }));
    expectProblem(reply, 404);
    expect(reply.body.detail).toBe('cat 2147483647 does not exist');
  });

  it.each(['0', '-1', 'abc', '1.5', '01', '1e3', '2147483648', '99999999999', ' 1', "1'--"])(
    'rejects the id %j with a 400 naming id',
    async (id) => {
      expectProblem(await call(getCat, httpEvent('get-cat', { id })), 400, 'id');
    },
  );
});

describe('GET /cats', () => {
  it('pages through a breed in id order with keyset cursors, ending with a null cursor', async () => {
    const breed = uniqueBreed();
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await addCat({ breed, name: `cat ${i}` }));
    const seen = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: Record<string, string> = { breed, limit: '2', ...(cursor ? { cursor } : {}) };
      const reply = await call(listCats, httpEvent('list-cats', { query }));
      expect(reply.status).toBe(200);
      expect(reply.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...reply.body.items);
      cursor = reply.body.nextCursor;
      pages += 1;
    } while (cursor !== null);
    expect(pages).toBe(3);
    expect(seen).toEqual(created);
  });

  it('defaults to 20 items per page', async () => {
    const breed = uniqueBreed();
    for (let i = 0; i < 21; i++) await addCat({ breed });
    const reply = await call(listCats, httpEvent('list-cats', { query: { breed } }));
    expect(reply.body.items).toHaveLength(20);
    expect(reply.body.nextCursor).toEqual(expect.any(String));
  });

  it('answers an empty list for a breed nobody has', async () => {
    const reply = await call(listCats, httpEvent('list-cats', { query: { breed: uniqueBreed() } }));
    expect(reply.body).toEqual({ items: [], nextCursor: null });
  });

  it('neither skips nor repeats a cat when cats are added and removed between pages', async () => {
    const breed = uniqueBreed();
    const [a, b, c] = [await addCat({ breed }), await addCat({ breed }), await addCat({ breed })];
    const first = await call(listCats, httpEvent('list-cats', { query: { breed, limit: '2' } }));
    expect(first.body.items).toEqual([a, b]);
    await call(deleteCat, httpEvent('delete-cat', { id: a.id }));
    const late = await addCat({ breed });
    const cursor = first.body.nextCursor;
    const second = await call(listCats, httpEvent('list-cats', { query: { breed, limit: '2', cursor } }));
    expect(second.body.items).toEqual([c, late]);
  });

  it.each([
    ['limit', { limit: '0' }],
    ['limit', { limit: '101' }],
    ['limit', { limit: 'ten' }],
    ['limit', { limit: '-1' }],
    ['limit', { limit: '1,2' }],
    ['cursor', { cursor: 'not-a-cursor' }],
    ['cursor', { cursor: Buffer.from('{"v":1,"after":"1 OR 1=1","breed":null}').toString('base64url') }],
    ['cursor', { cursor: Buffer.from('{"v":2,"after":1,"breed":null}').toString('base64url') }],
    ['cursor', { cursor: 'x'.repeat(600) }],
    ['breed', { breed: 'b'.repeat(101) }],
    ['sort', { sort: 'breed' }],
    ['order', { order: 'up' }],
    ['minPrice', { minPrice: '-1' }],
    ['maxPrice', { maxPrice: '1.5' }],
    ['maxPrice', { minPrice: '10', maxPrice: '9' }],
    ['name', { name: '' }],
  ])('rejects a bad %s parameter with a 400 naming it', async (field, query) => {
    expectProblem(await call(listCats, httpEvent('list-cats', { query })), 400, field);
  });

  it('rejects a cursor issued for another breed filter', async () => {
    const breed = uniqueBreed();
    await addCat({ breed });
    await addCat({ breed });
    const first = await call(listCats, httpEvent('list-cats', { query: { breed, limit: '1' } }));
    const replay = await call(
      listCats,
      httpEvent('list-cats', { query: { limit: '1', cursor: first.body.nextCursor } }),
    );
    expectProblem(replay, 400, 'cursor');
  });
});

describe('GET /cats with a forged cursor', () => {
  // Each cursor is bound to the very listing it is sent with, so only the
  // check of its key against the sort column's type stands between it and a
  // cast in SQL.
  const forge = (query: Record<string, string>, key: unknown, id: unknown = 1) => {
    const listing = listingOf(catListing, {
      limit: 20,
      sort: 'id',
      order: 'asc',
      ...query,
    } as unknown as AnyListQuery);
    const document = { v: 3, s: listing.sort, o: listing.order, f: listing.filter, k: key, i: id };
    return Buffer.from(JSON.stringify(document)).toString('base64url');
  };

  it.each<[string, Record<string, string>, unknown, unknown?]>([
    ['text where the integer id is', { sort: 'id' }, 'abc'],
    ['an integer beyond the integer column', { sort: 'price' }, '2147483648'],
    ['an integer below the integer column', { sort: 'price' }, '-2147483649'],
    ['a huge integer', { sort: 'id' }, '9'.repeat(400)],
    ['a fraction', { sort: 'price' }, '1.5'],
    ['an integer with SQL after it', { sort: 'id' }, '1) OR (1=1'],
    ['a number, not the text PostgreSQL gives', { sort: 'id' }, 5],
    ['null', { sort: 'id' }, null],
    ['a NUL byte in a name key', { sort: 'name' }, 'a\u0000b'],
    ['a lone surrogate in a name key', { sort: 'name' }, '\ud800'],
    ['a name key longer than a name can be', { sort: 'name' }, 'x'.repeat(101)],
    ['not a timestamp', { sort: 'createdAt' }, 'yesterday'],
    ['the 30th of February', { sort: 'createdAt' }, '2026-02-30 10:00:00+00'],
    ['hour 25', { sort: 'createdAt' }, '2026-02-01 25:00:00+00'],
    ['an offset of 99 hours', { sort: 'createdAt' }, '2026-02-01 10:00:00+99'],
    ['a timestamp in another format', { sort: 'createdAt', order: 'desc' }, '2026-02-01T10:00:00Z'],
    ['a valid key but an id beyond the integer column', { sort: 'id' }, '5', 2147483648],
    ['a valid key but a text id', { sort: 'name' }, 'Tom', 'x'],
  ])('rejects a cursor holding %s with a 400 naming cursor, before any SQL', async (_label, query, key, id = 1) => {
    const cursor = forge(query, key, id);
    const reply = await call(listCats, httpEvent('list-cats', { query: { ...query, cursor } }));
    expectProblem(reply, 400, 'cursor');
  });

  it('rejects a huge cursor with a 400 naming cursor', async () => {
    const cursor = forge({ sort: 'name' }, 'x'.repeat(100_000));
    expectProblem(await call(listCats, httpEvent('list-cats', { query: { sort: 'name', cursor } })), 400, 'cursor');
  });

  it.each(['name', 'createdAt', 'price'])(
    'accepts back every cursor it issued for the longest filters and keys there can be (sort=%s)',
    async (sort) => {
      const longest = '😺'.repeat(100);
      await addCat({ name: longest, breed: longest, price: 2147483647 });
      await addCat({ name: longest, breed: longest, price: 2147483647 });
      for (const order of ['asc', 'desc']) {
        const query = { breed: longest, name: longest, sort, order, limit: '1' };
        const first = await call(listCats, httpEvent('list-cats', { query }));
        expect(first.status).toBe(200);
        expect(first.body.nextCursor).toEqual(expect.any(String));
        const second = await call(
          listCats,
          httpEvent('list-cats', { query: { ...query, cursor: first.body.nextCursor } }),
        );
        expect(second.status).toBe(200);
        expect(second.body.items).toHaveLength(1);
        expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
      }
    },
  );
});

describe('GET /cats sorted and filtered', () => {
  /** Every page of a listing, following nextCursor. */
  async function allPages(query: Record<string, string>) {
    const items = [];
    let cursor: string | null = null;
    do {
      const reply = await call(
        listCats,
        httpEvent('list-cats', { query: { ...query, ...(cursor ? { cursor } : {}) } }),
      );
      expect(reply.status).toBe(200);
      items.push(...reply.body.items);
      cursor = reply.body.nextCursor;
    } while (cursor !== null);
    return items;
  }

  const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

  it.each([
    ['name', 'asc'],
    ['name', 'desc'],
    ['price', 'asc'],
    ['price', 'desc'],
    ['createdAt', 'asc'],
    ['createdAt', 'desc'],
    ['id', 'desc'],
  ])('pages through cats sorted by %s %s, ties broken by id, none skipped or repeated', async (sort, order) => {
    const breed = uniqueBreed();
    // Duplicate names and prices: the tie-breaker has to work across pages.
    for (const [name, price] of [
      ['b', 2],
      ['a', 2],
      ['b', 1],
      ['c', 3],
      ['a', 2],
      ['b', 2],
      ['a', 1],
    ] as const) {
      await addCat({ breed, name, price });
    }
    const items = await allPages({ breed, sort, order, limit: '2' });
    const key = (c: { id: number; name: string; price: number; createdAt: string }) =>
      sort === 'name' ? c.name : sort === 'price' ? c.price : sort === 'createdAt' ? c.createdAt : c.id;
    const expected = [...items].sort((x, y) => {
      const byKey = compare(key(x), key(y)) || compare(x.id, y.id);
      return order === 'asc' ? byKey : -byKey;
    });
    expect(items).toHaveLength(7);
    expect(new Set(items.map((c) => c.id)).size).toBe(7);
    expect(items).toEqual(expected);
  });

  it('filters by price range, inclusive at both ends', async () => {
    const breed = uniqueBreed();
    for (const price of [5, 10, 15, 20, 25]) await addCat({ breed, price });
    const items = await allPages({ breed, minPrice: '10', maxPrice: '20', limit: '1' });
    expect(items.map((c) => c.price)).toEqual([10, 15, 20]);
  });

  it('finds cats by a case-insensitive name prefix, taking % and _ literally', async () => {
    const breed = uniqueBreed();
    for (const name of ['Tom', 'tommy', 'Tim', 'atom', '50%_off', '50xyoff']) await addCat({ breed, name });
    expect((await allPages({ breed, name: 'TOM' })).map((c) => c.name)).toEqual(['Tom', 'tommy']);
    expect((await allPages({ breed, name: '50%_' })).map((c) => c.name)).toEqual(['50%_off']);
  });

  it('rejects a cursor used with another sort than it was issued for', async () => {
    const breed = uniqueBreed();
    await addCat({ breed });
    await addCat({ breed });
    const first = await call(listCats, httpEvent('list-cats', { query: { breed, sort: 'price', limit: '1' } }));
    const replay = await call(
      listCats,
      httpEvent('list-cats', { query: { breed, sort: 'name', limit: '1', cursor: first.body.nextCursor } }),
    );
    expectProblem(replay, 400, 'cursor');
  });
});

describe('GET / (the tutorial route)', () => {
  it('answers a bare JSON array with an RFC 8288 Link to the next page', async () => {
    const breed = uniqueBreed();
    const a = await addCat({ breed });
    const b = await addCat({ breed });
    const first = await call(listCats, httpEvent('list-cats-tutorial', { query: { breed, limit: '1' } }));
    expect(first.status).toBe(200);
    expect(first.body).toEqual([a]);
    const link = first.headers.link ?? '';
    expect(link).toMatch(/^<\/\?[^>]+>; rel="next"$/);
    const next = new URL(link.slice(1, link.indexOf('>')), 'http://localhost');
    expect(next.searchParams.get('breed')).toBe(breed);
    const second = await call(
      listCats,
      httpEvent('list-cats-tutorial', { query: Object.fromEntries(next.searchParams) }),
    );
    expect(second.body).toEqual([b]);
    expect(second.headers.link).toBeUndefined();
  });
});

describe('PATCH /cats/{id}', () => {
  it('changes only the fields sent and moves updatedAt forward', async () => {
    const cat = await addCat({ name: 'Garfield', price: 100, breed: 'persian' });
    const reply = await call(updateCat, httpEvent('update-cat', { id: cat.id, body: { price: 250 } }));
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      id: cat.id,
      name: 'Garfield',
      price: 250,
      breed: 'persian',
      createdAt: cat.createdAt,
    });
    expect(Date.parse(reply.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(cat.updatedAt));
    expect((await call(getCat, httpEvent('get-cat', { id: cat.id }))).body).toEqual(reply.body);
  });

  it("answers the tutorial's PATCH /edit/{id} with a price body", async () => {
    const cat = await addCat();
    const reply = await call(updateCat, httpEvent('update-cat-tutorial', { id: cat.id }));
    expect(reply.status).toBe(200);
    expect(reply.body.price).toBe(4500);
  });

  it('answers 404 for a cat that does not exist, and creates nothing', async () => {
    const before = await catsTable();
    expectProblem(await call(updateCat, httpEvent('update-cat', { id: 2147483646, body: { price: 1 } })), 404);
    expect(await catsTable()).toEqual(before);
  });

  it.each([
    ['an empty object', 400, 'body', { body: {} }],
    ['an id', 400, 'id', { body: { id: 7 } }],
    ['an updatedAt', 400, 'updatedAt', { body: { updatedAt: '2020-01-01T00:00:00Z' } }],
    ['a null name', 400, 'name', { body: { name: null } }],
    ['an empty breed', 400, 'breed', { body: { breed: '' } }],
    ['a float price', 400, 'price', { body: { price: 1.25 } }],
    ['a price as a string', 400, 'price', { body: { price: '4500' } }],
    ['a valid price beside an invalid name', 400, 'name', { body: { price: 1, name: '' } }],
    ['no content type', 415, 'content-type', { body: { price: 1 }, headers: { 'content-type': undefined } }],
    ['a body that is not JSON', 400, 'body', { rawBody: 'price=1' }],
  ] as const)(
    'rejects %s with a %i problem naming %s and leaves the cat as it was',
    async (_name, status, field, changes) => {
      const cat = await addCat();
      const before = await catsTable();
      expectProblem(await call(updateCat, httpEvent('update-cat', { id: cat.id, ...changes })), status, field);
      expect(await catsTable()).toEqual(before);
    },
  );

  it('rejects a bad id before looking at the body', async () => {
    expectProblem(await call(updateCat, httpEvent('update-cat', { id: 'abc', body: { price: 1 } })), 400, 'id');
  });
});

describe('DELETE /cats/{id}', () => {
  it('removes the cat and answers 204 with no body; a second delete is 404', async () => {
    const cat = await addCat();
    const reply = await call(deleteCat, httpEvent('delete-cat', { id: cat.id }));
    expect(reply.status).toBe(204);
    expect(reply.raw.body).toBeUndefined();
    expectProblem(await call(getCat, httpEvent('get-cat', { id: cat.id })), 404);
    expectProblem(await call(deleteCat, httpEvent('delete-cat', { id: cat.id })), 404);
  });

  it("answers the tutorial's DELETE /remove/{id} the same way", async () => {
    const cat = await addCat();
    expect((await call(deleteCat, httpEvent('delete-cat-tutorial', { id: cat.id }))).status).toBe(204);
  });

  it('rejects a bad id with 400 and deletes nothing', async () => {
    const before = await catsTable();
    expectProblem(await call(deleteCat, httpEvent('delete-cat', { id: '1 OR 1=1' })), 400, 'id');
    expect(await catsTable()).toEqual(before);
  });
});

describe('conditional requests (ETag, If-Match, If-None-Match)', () => {
  it('gives every representation an ETag that changes with each update', async () => {
    const cat = await addCat();
    const read = await call(getCat, httpEvent('get-cat', { id: cat.id }));
    expect(read.headers.etag).toBe('"1"');
    const changed = await call(updateCat, httpEvent('update-cat', { id: cat.id, body: { price: 1 } }));
    expect(changed.headers.etag).toBe('"2"');
    expect(changed.body.version).toBe(2);
  });

  it('answers GET with 304 and no body while If-None-Match still matches, and 200 once the cat changed', async () => {
    const cat = await addCat();
    const fresh = await call(getCat, httpEvent('get-cat', { id: cat.id, headers: { 'if-none-match': '"1"' } }));
    expect(fresh.status).toBe(304);
    expect(fresh.raw.body).toBeUndefined();
    expect(fresh.headers.etag).toBe('"1"');
    const weak = await call(getCat, httpEvent('get-cat', { id: cat.id, headers: { 'if-none-match': 'W/"0", W/"1"' } }));
    expect(weak.status).toBe(304);
    await call(updateCat, httpEvent('update-cat', { id: cat.id, body: { name: 'changed' } }));
    const stale = await call(getCat, httpEvent('get-cat', { id: cat.id, headers: { 'if-none-match': '"1"' } }));
    expect(stale.status).toBe(200);
    expect(stale.body.name).toBe('changed');
  });

  it('applies a PATCH whose If-Match is the current ETag', async () => {
    const cat = await addCat();
    const reply = await call(
      updateCat,
      httpEvent('update-cat', { id: cat.id, body: { price: 7 }, headers: { 'if-match': '"1"' } }),
    );
    expect(reply.status).toBe(200);
    expect(reply.body.price).toBe(7);
  });

  it('refuses a PATCH based on a stale ETag with 412 and the current ETag, changing nothing', async () => {
    const cat = await addCat();
    await call(updateCat, httpEvent('update-cat', { id: cat.id, body: { price: 2 } }));
    const before = await catsTable();
    const reply = await call(
      updateCat,
      httpEvent('update-cat', { id: cat.id, body: { price: 3 }, headers: { 'if-match': '"1"' } }),
    );
    expectProblem(reply, 412, 'if-match');
    expect(reply.headers.etag).toBe('"2"');
    expect(await catsTable()).toEqual(before);
  });

  it('lets exactly one of two clients that read the same version write', async () => {
    const cat = await addCat();
    const edit = (price: number) =>
      call(updateCat, httpEvent('update-cat', { id: cat.id, body: { price }, headers: { 'if-match': '"1"' } }));
    const replies = await Promise.all([edit(10), edit(20)]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 412]);
    const winner = replies.find((r) => r.status === 200);
    expect((await call(getCat, httpEvent('get-cat', { id: cat.id }))).body.price).toBe(winner?.body.price);
  });

  it('treats a weak or unknown tag in If-Match as not matching (strong comparison)', async () => {
    const cat = await addCat();
    for (const ifMatch of ['W/"1"', '"abc"', '"99"']) {
      const reply = await call(
        updateCat,
        httpEvent('update-cat', { id: cat.id, body: { price: 3 }, headers: { 'if-match': ifMatch } }),
      );
      expectProblem(reply, 412);
    }
  });

  it.each(['"2147483648"', '"9999999999"', '"99999999999999999999"', '"1", "4294967296"'])(
    'treats If-Match %s, beyond any version there can be, as not matching: 412 and nothing changed, never a 500',
    async (ifMatch) => {
      const cat = await addCat();
      const headers = { 'if-match': ifMatch };
      await call(updateCat, httpEvent('update-cat', { id: cat.id, body: { price: 2 } }));
      expectProblem(await call(updateCat, httpEvent('update-cat', { id: cat.id, body: { price: 3 }, headers })), 412);
      expectProblem(await call(deleteCat, httpEvent('delete-cat', { id: cat.id, headers })), 412);
      expect((await call(getCat, httpEvent('get-cat', { id: cat.id }))).body).toMatchObject({ price: 2, version: 2 });
    },
  );

  it('answers 404, not 412, for a conditional write to a cat that does not exist', async () => {
    const reply = await call(deleteCat, httpEvent('delete-cat', { id: 2147483645, headers: { 'if-match': '"1"' } }));
    expectProblem(reply, 404);
  });

  it('deletes only with the current ETag when If-Match is sent, or with *', async () => {
    const cat = await addCat();
    await call(updateCat, httpEvent('update-cat', { id: cat.id, body: { price: 2 } }));
    expectProblem(await call(deleteCat, httpEvent('delete-cat', { id: cat.id, headers: { 'if-match': '"1"' } })), 412);
    expect((await call(getCat, httpEvent('get-cat', { id: cat.id }))).status).toBe(200);
    expect((await call(deleteCat, httpEvent('delete-cat', { id: cat.id, headers: { 'if-match': '*' } }))).status).toBe(
      204,
    );
  });

  it.each(['1', '"unterminated', 'W/1', '"a" "b"'])(
    'rejects the malformed If-Match %j with a 400 naming the header',
    async (ifMatch) => {
      const cat = await addCat();
      const reply = await call(
        updateCat,
        httpEvent('update-cat', { id: cat.id, body: { price: 3 }, headers: { 'if-match': ifMatch } }),
      );
      expectProblem(reply, 400, 'if-match');
    },
  );
});
