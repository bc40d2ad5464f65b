/**
 * Migrations live in code (not in a folder read at run time) so that esbuild
 * bundles them into the `migrate` function. Append new ones; never edit one
 * that has been deployed. Names sort in the order they apply.
 */
import { type Kysely, sql } from 'kysely';
import { type Migration, type MigrationResultSet, Migrator } from 'kysely/migration';

export const migrations: Record<string, Migration> = {
  '2026_11_23_0001_create_cats': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('cats')
        .addColumn('id', 'integer', (col) => col.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('name', 'varchar(100)', (col) => col.notNull())
        .addColumn('price', 'integer', (col) => col.notNull().check(sql`price >= 0`))
        .addColumn('breed', 'varchar(100)', (col) => col.notNull())
        .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
        .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
        .execute();
      // Backs `GET /cats?breed=...`: an index scan in id order, so a page costs
      // the same however large the table grows.
      await db.schema.createIndex('cats_breed_id_idx').on('cats').columns(['breed', 'id']).execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('cats').execute();
    },
  },
  '2026_11_23_0002_add_cat_version': {
    // Bumped by every update: the cat's ETag, so that conditional requests
    // (If-Match) stop two clients from silently overwriting each other.
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('cats')
        .addColumn('version', 'integer', (col) => col.notNull().defaultTo(1))
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.alterTable('cats').dropColumn('version').execute();
    },
  },
  '2026_11_23_0003_create_idempotency_keys': {
    // Responses to POSTs sent with an Idempotency-Key, written in the same
    // transaction as the cat they created, so a retry replays the response.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('key', 'varchar(255)', (col) => col.primaryKey())
        .addColumn('fingerprint', 'char(64)', (col) => col.notNull())
        .addColumn('status', 'integer', (col) => col.notNull())
        .addColumn('headers', 'jsonb', (col) => col.notNull())
        .addColumn('body', 'jsonb')
        .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
        .addColumn('expires_at', 'timestamptz', (col) => col.notNull())
        .execute();
      await db.schema
        .createIndex('idempotency_keys_expires_at_idx')
        .on('idempotency_keys')
        .column('expires_at')
        .execute();
    },
    async down(db: Kysely<unknown>) {
      await db.schema.dropTable('idempotency_keys').execute();
    },
  },
  '2026_11_23_0004_index_cat_listings': {
    // One index per sort key, alone and after breed, each ending in id (the
    // keyset tie-breaker), so every sort and filter combination of GET /cats
    // is an index scan that stops after one page, however large the table.
    async up(db: Kysely<unknown>) {
      for (const column of ['name', 'price', 'created_at']) {
        await db.schema.createIndex(`cats_${column}_id_idx`).on('cats').columns([column, 'id']).execute();
        await db.schema
          .createIndex(`cats_breed_${column}_id_idx`)
          .on('cats')
          .columns(['breed', column, 'id'])
          .execute();
      }
      // Case-insensitive name prefix search: lower(name) LIKE 'abc%'.
      await sql`CREATE INDEX cats_name_prefix_idx ON cats (lower(name) text_pattern_ops)`.execute(db);
    },
    async down(db: Kysely<unknown>) {
      for (const column of ['name', 'price', 'created_at']) {
        await db.schema.dropIndex(`cats_${column}_id_idx`).execute();
        await db.schema.dropIndex(`cats_breed_${column}_id_idx`).execute();
      }
      await db.schema.dropIndex('cats_name_prefix_idx').execute();
    },
  },
};

export function migrator(db: Kysely<unknown>): Migrator {
  return new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
  });
}

export interface MigrationReport {
  /** Names of the migrations this run applied, in order; empty when none was pending. */
  applied: string[];
}

/**
 * Applies every pending migration. Safe to run twice, or several times at
 * once: Kysely's Migrator holds a Postgres advisory lock while it works, and a
 * second runner finds nothing left to do.
 */
export async function migrateToLatest(db: Kysely<unknown>): Promise<MigrationReport> {
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) throw new MigrationError(results ?? [], error);
  return { applied: (results ?? []).map((r) => r.migrationName) };
}

export class MigrationError extends Error {
  override name = 'MigrationError';
  constructor(
    readonly results: NonNullable<MigrationResultSet['results']>,
    cause: unknown,
  ) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    super(`migration ${failed ?? '(setup)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}
