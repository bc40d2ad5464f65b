/**
 * Data access for cats: plain functions taking the database (or a
 * transaction) first. Each write is a single statement, hence one transaction.
 */
import { type Kysely, sql } from 'kysely';
import { cachedQuery } from '../db/query-cache.js';
import type { CatRow, Database } from '../db/schema.js';
import { preconditionFailed } from '../http/conditional.js';
import { type HttpProblem, notFoundProblem } from '../http/problem.js';
import type { CatPatch, NewCat, SortKey } from './schema.js';

const catNotFound = (id: number) => () => notFoundProblem(`cat ${id}`);

export interface CatPage {
  /** Each row with its sort key as text, for the next page's cursor. */
  rows: Array<CatRow & { cursor_key: string }>;
  hasMore: boolean;
}

export interface ListOptions {
  limit: number;
  sort: SortKey;
  order: 'asc' | 'desc';
  /** Start strictly after this (sort key, id) pair. */
  after?: { key: string; id: number };
  breed?: string;
  minPrice?: number;
  maxPrice?: number;
  /** Case-insensitive name prefix. */
  name?: string;
}

const sortColumns = { id: 'id', name: 'name', price: 'price', createdAt: 'created_at' } as const;
// The cursor carries the key as text; cast it back to the column's type so the
// comparison is the column's own (created_at keeps its microseconds, which a
// JavaScript Date would lose).
const keyTypes = { id: sql`integer`, name: sql`text`, price: sql`integer`, createdAt: sql`timestamptz` } as const;

/** Escapes LIKE's metacharacters so a name prefix matches literally. */
const likePrefix = (prefix: string) => `${prefix.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** The listing query's inputs, with every value it sends computed (see ../db/query-cache.ts). */
interface ListValues {
  sort: SortKey;
  order: 'asc' | 'desc';
  /** Rows to fetch: one more than the page, which tells whether another page exists without a count(*). */
  rows: number;
  afterKey?: string;
  afterId?: number;
  breed?: string;
  minPrice?: number;
  maxPrice?: number;
  namePattern?: string;
}

const listValues = (options: ListOptions): ListValues => ({
  sort: options.sort,
  order: options.order,
  rows: options.limit + 1,
  afterKey: options.after?.key,
  afterId: options.after?.id,
  breed: options.breed,
  minPrice: options.minPrice,
  maxPrice: options.maxPrice,
  namePattern: options.name === undefined ? undefined : likePrefix(options.name),
});

/**
 * The listing query: keyset pagination on (sort key, id), both in the same
 * direction, so every combination of sort and filters walks an index (see the
 * indexes in ../db/migrations.ts) and a deep page costs what the first does.
 */
function buildListing(db: Kysely<Database>, options: ListValues) {
  const column = sortColumns[options.sort];
  const direction = options.order;
  let query = db
    .selectFrom('cats')
    .selectAll()
    .select(sql<string>`${sql.ref(column)}::text`.as('cursor_key'))
    .orderBy(column, direction)
    .orderBy('id', direction)
    .limit(options.rows);
  if (options.afterId !== undefined) {
    const comparison = direction === 'asc' ? sql`>` : sql`<`;
    query = query.where(
      sql<boolean>`(${sql.ref(column)}, id) ${comparison} (CAST(${options.afterKey} AS ${keyTypes[options.sort]}), ${options.afterId})`,
    );
  }
  if (options.breed !== undefined) query = query.where('breed', '=', options.breed);
  if (options.minPrice !== undefined) query = query.where('price', '>=', options.minPrice);
  if (options.maxPrice !== undefined) query = query.where('price', '<=', options.maxPrice);
  if (options.namePattern !== undefined) query = query.where(sql<boolean>`lower(name) LIKE ${options.namePattern}`);
  return query;
}

export function listCatsQuery(db: Kysely<Database>, options: ListOptions) {
  return buildListing(db, listValues(options));
}

const listQuery = /* @__PURE__ */ cachedQuery(buildListing, ['sort', 'order']);

export async function listCats(db: Kysely<Database>, options: ListOptions): Promise<CatPage> {
  const rows = await listQuery(db, listValues(options));
  return { rows: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
}

const findQuery = /* @__PURE__ */ cachedQuery((db, { id }: { id: number }) =>
  db.selectFrom('cats').selectAll().where('id', '=', id),
);

export async function findCat(db: Kysely<Database>, id: number): Promise<CatRow> {
  const [row] = await findQuery(db, { id });
  if (!row) throw catNotFound(id)();
  return row;
}

const insertQuery = /* @__PURE__ */ cachedQuery((db, cat: NewCat) =>
  db.insertInto('cats').values({ name: cat.name, price: cat.price, breed: cat.breed }).returningAll(),
);

export async function insertCat(db: Kysely<Database>, cat: NewCat): Promise<CatRow> {
  // A one-row INSERT ... RETURNING returns that row or fails.
  const [row] = await insertQuery(db, { name: cat.name, price: cat.price, breed: cat.breed });
  return row as CatRow;
}

/**
 * `ifMatch`: the versions the client allows (from If-Match); the version check
 * is part of the UPDATE itself, so two clients that read the same version
 * cannot both write.
 */
export async function updateCat(
  db: Kysely<Database>,
  id: number,
  patch: CatPatch,
  ifMatch?: number[],
): Promise<CatRow> {
  if (ifMatch?.length === 0) throw await missingOrChanged(db, id, ifMatch);
  // Spread last: a property after a spread is slow to add on Node 20.
  const [row] = await updateQuery(db, { id, ifMatch, ...patch });
  if (!row) throw await missingOrChanged(db, id, ifMatch);
  return row;
}

// The patch's own fields, in its own order, make the SET list.
const updateQuery = /* @__PURE__ */ cachedQuery(
  (db, { id, ifMatch, ...patch }: CatPatch & { id: number; ifMatch?: number[] }) => {
    let update = db
      .updateTable('cats')
      .set({ ...patch, updated_at: sql<Date>`now()`, version: sql<number>`version + 1` })
      .where('id', '=', id);
    if (ifMatch) update = update.where('version', 'in', ifMatch);
    return update.returningAll();
  },
);

export async function deleteCat(db: Kysely<Database>, id: number, ifMatch?: number[]): Promise<void> {
  if (ifMatch?.length === 0) throw await missingOrChanged(db, id, ifMatch);
  const [row] = await deleteQuery(db, { id, ifMatch });
  if (!row) throw await missingOrChanged(db, id, ifMatch);
}

const deleteQuery = /* @__PURE__ */ cachedQuery((db, { id, ifMatch }: { id: number; ifMatch?: number[] }) => {
  let remove = db.deleteFrom('cats').where('id', '=', id);
  if (ifMatch) remove = remove.where('version', 'in', ifMatch);
  return remove.returning('id');
});

/** Why a conditional write touched no row: the cat is gone (404), or it changed (412). */
async function missingOrChanged(db: Kysely<Database>, id: number, ifMatch?: number[]): Promise<HttpProblem> {
  if (ifMatch === undefined) return catNotFound(id)();
  const current = await db.selectFrom('cats').select('version').where('id', '=', id).executeTakeFirst();
  return current ? preconditionFailed(`cat ${id}`, current.version) : catNotFound(id)();
}
