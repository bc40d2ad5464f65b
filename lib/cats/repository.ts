/**
 * Data access for cats: plain functions taking the database (or a
 * transaction) first. Reads and writes by id, versions and If-Match come from
 * lib/db/versioned-rows.ts (the fields are the columns in camelCase), pages
 * from lib/listing.ts; this module says which table.
 */
import type { Kysely } from 'kysely';
import type { CatRow, Database } from '../db/schema.js';
import { deleteVersioned, findById, insertRow, updateVersioned } from '../db/versioned-rows.js';
import { keysetListing, listingQuery, listValues, type Position } from '../listing.js';
import { type Cat, type CatPatch, catListing, type ListQuery, type NewCat, toCat } from './schema.js';

/** The cat, or a 404 naming it. */
export const findCat = /* @__PURE__ */ findById('cats', 'cat');

export const insertCat = /* @__PURE__ */ insertRow<'cats', NewCat>('cats');

/**
 * `ifMatch`: the versions the client allows (from If-Match); the version check
 * is part of the UPDATE itself, so two clients that read the same version
 * cannot both write.
 */
export const updateCat = /* @__PURE__ */ updateVersioned<'cats', CatPatch>('cats', 'cat');

export const deleteCat = /* @__PURE__ */ deleteVersioned('cats', 'cat');

const catPages = /* @__PURE__ */ keysetListing(catListing, toCat);

/** One page of cats in the requested order, after the query's cursor. */
export function listCatPage(
  db: Kysely<Database>,
  query: ListQuery,
): Promise<{ items: Cat[]; nextCursor: string | null }> {
  return catPages(db, query);
}

/** A listing's options with its cursor already decoded, for tests that look at the SQL and its plans. */
export type ListOptions = Omit<ListQuery, 'cursor'> & { after?: Position };

export function listCatsQuery(db: Kysely<Database>, options: ListOptions) {
  return listingQuery(db, catListing, listValues(catListing, options, options.after));
}

/** The rows of one page (each with its sort key as text) and whether another follows. */
export async function listCats(
  db: Kysely<Database>,
  options: ListOptions,
): Promise<{ rows: Array<CatRow & { cursor_key: string }>; hasMore: boolean }> {
  const rows = (await catPages.rows(db, options, options.after)) as Array<CatRow & { cursor_key: string }>;
  return { rows: rows.slice(0, options.limit), hasMore: rows.length > options.limit };
}
