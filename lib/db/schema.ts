import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table `cats`, as created by the migrations in ./migrations.ts. */
export interface CatTable {
  id: Generated<number>;
  name: string;
  price: number;
  breed: string;
  /** Starts at 1, bumped by every update. */
  version: Generated<number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date | string>;
}

export interface Database {
  cats: CatTable;
}

export type CatRow = Selectable<CatTable>;
export type NewCatRow = Insertable<CatTable>;
export type CatRowUpdate = Updateable<CatTable>;
