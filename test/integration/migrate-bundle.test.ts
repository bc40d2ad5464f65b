/**
 * The migrate function as `sls package` bundles it (same esbuild options and
 * plugins, so with Kysely's unused builders replaced by throwing stubs), run
 * in a fresh `node` per invocation like a cold Lambda container, against a
 * real PostgreSQL. migrate.test.ts runs the same migrations from source,
 * where no stub is in the way; this proves the bundle never reaches one.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import pg from 'pg';
import { readDatabaseSettings } from '../../lib/config.js';
import { createDatabase } from '../../lib/db/index.js';
import { migrateToLatest, migrations } from '../../lib/db/migrations.js';
import { apiTimeoutMs } from '../support/api-process.js';
import { functionBuildOptions, root } from '../support/bundle.js';
import { createScratchDatabase, dropScratchDatabase } from '../support/test-database.js';

const server = process.env.CATS_TEST_SERVER_URL ?? '';
const allMigrations = Object.keys(migrations).sort();
const scratch: string[] = [];
let folder: string;
/** functions/migrate.ts, bundled exactly as it is deployed. */
let deployed: string;
/** The same function with the migrator and the database handle exported too, to migrate down. */
let withMigrator: string;
let runner: string;

async function build(entry: string, outfile: string): Promise<string> {
  // With a source map, as deployed (serverless.yml), so that a failure points at the sources.
  await esbuild.build({
    ...functionBuildOptions,
    entryPoints: [entry],
    outfile,
    sourcemap: 'linked',
    nodePaths: [join(root, 'node_modules')],
  });
  return outfile;
}

/** Imports a bundle in a fresh node and runs the handler ("up") or every down migration ("down"). */
const run = `
import { pathToFileURL } from 'node:url';
const [bundle, action] = process.argv.slice(2);
const fn = await import(pathToFileURL(bundle).href);
if (action === 'down') {
  const { error, results } = await fn.migrator(fn.db()).migrateTo(fn.NO_MIGRATIONS);
  await fn.closeDatabase();
  if (error) throw error;
  console.log(JSON.stringify(results));
} else {
  console.log(JSON.stringify(await fn.handler()));
}
`;

async function invoke(bundle: string, action: 'up' | 'down', databaseUrl: string): Promise<any> {
  const running = promisify(execFile)(process.execPath, ['--enable-source-maps', runner, bundle, action], {
    env: { ...process.env, DATABASE_URL: databaseUrl, NODE_OPTIONS: '', POWERTOOLS_LOG_LEVEL: 'WARN' },
    timeout: apiTimeoutMs, // only a hang exceeds it
  });
  const { stdout } = await running.catch((error: { stderr?: string }) => {
    throw new Error(`the bundled migrate function failed (${action}):\n${error.stderr ?? error}`);
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
}

async function freshDatabase(): Promise<string> {
  const url = await createScratchDatabase(server, 'cats_migrate_bundle');
  scratch.push(url);
  return url;
}

/** Tables, columns, indexes and constraints of the public schema, in a stable order. */
async function schemaOf(databaseUrl: string) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const columns = await client.query(`
      SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default, is_identity
      FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`);
    const indexes = await client.query(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`,
    );
    const constraints = await client.query(`
      SELECT conrelid::regclass::text AS table_name, conname, pg_get_constraintdef(oid) AS definition
      FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY conrelid::regclass::text, conname`);
    return { columns: columns.rows, indexes: indexes.rows, constraints: constraints.rows };
  } finally {
    await client.end();
  }
}

async function appliedMigrations(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return (await client.query('SELECT name FROM kysely_migration ORDER BY name')).rows.map((row) => row.name);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  folder = await mkdtemp(join(tmpdir(), 'cats-migrate-bundle-'));
  runner = join(folder, 'run.mjs');
  await writeFile(runner, run);
  // Named migrate.js: esbuild-plugins.cjs tells the migrate function by its file name.
  const entry = join(folder, 'migrate.js');
  await writeFile(
    entry,
    `export { handler } from ${JSON.stringify(join(root, 'functions/migrate.ts'))};
    export { migrator } from ${JSON.stringify(join(root, 'lib/db/migrations.ts'))};
    export { closeDatabase, db } from ${JSON.stringify(join(root, 'lib/db/index.ts'))};
    export { NO_MIGRATIONS } from 'kysely/migration';`,
  );
  [deployed, withMigrator] = await Promise.all([
    build(join(root, 'functions/migrate.ts'), join(folder, 'deployed', 'migrate.mjs')),
    build(entry, join(folder, 'with-migrator', 'migrate.mjs')),
  ]);
}, apiTimeoutMs);

afterAll(async () => {
  for (const url of scratch) await dropScratchDatabase(server, url);
  await rm(folder, { recursive: true, force: true });
});

it(
  'applies every migration to an empty database from the bundle, then finds nothing to do',
  async () => {
    const url = await freshDatabase();
    expect(await invoke(deployed, 'up', url)).toEqual({ applied: allMigrations });
    expect(await invoke(deployed, 'up', url)).toEqual({ applied: [] });
    expect(await appliedMigrations(url)).toEqual(allMigrations);
  },
  apiTimeoutMs,
);

it(
  'leaves the same tables, columns, indexes and constraints as the migrations run from source',
  async () => {
    const [fromBundle, fromSource] = [await freshDatabase(), await freshDatabase()];
    await invoke(deployed, 'up', fromBundle);
    const { db } = createDatabase(readDatabaseSettings({ DATABASE_URL: fromSource }));
    try {
      await migrateToLatest(db as never);
    } finally {
      await db.destroy();
    }
    const bundled = await schemaOf(fromBundle);
    expect(bundled.indexes.map((index) => index.indexname)).toContain('cats_breed_id_idx');
    expect(bundled.constraints.map((constraint) => constraint.definition)).toContain('CHECK ((price >= 0))');
    expect(bundled).toEqual(await schemaOf(fromSource));
  },
  apiTimeoutMs,
);

it(
  'undoes every migration from the bundle, leaving only the migrator tables, and applies them all again',
  async () => {
    const url = await freshDatabase();
    await invoke(deployed, 'up', url);
    const undone = await invoke(withMigrator, 'down', url);
    expect(undone).toEqual(
      [...allMigrations].reverse().map((migrationName) => ({ migrationName, direction: 'Down', status: 'Success' })),
    );
    const tables = (await schemaOf(url)).columns.map((column) => column.table_name);
    expect([...new Set(tables)].sort()).toEqual(['kysely_migration', 'kysely_migration_lock']);
    expect(await appliedMigrations(url)).toEqual([]);
    expect(await invoke(deployed, 'up', url)).toEqual({ applied: allMigrations });
    expect(await appliedMigrations(url)).toEqual(allMigrations);
  },
  apiTimeoutMs,
);
