/**
 * Keyset listing for any table, described as data: which columns a client may
 * sort by, which filters it may apply, how large a page may be. From one
 * description come the query-parameter schema, the SQL (compiled once per
 * shape), the cursors and the OpenAPI parameters.
 *
 * Pages are keyset-based on (sort key, id), both in the same direction, so a
 * row added or removed between two pages never makes a client see one twice
 * or miss one, and a deep page costs what the first does, provided an index
 * ends in (sort column, id) for every sort, alone and after each equality
 * filter (test/integration/listing-plans.test.ts checks every combination).
 *
 * Cursors are opaque to clients (base64url of a small JSON document), bound to
 * the listing they were issued for (sort, order, a hash of the filters), and
 * hold the last row's sort key (as PostgreSQL's text for it) and id. A cursor
 * is checked against the sort key's column type before any SQL runs, so a
 * forged one is a 400, never a failed cast in the database.
 */
import { type Kysely, sql } from 'kysely';
import { cachedQuery } from './db/query-cache.js';
import type { Database } from './db/schema.js';
import { datePattern, integerParameter, maxInteger } from './fields.js';
import { fieldProblem } from './http/problem.js';
import * as z from './validation.js';

/** The PostgreSQL type of a sort column, which the cursor's key is checked against and cast to. */
export type KeyType = 'integer' | 'text' | 'timestamptz' | 'date';

export interface SortKey {
  column: string;
  type: KeyType;
  /** For text: the column's length limit in characters, which bounds a cursor's size. */
  maxLength?: number;
}

/**
 * How a filter parameter narrows the rows: `equals` (an index on (column,
 * sort column, id) keeps it an index scan), `atLeast` and `atMost`
 * (inclusive bounds), `startsWith` (a case-insensitive prefix; `%` and `_`
 * are plain characters; backed by an index on lower(column) text_pattern_ops).
 */
export type FilterOperator = 'equals' | 'atLeast' | 'atMost' | 'startsWith';

export interface Filter {
  column: string;
  operator: FilterOperator;
  /** The query parameter's schema (lib/fields.ts). */
  schema: z.ZodMiniType;
  /** One sentence for the OpenAPI document. */
  description: string;
}

export interface ListingSpec {
  table: keyof Database & string;
  /** Sort keys by the name clients use in `sort`; the first is the default. Ties are broken by `id`. */
  sorts: Record<string, SortKey>;
  /** Filters by query parameter name. */
  filters: Record<string, Filter>;
  defaultPageSize: number;
  maxPageSize: number;
  /** Checks across parameters, e.g. a minimum not above a maximum. */
  checks?: Array<z.core.$ZodCheck<any>>;
}

