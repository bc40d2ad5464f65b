/**
 * Data access for cats: plain functions taking the database (or a
 * transaction) first. Each write is a single statement, hence one transaction.
 */
import { type Kysely, sql } from 'kysely';
import type { CatRow, Database } from '../db/schema.js';
import { notFoundProblem } from '../http/problem.js';
import type { CatPatch, NewCat } from './schema.js';

const catNotFound = (id: number) => () => notFoundProblem(`cat ${id}`);

export interface CatPage {
  rows: CatRow[];
  hasMore: boolean;
}

export async function listCats(
  db: Kysely<Database>,
  options: { limit: number; after?: number; breed?: string },
): Promise<CatPage> {
  let query = db
    .selectFrom('cats')
    .selectAll()
    .orderBy('id')
    // One extra row tells whether another page exists without a count(*).
    .limit(options.limit + 1);
  if (options.after !== undefined) query = query.where('id', '>', options.after);
  if (options.breed !== undefined) query = query.where('breed', '=', options.breed);
  const rows = await query.execute();
  return { rows: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
}

export function findCat(db: Kysely<Database>, id: number): Promise<CatRow> {
  return db.selectFrom('cats').selectAll().where('id', '=', id).executeTakeFirstOrThrow(catNotFound(id));
}

export function insertCat(db: Kysely<Database>, cat: NewCat): Promise<CatRow> {
  return db
    .insertInto('cats')
    .values({ name: cat.name, price: cat.price, breed: cat.breed })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function updateCat(db: Kysely<Database>, id: number, patch: CatPatch): Promise<CatRow> {
  return db
    .updateTable('cats')
    .set({ ...patch, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow(catNotFound(id));
}

export async function deleteCat(db: Kysely<Database>, id: number): Promise<void> {
  await db.deleteFrom('cats').where('id', '=', id).returning('id').executeTakeFirstOrThrow(catNotFound(id));
}
