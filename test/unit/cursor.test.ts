import { catListing, type ListQuery } from '../../lib/cats/schema.js';
import { HttpProblem } from '../../lib/http/problem.js';
import {
  type ListQuery as AnyListQuery,
  decodeCursor as decode,
  encodeCursor,
  type Listing,
  type ListingSpec,
  listingOf,
  type Position,
} from '../../lib/listing.js';

const encodeRaw = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const listing = (query: Partial<ListQuery>): Listing =>
  listingOf(catListing, { limit: 20, sort: 'id', order: 'asc', ...query } as AnyListQuery);
const decodeCursor = (raw: string, of: Listing) => decode(catListing, raw, of);
const byId = listing({});

/** Calls decodeCursor expecting it to throw, and returns what it threw. */
function rejection(raw: string, listing: Listing = byId): HttpProblem {
  try {
    decodeCursor(raw, listing);
  } catch (error) {
    expect(error).toBeInstanceOf(HttpProblem);
    return error as HttpProblem;
  }
  throw new Error(`decodeCursor accepted ${JSON.stringify(raw)}`);
}

describe('cursor', () => {
  it.each<[Listing, Position]>([
    [byId, { key: '1', id: 1 }],
    [listing({ sort: 'name', order: 'desc', breed: 'bengal', name: 'to' }), { key: 'Maine Coon 🐱 ünïcode', id: 42 }],
    [listing({ sort: 'createdAt' }), { key: '2026-11-23 20:07:57.901234+00', id: 2147483647 }],
  ])('decodes what it encoded for the same listing: %j', (listing, position) => {
    expect(decodeCursor(encodeCursor(listing, position), listing)).toEqual(position);
  });

  it('is opaque and URL-safe', () => {
    expect(encodeCursor(byId, { key: 'a/b+c?d=e', id: 123 })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  const valid = encodeCursor(byId, { key: '5', id: 5 });
  const document = { v: 3, s: 'id', o: 'asc', f: byId.filter, k: '5', i: 5 };

  it.each([
    ['empty', ''],
    ['not base64url', 'abc$%^'],
    ['padded standard base64', `${Buffer.from(JSON.stringify(document)).toString('base64')}=`],
    ['garbage that decodes to no JSON', 'abcdefgh'],
    ['truncated', valid.slice(0, -2)],
    ['a JSON number', encodeRaw(5)],
    ['JSON null', encodeRaw(null)],
    ['another version', encodeRaw({ ...document, v: 1 })],
    ['a negative id', encodeRaw({ ...document, i: -1 })],
    ['an id beyond the integer range', encodeRaw({ ...document, i: 2147483648 })],
    ['a fractional id', encodeRaw({ ...document, i: 1.5 })],
    ['an id as a string', encodeRaw({ ...document, i: '5' })],
    ['an unknown sort', encodeRaw({ ...document, s: 'breed' })],
    ['an extra member', encodeRaw({ ...document, admin: true })],
    ['no key member', encodeRaw({ v: 3, s: 'id', o: 'asc', f: byId.filter, i: 5 })],
  ])('rejects a cursor that is %s with a 400 naming cursor', (_label, raw) => {
    const problem = rejection(raw);
    expect(problem.status).toBe(400);
    expect(problem.errors).toEqual([{ field: 'cursor', in: 'query', detail: 'is not a cursor this API issued' }]);
  });

  it.each<[string, Listing]>([
    ['another sort', listing({ sort: 'price' })],
    ['another order', listing({ order: 'desc' })],
    ['other filters', listing({ breed: 'bengal' })],
  ])('rejects a cursor used with %s than it was issued for', (_label, listing) => {
    const problem = rejection(valid, listing);
    expect(problem.status).toBe(400);
    expect(problem.errors?.[0]?.field).toBe('cursor');
    expect(problem.detail).toMatch(/different listing/);
  });

  it('does not echo the raw cursor back in its problem', () => {
    const problem = rejection('<script>alert(1)</script>');
    expect(JSON.stringify({ ...problem, detail: problem.detail })).not.toContain('script');
  });
});

describe('a cursor key, checked against its sort column type before any SQL runs', () => {
  const spec: ListingSpec = {
    table: 'cats',
    sorts: {
      id: { column: 'id', type: 'integer' },
      name: { column: 'name', type: 'text', maxLength: 5 },
      at: { column: 'created_at', type: 'timestamptz' },
      day: { column: 'visited_on', type: 'date' },
    },
    filters: {},
    defaultPageSize: 20,
    maxPageSize: 100,
  };
  const of = (sort: string) => listingOf(spec, { limit: 20, sort, order: 'asc' });
  const cursorFor = (sort: string, key: string) => encodeCursor(of(sort), { key, id: 7 });

  it.each([
    ['id', '-2147483648'],
    ['id', '2147483647'],
    ['name', 'Tom 😺'],
    ['at', '2026-11-23 20:07:57+05:30'],
    ['day', '2026-03-01'],
    ['day', '2024-02-29'],
    ['day', '0001-01-01'],
    ['day', '9999-12-31'],
  ])('takes the %s key %j', (sort, key) => {
    expect(decode(spec, cursorFor(sort, key), of(sort))).toEqual({ key, id: 7 });
  });

  it.each([
    ['id', '2147483648'],
    ['id', '1.5'],
    ['name', 'Tomcat'],
    ['name', 'a\u0000'],
    ['at', '2026-02-30 00:00:00+00'],
    ['at', '2026-11-23'],
    ['day', '2026-02-30'],
    ['day', '2025-02-29'],
    ['day', '0000-01-01'],
    ['day', '2026-3-1'],
    ['day', '2026-03-01 00:00:00+00'],
    ['day', '2026-03-01 BC'],
    ['day', 'infinity'],
    ['day', '01/03/2026'],
  ])('refuses the %s key %j with a 400 naming cursor', (sort, key) => {
    let thrown: unknown;
    try {
      decode(spec, cursorFor(sort, key), of(sort));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HttpProblem);
    expect((thrown as HttpProblem).errors).toEqual([
      { field: 'cursor', in: 'query', detail: 'is not a cursor this API issued' },
    ]);
  });
});
