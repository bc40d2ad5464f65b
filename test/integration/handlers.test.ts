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
});

describe('bad input to POST /cats', () => {
  const valid = { name: 'Tom', price: 100, breed: 'tabby' };
  const cases: Array<
    [string, number, string, { body?: unknown; rawBody?: string; headers?: Record<string, string | undefined> }]
  > = [
    ['a missing name', 400, 'name', { body: { price: 100, breed: 'tabby' } }],
    ['an empty name', 400, 'name', { body: { ...valid, name: '' } }],
    ['a name of only white space', 400, 'name', { body: { ...valid, name: ' \t\n ' } }],
    ['a 101-character name', 400, 'name', { body: { ...valid, name: 'x'.repeat(101) } }],
    ['a numeric name', 400, 'name', { body: { ...valid, name: 42 } }],
    ['a name with a NUL character', 400, 'name', { body: { ...valid, name: 'To\u0000m' } }],
    ['a name with a lone surrogate', 400, 'name', { rawBody: '{"name":"\\ud800","price":1,"breed":"x"}' }],
    ['a name of only a zero-width space', 400, 'name', { body: { ...valid, name: '\u200b' } }],
    ['a name of only a Mongolian vowel separator', 400, 'name', { body: { ...valid, name: '\u180e' } }],
    ['a name of only invisible characters and spaces', 400, 'name', { body: { ...valid, name: ' \ufeff\u2060 ' } }],
    ['a name with a bidi override', 400, 'name', { body: { ...valid, name: 'Tom\u202emoT' } }],
    ['a name with a bidi isolate', 400, 'name', { body: { ...valid, name: '\u2066Tom\u2069' } }],
    ['a name with a C1 control character', 400, 'name', { body: { ...valid, name: 'To\u0085m' } }],
    ['a breed with a C0 control character', 400, 'breed', { body: { ...valid, breed: '\u001f' } }],
    ['a breed with a line break', 400, 'breed', { body: { ...valid, breed: 'tab\nby' } }],
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
  it('lists every field at fault in one answer', async () => {
    const reply = await call(createCat, httpEvent('create-cat', { body: { name: '', price: -5 } }));
    expectProblem(reply, 400);
    expect(reply.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['breed', 'name', 'price']);
    expect(reply.body.errors[0]).toMatchObject({ in: 'body', pointer: expect.stringMatching(/^#\//) });
  });
});

describe('GET /cats', () => {
  it('answers an empty list for a breed nobody has', async () => {
    const reply = await call(listCats, httpEvent('list-cats', { query: { breed: uniqueBreed() } }));
    expect(reply.body).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ['cursor', { cursor: Buffer.from('{"v":2,"after":1,"breed":null}').toString('base64url') }],
    ['breed', { breed: 'b'.repeat(101) }],
    ['sort', { sort: 'breed' }],
    ['minPrice', { minPrice: '-1' }],
    ['maxPrice', { maxPrice: '1.5' }],
    ['maxPrice', { minPrice: '10', maxPrice: '9' }],
    ['name', { name: '' }],
  ])('rejects a bad %s parameter with a 400 naming it', async (field, query) => {
    expectProblem(await call(listCats, httpEvent('list-cats', { query })), 400, field);
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
  it("answers the tutorial's PATCH /edit/{id} with a price body", async () => {
    const cat = await addCat();
    const reply = await call(updateCat, httpEvent('update-cat-tutorial', { id: cat.id }));
    expect(reply.status).toBe(200);
    expect(reply.body.price).toBe(4500);
  });

  it.each([
    ['a null name', 400, 'name', { body: { name: null } }],
    ['an empty breed', 400, 'breed', { body: { breed: '' } }],
    ['a float price', 400, 'price', { body: { price: 1.25 } }],
    ['a price as a string', 400, 'price', { body: { price: '4500' } }],
    ['a valid price beside an invalid name', 400, 'name', { body: { price: 1, name: '' } }],
  ] as const)(
    'rejects %s with a %i problem naming %s and leaves the cat as it was',
    async (_name, status, field, changes) => {
      const cat = await addCat();
      const before = await catsTable();
      expectProblem(await call(updateCat, httpEvent('update-cat', { id: cat.id, ...changes })), status, field);
      expect(await catsTable()).toEqual(before);
    },
  );
});

describe('DELETE /cats/{id}', () => {
  it("answers the tutorial's DELETE /remove/{id} the same way", async () => {
    const cat = await addCat();
    expect((await call(deleteCat, httpEvent('delete-cat-tutorial', { id: cat.id }))).status).toBe(204);
  });
});

describe('entity-tag lists (RFC 9110)', () => {
  it('reads entity tags with commas inside their quotes: If-Match "a,b" is a 412, If-None-Match "a,b", "1" a 304', async () => {
    const cat = await addCat();
    const refused = await call(
      updateCat,
      httpEvent('update-cat', { id: cat.id, body: { price: 3 }, headers: { 'if-match': '"a,b"' } }),
    );
    expectProblem(refused, 412, 'if-match');
    const notModified = await call(
      getCat,
      httpEvent('get-cat', { id: cat.id, headers: { 'if-none-match': '"a,b", "1"' } }),
    );
    expect(notModified.status).toBe(304);
    const applied = await call(
      updateCat,
      httpEvent('update-cat', { id: cat.id, body: { price: 3 }, headers: { 'if-match': '"x,y", "1"' } }),
    );
    expect(applied.status).toBe(200);
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
