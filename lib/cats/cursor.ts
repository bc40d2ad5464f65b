/**
 * Keyset pagination cursors: opaque to clients (base64url of a small JSON
 * document) and bound to the listing they were issued for (sort, order,
 * filters), so a cursor cannot be replayed against a different one. They hold
 * the last row's sort key and id: the next page starts strictly after that
 * pair, which stays correct across ties and concurrent inserts and deletes.
 */
import { fieldProblem } from '../http/problem.js';
import * as z from '../validation.js';
import { maxId, type SortKey, sortKeys } from './schema.js';

export interface Listing {
  sort: SortKey;
  order: 'asc' | 'desc';
  /** The filters, normalised (see listingFilter in ./list.ts). */
  filter: string;
}

export interface Position {
  /** The last row's sort key, as text (Postgres casts it back). */
  key: string;
  id: number;
}

const cursorSchema = z.strictObject({
  v: z.literal(2),
  s: z.enum(sortKeys),
  o: z.enum(['asc', 'desc']),
  f: z.string().check(z.maxLength(600)),
  k: z.string().check(z.maxLength(500)),
  i: z.number().check(z.int(), z.gte(1), z.lte(maxId)),
});

export function encodeCursor(listing: Listing, position: Position): string {
  const document = { v: 2, s: listing.sort, o: listing.order, f: listing.filter, k: position.key, i: position.id };
  return Buffer.from(JSON.stringify(document)).toString('base64url');
}

/** The position a cursor points at, or a 400 naming `cursor`. */
export function decodeCursor(raw: string, listing: Listing): Position {
  let decoded: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('not base64url');
    decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw fieldProblem('query', 'cursor', 'is not a cursor this API issued');
  }
  const parsed = cursorSchema.safeParse(decoded);
  if (!parsed.success) throw fieldProblem('query', 'cursor', 'is not a cursor this API issued');
  const { s, o, f, k, i } = parsed.data;
  if (s !== listing.sort || o !== listing.order || f !== listing.filter) {
    throw fieldProblem(
      'query',
      'cursor',
      'was issued for a different listing: send the same sort, order and filters as for the first page',
    );
  }
  return { key: k, id: i };
}
