/**
 * Migrations live in code (not in a folder read at run time) so that esbuild
 * bundles them into the `migrate` function. Append new ones; never edit one
 * that has been deployed. Names sort in the order they apply.
 */
import { type CreateTableBuilder, type Kysely, sql } from 'kysely';
import { type Migration, type MigrationResultSet, Migrator } from 'kysely/migration';
import { defaultApplicationUser, readApplicationUser } from '../config.js';

/**
 * What deleting a referenced row does to the rows that name it: `restrict`
 * refuses the delete (the API answers 409), `set null` clears the reference
 * and `cascade` deletes them too (the API answers 204 either way).
 */
export type DeleteRule = 'restrict' | 'set null' | 'cascade';

/**
 * A new resource's table with the columns lib/db/versioned-rows.ts relies on
 * (a generated id, the version that is its ETag, its creation and change
 * times); add its own columns to the builder, then `.execute()`.
 */
export function createVersionedTable(db: Kysely<unknown>, table: string): CreateTableBuilder<string, never> {
  return db.schema
    .createTable(table)
    .addColumn('id', 'integer', (col) => col.primaryKey().generatedAlwaysAsIdentity())
    .addColumn('version', 'integer', (col) => col.notNull().defaultTo(1))
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`));
}

/**
 * Adds `column` to `table`, holding the id of a row of `target` (null for
 * none unless `required`), with its delete rule on the foreign key and an
 * index, so that deleting a target row finds the rows naming it without
 * reading the table. When the rule changes rows (`set null`), a trigger bumps
 * the changed row's version and updated_at, as an API write would: its ETag
 * changes, so If-None-Match never answers 304 for a row the database changed.
 * (A write through the API bumps the version itself; the trigger only fires
 * for an update that did not.)
 */
export async function addReference(
  db: Kysely<unknown>,
  reference: { table: string; column: string; target: string; onDelete: DeleteRule; required?: boolean },
): Promise<void> {
  const { table, column, target, onDelete } = reference;
  await db.schema
    .alterTable(table)
    .addColumn(column, 'integer', (col) => {
      const constrained = col.references(`${target}.id`).onDelete(onDelete);
      return reference.required ? constrained.notNull() : constrained;
    })
    .execute();
  await db.schema.createIndex(`${table}_${column}_idx`).on(table).column(column).execute();
  if (onDelete !== 'set null') return;
  await sql`CREATE OR REPLACE FUNCTION bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.version := OLD.version + 1;
      NEW.updated_at := now();
      RETURN NEW;
    END $$`.execute(db);
  await sql`CREATE TRIGGER ${sql.id(`${table}_${column}_bumps_version`)}
    BEFORE UPDATE OF ${sql.id(column)} ON ${sql.table(table)}
    FOR EACH ROW WHEN (NEW.version = OLD.version) EXECUTE FUNCTION bump_version()`.execute(db);
}

/** Undoes addReference (the trigger and index go with the column). */
export async function dropReference(db: Kysely<unknown>, table: string, column: string): Promise<void> {
  await sql`DROP TRIGGER IF EXISTS ${sql.id(`${table}_${column}_bumps_version`)} ON ${sql.table(table)}`.execute(db);
  await db.schema.alterTable(table).dropColumn(column).execute();
}

/**
 * Creates the API's role: it logs in, reads and writes the API's rows, and
 * nothing else. It creates, alters and drops nothing (only the owner, who
 * runs the migrations, can), creates no role or database, is no superuser,
 * owns nothing, and cannot read pg_authid. Default privileges give it the
 * same rights on every table and sequence the owner creates later, so a new
 * table needs no GRANT of its own in its migration.
 */
function applicationRoleMigration(user: string): Migration {
  // Checked again here: the name goes into SQL as an identifier.
  readApplicationUser({ DB_APP_USER: user });
  const role = sql.id(user);
  return {
    async up(db: Kysely<unknown>) {
      // Roles belong to the whole server, and several databases (tests,
      // stages sharing an instance) may create this one at the same time.
      await sql
        .raw(`DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${user}') THEN
    CREATE ROLE "${user}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$`)
        .execute(db);
      // A role of that name made by someone else with more rights is not
      // quietly used as the API's.
      const { rows } = await sql<{ privileged: boolean; login: boolean }>`
        SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls AS privileged,
               rolcanlogin AS login
        FROM pg_roles WHERE rolname = ${user}`.execute(db);
      if (rows[0]?.privileged || rows[0]?.login === false) {
        throw new Error(
          `role ${user} exists but may log in: ${rows[0]?.login}, and is privileged: ${rows[0]?.privileged}; ` +
            'the API role must be a plain LOGIN role (DB_APP_USER names another)',
        );
      }
      await sql`GRANT CONNECT ON DATABASE ${sql.id(await currentDatabase(db))} TO ${role}`.execute(db);
      await sql`GRANT USAGE ON SCHEMA public TO ${role}`.execute(db);
      // Before PostgreSQL 15 every role could create tables in public; from
      // 15 on this changes nothing (and warns rather than fails for a
      // migrating user who does not own the schema).
      await sql`REVOKE CREATE ON SCHEMA public FROM PUBLIC`.execute(db);
      // The API's tables so far, by name: not the migrator's own
      // (kysely_migration*), which the API must not be able to rewrite.
      await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON cats, idempotency_keys TO ${role}`.execute(db);
      await sql`GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO ${role}`.execute(db);
      await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`.execute(
        db,
      );
      await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO ${role}`.execute(db);
      // On RDS: logging in with an IAM token instead of a password.
      await sql
        .raw(`DO $$
BEGIN
  IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_iam') THEN
    GRANT rds_iam TO "${user}";
  END IF;
END $$`)
        .execute(db);
    },
    async down(db: Kysely<unknown>) {
      // The role itself stays: it belongs to the server, and other
      // databases on it may use it.
      await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM ${role}`.execute(db);
      await sql`ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM ${role}`.execute(db);
      await sql`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role}`.execute(db);
      await sql`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`.execute(db);
      await sql`REVOKE USAGE ON SCHEMA public FROM ${role}`.execute(db);
      await sql`REVOKE CONNECT ON DATABASE ${sql.id(await currentDatabase(db))} FROM ${role}`.execute(db);
    },
  };
}

async function currentDatabase(db: Kysely<unknown>): Promise<string> {
  const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(db);
  return rows[0]?.name ?? '';
}

/**
 * The migrations, for the role the API connects as (DB_APP_USER): they run
 * as the owner of the schema, the API as that role. Append new ones at the end.
 */
export function migrationsFor(applicationUser: string): Record<string, Migration> {
  return {
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
    // The API's own role; every table after this one is the role's without a grant.
    '2026_12_06_0005_create_application_role': applicationRoleMigration(applicationUser),
  };
}

/** The migrations for the default role, for listing their names. */
export const migrations: Record<string, Migration> = migrationsFor(defaultApplicationUser);

/** The migrator, for the API role DB_APP_USER names (default cats_api). */
export function migrator(db: Kysely<unknown>, applicationUser: string = readApplicationUser()): Migrator {
  const all = migrationsFor(applicationUser);
  return new Migrator({
    db,
    provider: { getMigrations: async () => all },
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
export async function migrateToLatest(
  db: Kysely<unknown>,
  applicationUser: string = readApplicationUser(),
): Promise<MigrationReport> {
  const { error, results } = await migrator(db, applicationUser).migrateToLatest();
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
