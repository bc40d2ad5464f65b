import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import pg from 'pg';
import { readApplicationUser } from '../../lib/config.js';
import { functionBuildOptions, root } from '../../test/support/bundle.js';
import { httpEvent } from '../../test/support/lambda.js';
import { applicationUrl, freePort, startLocalDatabase } from '../local-db.js';
import { countInstructions } from './instructions.js';
import { buildReference } from './reference/build.js';

const work = mkdtempSync(join(tmpdir(), 'cats-devices-'));
const only = process.argv.slice(2);

type Plugin = esbuild.Plugin;
const plugins = functionBuildOptions.plugins as Plugin[];

interface Variant {
  name: string;
  plugins: Plugin[];
  env?: Record<string, string>;
}
const variants: Variant[] = [
  { name: 'as built', plugins },
  ...plugins.map((p) => ({ name: `without ${p.name}`, plugins: plugins.filter((q) => q !== p) })),
  { name: 'without any plugin', plugins: [] },
  { name: 'as built, NODE_OPTIONS=--enable-source-maps', plugins, env: { NODE_OPTIONS: '--enable-source-maps' } },
  { name: 'as built, log level WARN', plugins, env: { POWERTOOLS_LOG_LEVEL: 'WARN' } },
];

async function build(name: string, variant: Variant, dir: string): Promise<string> {
  mkdirSync(join(dir, 'functions'), { recursive: true });
  writeFileSync(join(dir, 'functions', 'package.json'), '{"type":"module"}');
  const outfile = join(dir, 'functions', `${name}.js`);
  await esbuild.build({
    ...functionBuildOptions,
    plugins: variant.plugins,
    entryPoints: [join(root, 'functions', `${name}.ts`)],
    absWorkingDir: root,
    sourcemap: 'linked',
    outfile,
  });
  return outfile;
}

async function main() {
  console.error(`Node ${process.version}`);
  const port = await freePort();
  const server = await startLocalDatabase({ dataDir: join(work, 'pg'), port, database: 'devices', persistent: false });
  try {
    const hba = join(server.dataDir, 'pg_hba.conf');
    // The API's role too, which the functions connect as (as deployed).
    writeFileSync(
      hba,
      `host all bench 127.0.0.1/32 trust\nhost all ${readApplicationUser()} 127.0.0.1/32 trust\n${readFileSync(hba, 'utf8')}`,
    );
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE ROLE bench LOGIN SUPERUSER');
    await admin.query('SELECT pg_reload_conf()');
    await admin.end();
    const url = `postgres://bench@127.0.0.1:${port}/devices`;
    const { createDatabase } = await import('../../lib/db/index.js');
    const { readDatabaseSettings } = await import('../../lib/config.js');
    const { migrateToLatest } = await import('../../lib/db/migrations.js');
    const { db } = createDatabase(readDatabaseSettings({ DATABASE_URL: url }));
    await migrateToLatest(db as never);
    await db.destroy();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(
      `INSERT INTO cats (name, price, breed) SELECT 'cat ' || g, 100, 'bengal' FROM generate_series(1, 100) g`,
    );
    await client.end();

    const env = {
      PATH: process.env.PATH,
      DATABASE_URL: await applicationUrl(url),
      DB_POOL_MAX: '1',
      POWERTOOLS_SERVICE_NAME: 'cats-api',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_FUNCTION_NAME: 'bench',
    };
    const cases = [
      { name: 'get-cat', event: httpEvent('get-cat', { id: 1 }), sql: 'select * from "cats" where "id" = 1' },
      {
        name: 'create-cat',
        event: httpEvent('create-cat'),
        sql: `insert into "cats" ("name", "price", "breed") values ('catty mcCatFace', 5000, 'bengal') returning *`,
      },
    ];
    const floorScript = join(root, 'scripts/bench/cold-floor.mjs');
    const functionScript = join(root, 'scripts/bench/cold-function.mjs');
    for (const c of cases) {
      const floor = await countInstructions([floorScript, '127.0.0.1', String(port), 'bench', 'devices', c.sql], {
        PATH: env.PATH,
      });
      console.log(`${c.name}: floor ${(floor / 1e6).toFixed(1)} M`);
      if (c.name === 'get-cat') {
        const reference = await buildReference(join(work, 'reference'));
        for (const extra of [{}, { NODE_OPTIONS: '--enable-source-maps' }]) {
          const count = await countInstructions([functionScript, reference, JSON.stringify(c.event)], {
            ...env,
            ...extra,
          });
          console.log(
            `reference get-cat ${JSON.stringify(extra)}: ${(count / 1e6).toFixed(1)} M (${(count / floor).toFixed(2)}x floor)`,
          );
        }
      }
      let base = 0;
      for (const [i, variant] of variants.entries()) {
        if (only.length > 0 && i > 0 && !only.some((o) => variant.name.includes(o))) continue;
        const bundle = await build(c.name, variant, join(work, `${c.name}-${i}`));
        const count = await countInstructions([functionScript, bundle, JSON.stringify(c.event)], {
          ...env,
          ...variant.env,
        });
        if (i === 0) base = count;
        const delta = count - base;
        console.log(
          `${c.name}: ${variant.name}: ${(count / 1e6).toFixed(1)} M (${(count / floor).toFixed(2)}x floor; ${delta >= 0 ? '+' : ''}${(delta / 1e6).toFixed(1)} M, ${((100 * delta) / base).toFixed(1)}%)`,
        );
      }
    }
  } finally {
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
process.exit(0);
