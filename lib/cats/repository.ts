/**
 * Data access for cats: plain functions taking the database (or a
 * transaction) first. Each write is a single statement, hence one transaction.
 */
import { type Kysely, sql } from 'kysely';
import type { CatRow, Database } from '../db/schema.js';
import { preconditionFailed } from '../http/conditional.js';
import { type HttpProblem, notFoundProblem } from '../http/problem.js';
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
  let update = db
    .updateTable('cats')
    .set({ ...patch, updated_at: sql<Date>`now()`, version: sql<number>`version + 1` })
    .where('id', '=', id);
  if (ifMatch) update = update.where('version', 'in', ifMatch);
  const row = await update.returningAll().executeTakeFirst();
  if (!row) throw await missingOrChanged(db, id, ifMatch);
  return row;
}

export async function deleteCat(db: Kysely<Database>, id: number, ifMatch?: number[]): Promise<void> {
  if (ifMatch?.length === 0) throw await missingOrChanged(db, id, ifMatch);
  let remove = db.deleteFrom('cats').where('id', '=', id);
  if (ifMatch) remove = remove.where('version', 'in', ifMatch);
  const row = await remove.returning('id').executeTakeFirst();
  if (!row) throw await missingOrChanged(db, id, ifMatch);
}

/** Why a conditional write touched no row: the cat is gone (404), or it changed (412). */
async function missingOrChanged(db: Kysely<Database>, id: number, ifMatch?: number[]): Promise<HttpProblem> {
  if (ifMatch === undefined) return catNotFound(id)();
  const current = await db.selectFrom('cats').select('version').where('id', '=', id).executeTakeFirst();
  return current ? preconditionFailed(`cat ${id}`, current.version) : catNotFound(id)();
}
