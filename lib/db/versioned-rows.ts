/**
 * The reads and writes every resource's rows get the same way: by id, one
 * statement per write (hence one transaction), a `version` bumped by every
 * update, which is the row's ETag, and `If-Match` checked inside the UPDATE
 * or DELETE itself, so two clients that read the same version cannot both
 * write. When a conditional write touches no row, one more read tells a row
 * that is gone (404) from one that changed (412). Each statement is compiled
 * once per shape (./query-cache.ts).
 *
 * A table qualifies with an integer `id` primary key, an integer `version`
 * (default 1) and an `updated_at` timestamp; see lib/db/schema.ts. Each
 * function below makes one statement for one table, so a bundle holds only
 * the statements its function runs. (esbuild honours their
 * `@__NO_SIDE_EFFECTS__` marks only within this module: a resource's module
 * marks its calls `/* @__PURE__ *\/` for its bundles to drop the unused ones.)
 */
import { type Insertable, type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { jsonToColumns } from '../rows.js';
import { RowNotFound, VersionMismatch } from './errors.js';
import { cachedQuery } from './query-cache.js';
import type { Database } from './schema.js';

/** Tables with the columns this module relies on. */
export type VersionedTable = {
  [T in keyof Database]: Database[T] extends { id: unknown; version: unknown; updated_at: unknown } ? T : never;
}[keyof Database];

// Generic over the tables; the type parameters check the callers.
type AnyDb = Kysely<any>;
type Row<T extends VersionedTable> = Selectable<Database[T]>;

/** Why a conditional write touched no row: it is gone, or it is at another version. */
async function missingOrChanged(
  db: AnyDb,
  table: string,
  noun: string,
  id: number,
  ifMatch?: number[],
): Promise<RowNotFound | VersionMismatch> {
  if (ifMatch === undefined) return new RowNotFound(noun, id);
  const current = await db.selectFrom(table).select('version').where('id', '=', id).executeTakeFirst();
  return current ? new VersionMismatch(noun, id, current.version as number) : new RowNotFound(noun, id);
}

/** Reads a row by id, or throws RowNotFound naming it ("cat 5 does not exist"). */
/* @__NO_SIDE_EFFECTS__ */
export function findById<T extends VersionedTable>(table: T, noun: string) {
  const name: string = table;
  const query = cachedQuery((db: AnyDb, { id }: { id: number }) =>
    db.selectFrom(name).selectAll().where('id', '=', id),
  );
  return async (db: Kysely<Database>, id: number): Promise<Row<T>> => {
    const [row] = await query(db as AnyDb, { id });
    if (!row) throw new RowNotFound(noun, id);
    return row as Row<T>;
  };
}

/**
 * Inserts one row and returns it as stored (defaults and generated columns
 * filled in). `Input` is what the caller passes (a validated body);
 * `toColumns` makes the row's columns of it, by default by lib/rows.ts's
 * convention (ownerId -> owner_id).
 */
/* @__NO_SIDE_EFFECTS__ */
export function insertRow<T extends VersionedTable, Input extends object>(
  table: T,
  toColumns: (input: Input) => Insertable<Database[T]> = (input) =>
    jsonToColumns(input) as unknown as Insertable<Database[T]>,
) {
  const name: string = table;
  const query = cachedQuery((db: AnyDb, values: Record<string, unknown>) =>
    db.insertInto(name).values(values).returningAll(),
  );
  return async (db: Kysely<Database>, input: Input): Promise<Row<T>> => {
    // A one-row INSERT ... RETURNING returns that row or fails.
    const [row] = await query(db as AnyDb, toColumns(input) as Record<string, unknown>);
    return row as Row<T>;
  };
}

/**
 * Sets the given columns and bumps the version. `ifMatch`: the versions the
 * client allows (from If-Match); undefined when any will do. `Input` and
 * `toColumns` as for insertRow.
 */
/* @__NO_SIDE_EFFECTS__ */
export function updateVersioned<T extends VersionedTable, Input extends object>(
  table: T,
  noun: string,
  toColumns: (input: Input) => Updateable<Database[T]> = (input) =>
    jsonToColumns(input) as unknown as Updateable<Database[T]>,
) {
  const name: string = table;
  // The values' own columns, in their own order, make the SET list.
  const query = cachedQuery(
    (db: AnyDb, { id, ifMatch, ...values }: Record<string, unknown> & { id: number; ifMatch?: number[] }) => {
      let update = db
        .updateTable(name)
        .set({ ...values, updated_at: sql`now()`, version: sql`version + 1` })
        .where('id', '=', id);
      if (ifMatch) update = update.where('version', 'in', ifMatch);
      return update.returningAll();
    },
  );
  return async (db: Kysely<Database>, id: number, input: Input, ifMatch?: number[]): Promise<Row<T>> => {
    if (ifMatch?.length === 0) throw await missingOrChanged(db as AnyDb, name, noun, id, ifMatch);
    // Spread last: a property after a spread is slow to add.
    const [row] = await query(db as AnyDb, { id, ifMatch, ...(toColumns(input) as Record<string, unknown>) });
    if (!row) throw await missingOrChanged(db as AnyDb, name, noun, id, ifMatch);
    return row as Row<T>;
  };
}

/** Deletes a row by id, if its version is one `ifMatch` allows (when given). */
/* @__NO_SIDE_EFFECTS__ */
export function deleteVersioned<T extends VersionedTable>(table: T, noun: string) {
  const name: string = table;
  const query = cachedQuery((db: AnyDb, { id, ifMatch }: { id: number; ifMatch?: number[] }) => {
    let remove = db.deleteFrom(name).where('id', '=', id);
    if (ifMatch) remove = remove.where('version', 'in', ifMatch);
    return remove.returning('id');
  });
  return async (db: Kysely<Database>, id: number, ifMatch?: number[]): Promise<void> => {
    if (ifMatch?.length === 0) throw await missingOrChanged(db as AnyDb, name, noun, id, ifMatch);
    const [row] = await query(db as AnyDb, { id, ifMatch });
    if (!row) throw await missingOrChanged(db as AnyDb, name, noun, id, ifMatch);
  };
}
