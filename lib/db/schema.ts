import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The columns every resource's table has, which ./versioned-rows.ts relies
 * on: a generated id, a version bumped by every update (the ETag), and when
 * the row was created and last changed.
 */
export interface VersionedColumns {
  id: Generated<number>;
  /** Starts at 1, bumped by every update. */
  version: Generated<number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date | string>;
}

/** Table `cats`, as created by the migrations in ./migrations.ts. */
export interface CatTable extends VersionedColumns {
  name: string;
  price: number;
  breed: string;
}

/** Table `idempotency_keys`: the stored response of a POST sent with an Idempotency-Key. */
export interface IdempotencyKeyTable {
  key: string;
  /** SHA-256 (hex) of the request it answered. */
  fingerprint: string;
  status: number;
  headers: ColumnType<Record<string, string>, string, string>;
  body: ColumnType<unknown, string | null, string | null>;
  created_at: ColumnType<Date, never, never>;
  expires_at: ColumnType<Date, Date, Date>;
}

export interface Database {
  cats: CatTable;
  idempotency_keys: IdempotencyKeyTable;
}

export type CatRow = Selectable<CatTable>;
export type NewCatRow = Insertable<CatTable>;
export type CatRowUpdate = Updateable<CatTable>;