/** The validated query of a listing: page size, cursor, sort, order, and the filters given. */
export interface ListQuery {
  limit: number;
  cursor?: string | undefined;
  sort: string;
  order: 'asc' | 'desc';
  [filter: string]: unknown;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** The sort, order and filters a cursor is bound to. */
export interface Listing {
  sort: string;
  order: 'asc' | 'desc';
  /** A hash of the filters' values, in the spec's order. */
  filter: string;
}

/** Where a page starts: strictly after this (sort key, id) pair. */
export interface Position {
  /** The last row's sort key, as PostgreSQL's text for it. */
  key: string;
  id: number;
}

const notIssued = 'is not a cursor this API issued';

/** The schema of a listing's query parameters. */
/* @__NO_SIDE_EFFECTS__ */
export function listQuerySchema(spec: ListingSpec) {
  const sorts = Object.keys(spec.sorts) as [string, ...string[]];
  const filters = Object.fromEntries(Object.entries(spec.filters).map(([name, f]) => [name, z.optional(f.schema)]));
  const schema = z.strictObject({
    limit: z._default(integerParameter(1, spec.maxPageSize), spec.defaultPageSize),
    cursor: z.optional(z.string().check(z.maxLength(maxCursorLength(spec), notIssued))),
    sort: z._default(z.enum(sorts, { error: `must be one of ${sorts.join(', ')}` }), sorts[0]),
    order: z._default(z.enum(['asc', 'desc'], { error: 'must be asc or desc' }), 'asc'),
    ...filters,
  });
  return (spec.checks?.length ? schema.check(...spec.checks) : schema) as unknown as z.ZodMiniType<
    ListQuery,
    Record<string, string | undefined>
  >;
}

/**
 * cyrb53 (public domain): a 53-bit hash, enough to tell one listing's filters
 * from another's. It is not a security boundary: a cursor with a matching
 * hash still only says where a page starts, and its key is checked.
 */
function hash53(text: string): string {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

export function listingOf(spec: ListingSpec, query: ListQuery): Listing {
  const values = Object.keys(spec.filters).map((name) => query[name] ?? null);
  return { sort: query.sort, order: query.order, filter: hash53(JSON.stringify(values)) };
}

const dateKey = /* @__PURE__ */ new RegExp(datePattern);

const keyChecks: Record<KeyType, (key: string, sort: SortKey) => boolean> = {
  integer: (key) => /^-?(0|[1-9][0-9]{0,9})$/.test(key) && Number(key) >= -maxInteger - 1 && Number(key) <= maxInteger,
  text: (key, sort) =>
    key.isWellFormed() && !key.includes('\u0000') && [...key].length <= (sort.maxLength ?? Number.POSITIVE_INFINITY),
  timestamptz: (key) => {
    // PostgreSQL's output for timestamptz in the ISO DateStyle:
    // 2026-11-23 20:07:57.901234+00 (the offset may have minutes).
    const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.\d{1,6})?[+-](\d{2})(?::(\d{2}))?$/.exec(key);
    if (!m) return false;
    const [, y, mo, d, h, mi, s, oh, om = 0] = m.map((part) => (part === undefined ? undefined : Number(part))) as [
      unknown,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number | undefined,
    ];
    const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    return (
      date.getUTCFullYear() === y &&
      date.getUTCMonth() === mo - 1 &&
      date.getUTCDate() === d &&
      date.getUTCHours() === h &&
      date.getUTCMinutes() === mi &&
      date.getUTCSeconds() === s &&
      oh <= 15 &&
      om < 60
    );
  },
  // PostgreSQL's output for date in the ISO DateStyle, within the years
  // lib/fields.ts's date() accepts: the column holds no other.
  date: (key) => dateKey.test(key),
};

/** The longest JSON text of a cursor document, hence the longest cursor, for this listing. */
function maxCursorLength(spec: ListingSpec): number {
  const longestSort = Math.max(...Object.keys(spec.sorts).map((name) => name.length));
  // A character of a text key is at most 6 bytes in JSON (\u0001); 40 covers
  // a timestamp, a date or an integer. The rest is the document's own members.
  const longestKey = Math.max(
    ...Object.values(spec.sorts).map((sort) => (sort.type === 'text' ? 6 * (sort.maxLength ?? 1000) : 40)),
  );
  const documentBytes = 64 + longestSort + longestKey;
  return Math.ceil((documentBytes * 4) / 3);
}

export function encodeCursor(listing: Listing, position: Position): string {
  const document = { v: 3, s: listing.sort, o: listing.order, f: listing.filter, k: position.key, i: position.id };
  return Buffer.from(JSON.stringify(document)).toString('base64url');
}

/** The position a cursor points at, or a 400 naming `cursor`. */
export function decodeCursor(spec: ListingSpec, raw: string, listing: Listing): Position {
  let decoded: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('not base64url');
    decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw fieldProblem('query', 'cursor', notIssued);
  }
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) {
    throw fieldProblem('query', 'cursor', notIssued);
  }
  const document = decoded as Record<string, unknown>;
  const sort = typeof document.s === 'string' && Object.hasOwn(spec.sorts, document.s) ? spec.sorts[document.s] : null;
  if (
    !sort ||
    Object.keys(document).length !== 6 ||
    document.v !== 3 ||
    (document.o !== 'asc' && document.o !== 'desc') ||
    typeof document.f !== 'string' ||
    typeof document.k !== 'string' ||
    !keyChecks[sort.type](document.k, sort) ||
    !Number.isInteger(document.i) ||
    (document.i as number) < 1 ||
    (document.i as number) > maxInteger
  ) {
    throw fieldProblem('query', 'cursor', notIssued);
  }
  if (document.s !== listing.sort || document.o !== listing.order || document.f !== listing.filter) {
    throw fieldProblem(
      'query',
      'cursor',
      'was issued for a different listing: send the same sort, order and filters as for the first page',
    );
  }
  return { key: document.k, id: document.i as number };
}

