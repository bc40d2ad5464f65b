/**
 * Keyset pagination cursors: opaque to clients (base64url of a small JSON
 * document), carrying the last id of a page and the filter the page was listed
 * with, so a cursor cannot be replayed against a different listing.
 */
import { fieldProblem } from '../http/problem.js';
import * as z from '../validation.js';
import { maxId } from './schema.js';

const cursorSchema = z.strictObject({
  v: z.literal(1),
  after: z.number().check(z.int(), z.gte(0), z.lte(maxId)),
  breed: z.nullable(z.string()),
});

export interface Cursor {
  /** The id of the last cat of the previous page. */
  after: number;
  /** The `breed` filter the listing was made with, or null. */
  breed: string | null;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify({ v: 1, ...cursor })).toString('base64url');
}

/** Decodes a cursor from a query string, or throws a 400 naming `cursor`. */
export function decodeCursor(raw: string, expectedBreed: string | null): Cursor {
  let decoded: unknown;
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(raw)) throw new Error('not base64url');
    decoded = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw fieldProblem('query', 'cursor', 'is not a cursor this API issued');
  }
  const parsed = cursorSchema.safeParse(decoded);
  if (!parsed.success) throw fieldProblem('query', 'cursor', 'is not a cursor this API issued');
  if (parsed.data.breed !== expectedBreed) {
    throw fieldProblem(
      'query',
      'cursor',
      'was issued for a different breed filter; send the same breed as the first page',
    );
  }
  return { after: parsed.data.after, breed: parsed.data.breed };
}
