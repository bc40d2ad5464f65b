import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { decodeCursor, encodeCursor, type Listing } from './cursor.js';
import { listCats } from './repository.js';
import { type Cat, type ListQuery, toCat } from './schema.js';

export interface CatList {
  items: Cat[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** The sort, order and filters a cursor is bound to. */
export function listingOf(query: ListQuery): Listing {
  const { breed, minPrice, maxPrice, name } = query;
  return { sort: query.sort, order: query.order, filter: JSON.stringify([breed, minPrice, maxPrice, name]) };
}

/** One page of cats in the requested order, after the cursor's position. */
export async function listCatPage(db: Kysely<Database>, query: ListQuery): Promise<CatList> {
  const listing = listingOf(query);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, listing);
  // Spread last: a property after a spread is slow to add on Node 20.
  const page = await listCats(db, { after, ...query });
  const last = page.rows.at(-1);
  return {
    items: page.rows.map(toCat),
    nextCursor: page.hasMore && last ? encodeCursor(listing, { key: last.cursor_key, id: last.id }) : null,
  };
}
