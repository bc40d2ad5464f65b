import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { listCats } from './repository.js';
import { type Cat, type ListQuery, toCat } from './schema.js';

export interface CatList {
  items: Cat[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

/** One page of cats in id order, after the cursor's position. */
export async function listCatPage(db: Kysely<Database>, query: ListQuery): Promise<CatList> {
  const breed = query.breed ?? null;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, breed).after;
  const page = await listCats(db, { limit: query.limit, after, breed: query.breed });
  const last = page.rows.at(-1);
  return {
    items: page.rows.map(toCat),
    nextCursor: page.hasMore && last ? encodeCursor({ after: last.id, breed }) : null,
  };
}
