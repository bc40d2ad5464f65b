import { sql } from 'kysely';
import { NO_MIGRATIONS } from 'kysely/migration';
import { handler } from '../../functions/migrate.js';
import { readDatabaseSettings } from '../../lib/config.js';
import { closeDatabase, createDatabase } from '../../lib/db/index.js';
import { migrateToLatest, migrations, migrator } from '../../lib/db/migrations.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/test-database.js';

const server = process.env.CATS_TEST_SERVER_URL ?? '';
const scratch: string[] = [];
const allMigrations = Object.keys(migrations).sort();

async function freshDatabase() {
  const url = await createScratchDatabase(server, 'cats_migrate');
  scratch.push(url);
  return { url, ...createDatabase(readDatabaseSettings({ DATABASE_URL: url, DB_POOL_MAX: '2' })) };
}

afterAll(async () => {
  for (const url of scratch) await dropScratchDatabase(server, url);
});

it('applies every migration to an empty database, then finds nothing to do', async () => {
  const { db } = await freshDatabase();
  expect(await migrateToLatest(db as never)).toEqual({ applied: allMigrations });
  expect(await migrateToLatest(db as never)).toEqual({ applied: [] });
  const columns = await sql<{ column_name: string; data_type: string; is_nullable: string }>`
    SELECT column_name, data_type, is_nullable FROM information_schema.columns
    WHERE table_name = 'cats' ORDER BY ordinal_position`.execute(db);
  expect(columns.rows).toEqual([
    { column_name: 'id', data_type: 'integer', is_nullable: 'NO' },
    { column_name: 'name', data_type: 'character varying', is_nullable: 'NO' },
    { column_name: 'price', data_type: 'integer', is_nullable: 'NO' },
    { column_name: 'breed', data_type: 'character varying', is_nullable: 'NO' },
    { column_name: 'created_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
    { column_name: 'updated_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
    { column_name: 'version', data_type: 'integer', is_nullable: 'NO' },
  ]);
  await db.destroy();
});

it('applies each migration exactly once when five runs start at the same time', async () => {
  const { url } = await freshDatabase();
  const runners = Array.from({ length: 5 }, () => createDatabase(readDatabaseSettings({ DATABASE_URL: url })));
  const reports = await Promise.all(runners.map(({ db }) => migrateToLatest(db as never)));
  expect(reports.flatMap((r) => r.applied).sort()).toEqual(allMigrations);
  await Promise.all(runners.map(({ db }) => db.destroy()));
});

it('can undo its migrations, leaving no cats table', async () => {
  const { db } = await freshDatabase();
  await migrateToLatest(db as never);
  const { error } = await migrator(db as never).migrateTo(NO_MIGRATIONS);
  expect(error).toBeUndefined();
  const tables = await sql`SELECT 1 FROM information_schema.tables WHERE table_name = 'cats'`.execute(db);
  expect(tables.rows).toHaveLength(0);
  await db.destroy();
});

it('is what the migrate function runs, and it reports the names it applied', async () => {
  const { url, db } = await freshDatabase();
  await db.destroy();
  const shared = process.env.DATABASE_URL;
  process.env.DATABASE_URL = url;
  try {
    expect(await handler()).toEqual({ applied: allMigrations });
    expect(await handler()).toEqual({ applied: [] });
  } finally {
    await closeDatabase();
    process.env.DATABASE_URL = shared;
  }
});