/** Escapes LIKE's metacharacters so a prefix matches literally. */
const likePrefix = (prefix: string) => `${prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** A page's rows, each with its sort key as text for the next page's cursor. */
export type KeyedRow<R> = R & { cursor_key: string };

/** What a listing's query needs to be built: every value it sends, computed before building (lib/db/query-cache.ts). */
export interface ListValues {
  sort: string;
  order: 'asc' | 'desc';
  /** Rows to fetch: one more than the page, which tells whether another page exists without a count(*). */
  rows: number;
  afterKey?: string;
  afterId?: number;
  [filter: string]: unknown;
}

export function listValues(spec: ListingSpec, query: ListQuery, after?: Position): ListValues {
  const values: ListValues = {
    sort: query.sort,
    order: query.order,
    rows: query.limit + 1,
    afterKey: after?.key,
    afterId: after?.id,
  };
  for (const [name, filter] of Object.entries(spec.filters)) {
    const value = query[name];
    values[name] = value === undefined || filter.operator !== 'startsWith' ? value : likePrefix(String(value));
  }
  return values;
}

// Only these four names are ever written into the SQL as a type.
const castTo: Record<KeyType, string> = {
  integer: 'integer',
  text: 'text',
  timestamptz: 'timestamptz',
  date: 'date',
};

/** The listing's query for these values; exported for tests that look at its plans. */
export function listingQuery(db: Kysely<Database>, spec: ListingSpec, values: ListValues) {
  // Generic over the tables: the spec, checked by the tests, says which columns exist.
  const anyDb = db as unknown as Kysely<any>;
  const sort = spec.sorts[values.sort];
  if (!sort) throw new Error(`listing of ${spec.table}: no sort key ${values.sort}`);
  const { column } = sort;
  const direction = values.order;
  let query = anyDb
    .selectFrom(spec.table)
    .selectAll()
    .select(sql<string>`${sql.ref(column)}::text`.as('cursor_key'))
    .orderBy(column, direction)
    .orderBy('id', direction)
    .limit(values.rows);
  if (values.afterId !== undefined) {
    const comparison = direction === 'asc' ? sql`>` : sql`<`;
    // The key was checked against this type (decodeCursor), so the cast cannot fail.
    query = query.where(
      sql<boolean>`(${sql.ref(column)}, id) ${comparison} (CAST(${values.afterKey} AS ${sql.raw(castTo[sort.type])}), ${values.afterId})`,
    );
  }
  for (const [name, filter] of Object.entries(spec.filters)) {
    const value = values[name];
    if (value === undefined) continue;
    if (filter.operator === 'equals') query = query.where(filter.column, '=', value);
    else if (filter.operator === 'atLeast') query = query.where(filter.column, '>=', value);
    else if (filter.operator === 'atMost') query = query.where(filter.column, '<=', value);
    else query = query.where(sql<boolean>`lower(${sql.ref(filter.column)}) LIKE ${value}`);
  }
  return query;
}

/** One page after the query's cursor, each row shaped by `toJson`, and the next page's cursor. */
export interface KeysetListing<Row, Item> {
  (db: Kysely<Database>, query: ListQuery): Promise<Page<Item>>;
  /** The rows of the page starting after `after`, plus one more when another page follows. */
  rows(db: Kysely<Database>, query: ListQuery, after?: Position): Promise<Array<KeyedRow<Row>>>;
  /** How many shapes of the query are compiled and kept, and how many found no room (for tests). */
  shapes(): { kept: number; refused: number };
}

/**
 * Pages of `spec.table`: a function from a validated query to a page. Every shape of the query (sort, order, cursor or
 * not, which filters) is compiled once and kept: the cache is sized for all
 * of them.
 */
/* @__NO_SIDE_EFFECTS__ */
export function keysetListing<Row extends { id: number }, Item>(
  spec: ListingSpec,
  toJson: (row: Row) => Item,
): KeysetListing<Row, Item> {
  const query = cachedQuery(
    (db: Kysely<Database>, values: ListValues) => listingQuery(db, spec, values) as never,
    ['sort', 'order'],
    { maxShapes: listingShapes(spec) },
  );
  const rows = (db: Kysely<Database>, listQuery: ListQuery, after?: Position) =>
    query(db, listValues(spec, listQuery, after)) as Promise<Array<KeyedRow<Row>>>;
  const page = async (db: Kysely<Database>, listQuery: ListQuery): Promise<Page<Item>> => {
    const listing = listingOf(spec, listQuery);
    const after = listQuery.cursor === undefined ? undefined : decodeCursor(spec, listQuery.cursor, listing);
    const fetched = await rows(db, listQuery, after);
    const more = fetched.length > listQuery.limit;
    const items = more ? fetched.slice(0, listQuery.limit) : fetched;
    const last = items.at(-1);
    return {
      items: items.map(toJson),
      nextCursor: more && last ? encodeCursor(listing, { key: last.cursor_key, id: last.id }) : null,
    };
  };
  return Object.assign(page, { rows, shapes: () => query.shapes() });
}

/** How many shapes a listing's query has: each sort in each order, with or without a cursor, with any set of filters. */
export function listingShapes(spec: ListingSpec): number {
  return Object.keys(spec.sorts).length * 2 * 2 * 2 ** Object.keys(spec.filters).length;
}
