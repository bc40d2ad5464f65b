/**
 * The API connects as its own role (DB_APP_USER, cats_api), which the
 * migrations create with only what the handlers need: reading and writing
 * rows. Here, on a real PostgreSQL, as that role: what it may not do, and
 * that a table a later migration adds works for it with no grant of its own.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import { Migrator } from 'kysely/migration';
import pg from 'pg';
import { readApplicationUser } from '../../lib/config.js';
import { migrationsFor } from '../../lib/db/migrations.js';
import { useScratchDatabase } from '../support/scratch-database.js';

const ownerUrl = useScratchDatabase('cats_role');
const user = readApplicationUser();

describe('the API role', () => {
  let api: pg.Client;
  beforeAll(async () => {
    // What the handlers use (useScratchDatabase pointed DATABASE_URL at it).
    api = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await api.connect();
  });
  afterAll(() => api.end());

  /** The SQLSTATE a statement fails with as the API role; it must fail. */
  async function refused(statement: string): Promise<string> {
    try {
      await api.query(statement);
    } catch (error) {
      return (error as { code: string }).code;
    }
    throw new Error(`the API role may run: ${statement}`);
  }

  it('is the role the handlers connect as', async () => {
    const { rows } = await api.query('SELECT current_user AS name');
    expect(rows[0].name).toBe(user);
  });

  it('reads and writes cats, and takes the advisory lock idempotent POSTs use', async () => {
    await api.query('BEGIN');
    try {
      const inserted = await api.query(`INSERT INTO cats (name, price, breed) VALUES ('Role', 1, 'Test') RETURNING id`);
      await api.query('UPDATE cats SET price = 2 WHERE id = $1', [inserted.rows[0].id]);
      await api.query(
        `INSERT INTO idempotency_keys (key, fingerprint, status, headers, expires_at)
         VALUES ('k', repeat('0', 64), 201, '{}', now())`,
      );
      await api.query('DELETE FROM idempotency_keys WHERE expires_at <= now()');
      const locked = await api.query(`SELECT pg_try_advisory_xact_lock(hashtextextended('k', 0)) AS locked`);
      expect(locked.rows[0].locked).toBe(true);
      await api.query('DELETE FROM cats WHERE id = $1', [inserted.rows[0].id]);
    } finally {
      await api.query('ROLLBACK');
    }
  });

  it.each([
    ['DROP TABLE', 'DROP TABLE cats', '42501'],
    ['ALTER TABLE', 'ALTER TABLE cats ADD COLUMN owner text', '42501'],
    ['TRUNCATE', 'TRUNCATE cats', '42501'],
    ['CREATE TABLE', 'CREATE TABLE public.mine (id integer)', '42501'],
    ['CREATE ROLE', 'CREATE ROLE intruder LOGIN', '42501'],
    ['CREATE DATABASE', 'CREATE DATABASE intruder', '42501'],
    ['read pg_authid', 'SELECT rolpassword FROM pg_authid', '42501'],
    ["rewrite the migrator's history", 'DELETE FROM kysely_migration', '42501'],
  ])('cannot %s', async (_what, statement, code) => {
    expect(await refused(statement)).toBe(code);
  });

  it('is no superuser, creates no role or database, and owns nothing', async () => {
    const { rows } = await api.query(
      `SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls,
              (SELECT count(*)::int FROM pg_class WHERE relowner = r.oid) AS owned
       FROM pg_roles r WHERE rolname = current_user`,
    );
    expect(rows[0]).toEqual({
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolbypassrls: false,
      owned: 0,
    });
  });
});

it('may use a table that a later migration adds, without a grant of its own', async () => {
  const owner = new Kysely<unknown>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: ownerUrl(), max: 1 }) }),
  });
  try {
    const later = {
      ...migrationsFor(user),
      '2099_01_01_0001_create_toys': {
        async up(db: Kysely<unknown>) {
          await sql`CREATE TABLE toys (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL)`.execute(
            db,
          );
          await sql`CREATE TABLE tags (id serial PRIMARY KEY, label text NOT NULL)`.execute(db);
        },
      },
    };
    const { error } = await new Migrator({
      db: owner,
      provider: { getMigrations: async () => later },
    }).migrateToLatest();
    expect(error).toBeUndefined();
  } finally {
    await owner.destroy();
  }
  const api = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await api.connect();
  try {
    const toy = await api.query(`INSERT INTO toys (name) VALUES ('ball') RETURNING id`);
    const tag = await api.query(`INSERT INTO tags (label) VALUES ('red') RETURNING id`);
    expect([toy.rows[0].id, tag.rows[0].id]).toEqual([1, 1]);
    await api.query(`UPDATE toys SET name = 'yarn'`);
    expect((await api.query('SELECT name FROM toys')).rows).toEqual([{ name: 'yarn' }]);
    await api.query('DELETE FROM tags');
    const refused = await api.query('DROP TABLE toys').then(
      () => 'dropped',
      (error: { code: string }) => error.code,
    );
    expect(refused).toBe('42501');
  } finally {
    await api.end();
  }
});
