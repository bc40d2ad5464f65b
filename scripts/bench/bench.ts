/**
 * `npm run bench`: measures the Cats API against its physical floors in one
 * run and prints one Markdown table of medians and ratios (see BENCHMARKS.md).
 *
 * Everything runs on loopback against a throwaway embedded PostgreSQL on a
 * free port; rows are bulk-loaded with generate_series, never through the API.
 *
 *   npm run bench                  full run (a few minutes); exit 1 past a regression limit (targets missed are listed)
 *   npm run bench -- --quick       fewer repeats, for CI
 *   npm run bench -- --no-instructions  skip counting cold starts' CPU instructions (valgrind)
 *   npm run bench -- --out FILE    also write the table to FILE
 *   npm run bench -- --any-node    run on a Node other than 24 (Lambda's), with a warning
 *   npm run bench -- --deployed-only  bundles and section 7 (the cold start as deployed) only
 *
 * The functions run as deployed: the bundles `sls package` zips, with the
 * environment the packaged template gives each function (log level INFO,
 * NODE_OPTIONS=--enable-source-maps), on Node 24 as on Lambda.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import pg from 'pg';
import { readApplicationUser } from '../../lib/config.js';
import { type ApiProcess, startApi } from '../../test/support/api-process.js';
import { buildFunction } from '../../test/support/bundle.js';
import { httpEvent, lambdaContext } from '../../test/support/lambda.js';
import { makeTestCertificates, type TestCertificates, tlsServerFlags } from '../../test/support/tls.js';
import { applicationUrl, freePort, type LocalDatabase, serverAccount, startLocalDatabase } from '../local-db.js';
import { type DeployedSample, deployedColdStarts } from './deployed.js';
import { countInstructions } from './instructions.js';
import { type CostRow, observabilityCosts } from './observability.js';
import { buildReference } from './reference/build.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const instructions = !args.includes('--no-instructions');
const anyNode = args.includes('--any-node');
const deployedOnly = args.includes('--deployed-only');
const outIndex = args.indexOf('--out');
const outFile = outIndex >= 0 ? args[outIndex + 1] : undefined;
const shownArgs = args.filter((arg, i) => arg !== '--out' && (outIndex < 0 || i !== outIndex + 1));

const repeats = quick
  ? { cold: 5, warm: 300, scale: 150, httpMs: 1500 }
  : { cold: 15, warm: 2000, scale: 600, httpMs: 4000 };
const smallRows = 1_000;
const largeRows = 1_000_000;
const breeds = [
  'abyssinian',
  'bengal',
  'birman',
  'bombay',
  'persian',
  'ragdoll',
  'siamese',
  'sphynx',
  'tabby',
  'toyger',
];

// ---------------------------------------------------------------- figures

interface Row extends CostRow {
  /**
   * Over this the run fails: a regression guard, not the target. Where the
   * target is met it is the target (or, for noisy wall-clock rows, a margin
   * noise cannot reach); where it is not met yet (cold start and warm on
   * Node 24, BENCHMARKS.md) it is the last runs' figure plus a margin, so CI
   * catches things getting worse while the table shows the target missed.
   */
  limit?: number;
}
const rows: Row[] = [];
const notes: string[] = [];

const median = (xs: number[]) => percentile(xs, 50);
function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
const ms = (x: number) => (x >= 10 ? x.toFixed(1) : x.toFixed(2));
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = process.hrtime.bigint();
  const value = await fn();
  return [Number(process.hrtime.bigint() - start) / 1e6, value];
}

// ---------------------------------------------------------------- database

const cleanups: Array<() => Promise<unknown> | unknown> = [];
async function cleanup() {
  for (const step of cleanups.splice(0).reverse()) await Promise.resolve(step()).catch(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));
}
// An error nobody awaited (a dropped connection's 'error' event) must not
// leave the embedded PostgreSQL or the API running.
process.once('uncaughtException', (error) => {
  console.error(error);
  void cleanup().finally(() => process.exit(1));
});

const work = mkdtempSync(join(tmpdir(), 'cats-bench-'));
cleanups.push(() => rmSync(work, { recursive: true, force: true }));

interface Databases {
  server: LocalDatabase;
  admin: (database: string) => pg.Client;
  /**
   * Trust-auth URLs, so the handlers and the floor pay the same, minimal,
   * authentication: user `bench` (the owner) to migrate and load, then the
   * API's role (cats_api) for everything measured.
   */
  small: string;
  large: string;
  /** The owner's URL of the small database, which `npm start` migrates with before serving as the API's role. */
  smallOwner: string;
  /** The server has TLS on with these (section 7); the other sections connect without TLS. */
  certificates: TestCertificates;
}

async function startDatabases(): Promise<Databases> {
  const port = await freePort();
  // As root, the server runs as `postgres`, which must own the key.
  const certificates = makeTestCertificates(serverAccount());
  cleanups.push(() => rmSync(certificates.dir, { recursive: true, force: true }));
  const server = await startLocalDatabase({
    dataDir: join(work, 'pg'),
    port,
    database: 'bench_small',
    persistent: false,
    postgresFlags: tlsServerFlags(certificates),
  });
  cleanups.push(() => server.stop());
  const admin = (database: string) =>
    new pg.Client({ connectionString: server.url.replace(/\/[^/]*$/, `/${database}`) });
  const hba = join(server.dataDir, 'pg_hba.conf');
  // The API's role too: the handlers connect as it, as deployed (DB_AUTH=iam
  // is measured in its own section), with the same minimal authentication.
  const apiRole = readApplicationUser();
  writeFileSync(
    hba,
    `host all bench 127.0.0.1/32 trust\nhost all ${apiRole} 127.0.0.1/32 trust\n${readFileSync(hba, 'utf8')}`,
  );
  const client = admin('postgres');
  await client.connect();
  await client.query('CREATE ROLE bench LOGIN SUPERUSER');
  await client.query('CREATE DATABASE bench_large');
  await client.query('SELECT pg_reload_conf()');
  await client.end();
  const url = (database: string) => `postgres://bench@127.0.0.1:${port}/${database}`;
  return {
    server,
    admin,
    small: url('bench_small'),
    large: url('bench_large'),
    smallOwner: url('bench_small'),
    certificates,
  };
}

async function migrateAndLoad(url: string, count: number): Promise<void> {
  const { createDatabase } = await import('../../lib/db/index.js');
  const { readDatabaseSettings } = await import('../../lib/config.js');
  const { migrateToLatest } = await import('../../lib/db/migrations.js');
  const { db } = createDatabase(readDatabaseSettings({ DATABASE_URL: url }));
  await migrateToLatest(db as never);
  await db.destroy();
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  const [seconds] = await timed(async () => {
    // generate_series in one statement: a million rows in seconds, where the
    // API would take many minutes.
    await client.query(
      `INSERT INTO cats (name, price, breed)
       SELECT 'cat ' || g, ((g::bigint * 7919) % 100000)::int, ($2::text[])[1 + g % $3]
       FROM generate_series(1, $1::int) AS g`,
      [count, breeds, breeds.length],
    );
    await client.query('VACUUM ANALYZE cats');
    // Both tables start with their pages in shared buffers, as a serving
    // database's hot data is: the scale rows then compare the work per
    // request (index depth, rows visited), not the first read of each page
    // from the OS. Random-id reads still touch a million rows' worth of
    // memory, so CPU caches favour the small table a little.
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_prewarm');
    await client.query(`SELECT pg_prewarm('cats'), pg_prewarm('cats_pkey'), pg_prewarm('cats_breed_id_idx')`);
  });
  await client.end();
  log(`loaded ${count} rows into ${new URL(url).pathname.slice(1)} in ${(seconds / 1000).toFixed(1)} s`);
}

// ---------------------------------------------------------------- 1. bundles

/** The region the bench packages for: its RDS CA file is the one the functions ship (section 7). */
const packagedRegion = 'us-east-1';

const functionNames = {
  getCat: 'get-cat',
  listCats: 'list-cats',
  createCat: 'create-cat',
  updateCat: 'update-cat',
  deleteCat: 'delete-cat',
  migrate: 'migrate',
} as const;
type FunctionName = keyof typeof functionNames;

/**
 * Each function's environment as the packaged template deploys it: its plain
 * values (log level, NODE_OPTIONS, pool size...); the database's location and
 * secret (CloudFormation expressions) are replaced by a local DATABASE_URL.
 */
const deployedEnvironment = {} as Record<FunctionName, Record<string, string>>;

function readDeployedEnvironment(packageDir: string): void {
  const template = JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'));
  for (const name of Object.keys(functionNames) as FunctionName[]) {
    const logicalId = `${name[0]?.toUpperCase()}${name.slice(1)}LambdaFunction`;
    const variables: Record<string, unknown> =
      template.Resources?.[logicalId]?.Properties?.Environment?.Variables ?? {};
    if (Object.keys(variables).length === 0)
      throw new Error(`no environment for ${logicalId} in the packaged template`);
    deployedEnvironment[name] = Object.fromEntries(
      Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  }
  const get = deployedEnvironment.getCat;
  notes.push(
    `Deployed environment (packaged template, plain values): ${Object.entries(get)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}; log level ${get.POWERTOOLS_LOG_LEVEL ?? 'INFO (Powertools default)'}.`,
  );
}

/** Packages every function with `sls package` and unzips each; returns the bundle path of each. */
async function bundles(): Promise<Record<FunctionName, string>> {
  const packageDir = join(work, 'package');
  log('sls package ...');
  await run('npx', ['sls', 'package', '--stage', 'dev', '--region', packagedRegion, '--package', packageDir], {
    cwd: root,
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 10 * 1024 * 1024,
  });
  readDeployedEnvironment(packageDir);
  const out = {} as Record<FunctionName, string>;
  for (const [name, file] of Object.entries(functionNames) as Array<[FunctionName, string]>) {
    const zip = join(packageDir, `${name}.zip`);
    const dir = join(work, 'functions', name);
    mkdirSync(dir, { recursive: true });
    await run('unzip', ['-q', '-o', zip, '-d', dir]);
    const bundle = join(dir, 'functions', `${file}.js`);
    out[name] = bundle;
    const code = readFileSync(bundle);
    // The same build as `sls package` (serverless.yml's esbuild options and
    // plugins, split the same way), with a metafile, to say what the
    // function's own file is made of (not the chunks it may load later).
    const { composition } = await buildFunction(file);
    const byPackage = new Map<string, number>();
    for (const [input, bytes] of Object.entries(composition)) {
      const pkg = input.includes('/') && !input.startsWith('@') ? 'app' : input;
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + bytes);
    }
    const top = [...byPackage].sort((a, b) => b[1] - a[1]).filter(([, bytes]) => bytes >= 1024);
    notes.push(`${file}.js: ${top.map(([pkg, bytes]) => `${pkg} ${(bytes / 1024).toFixed(0)}`).join(', ')} (KB)`);
    rows.push({
      section: '1. bundle',
      figure: `${file}.js minified / gzip / zip`,
      value: `${kb(code.length)} / ${kb(gzipSync(code, { level: 9 }).length)} / ${kb(statSync(zip).size)}`,
      floor: `${kb(bundleTarget)} target`,
      ratio: code.length / bundleTarget,
      target: 1,
      limit: bundleLimit,
    });
  }
  return out;
}

/**
 * The bundles' budget. 250 KB is the target; the run fails past 275 KB (1.1x).
 * A kilobyte is worth its cold start only: leaving pg's native client out
 * (8.7 KB) saved 1.2 M instructions, 0.4% of a cold start, so a function at
 * the limit costs ~1.2% more cold start than one at the target, inside the
 * headroom the cold-start rows' own limit (2x the floor, measured 1.80-1.91x)
 * guards. The 25 KB hold another resource of the owners' kind in every
 * function: the owners' list function is list-cats' size plus its email
 * check (~2 KB of zod), and the cats' own functions grow by the reference
 * field (~0.3 KB).
 */
const bundleTarget = 250 * 1024;
const bundleLimit = 1.1;

// ---------------------------------------------------------------- 2. cold start

interface ColdSample {
  boot: number;
  init: number;
  invoke: number;
  total: number;
}

function spawnSample(argv: string[], env: NodeJS.ProcessEnv): Promise<ColdSample & DeployedSample> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) ok(JSON.parse(out.trim().split('\n').at(-1) ?? '{}'));
      else fail(new Error(`${argv.join(' ')} exited ${code}: ${err}${out}`));
    });
  });
}

async function coldStarts(db: Databases, bundlePaths: Record<FunctionName, string>): Promise<void> {
  const url = new URL(db.small);
  // What Lambda would give the function: its deployed environment (log
  // level, NODE_OPTIONS) and nothing of this shell's (no loader).
  const envOf = (name: FunctionName) => ({
    ...deployedEnvironment[name],
    PATH: process.env.PATH,
    DATABASE_URL: db.small,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
    // Lambda sets it in every container; the functions open their connection
    // during init when they see it (lib/db/index.ts, connectEarly).
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
  });
  const cases: Array<{ name: FunctionName; event: APIGatewayProxyEventV2; sql: string }> = [
    { name: 'getCat', event: httpEvent('get-cat', { id: 1 }), sql: 'select * from "cats" where "id" = 1' },
    {
      name: 'listCats',
      event: httpEvent('list-cats', { query: { limit: '20' } }),
      sql: 'select * from "cats" order by "id" limit 21',
    },
    {
      name: 'createCat',
      event: httpEvent('create-cat'),
      sql: `insert into "cats" ("name", "price", "breed") values ('catty mcCatFace', 5000, 'bengal') returning *`,
    },
    {
      name: 'updateCat',
      event: httpEvent('update-cat', { id: 2 }),
      sql: `update "cats" set "price" = 4500, "updated_at" = now() where "id" = 2 returning *`,
    },
  ];
  const floorScript = join(root, 'scripts/bench/cold-floor.mjs');
  const functionScript = join(root, 'scripts/bench/cold-function.mjs');
  const samples = new Map<string, { fn: ColdSample[]; floor: ColdSample[] }>(
    cases.map((c) => [c.name, { fn: [], floor: [] }]),
  );
  log(`cold starts: ${repeats.cold} x ${cases.length} functions, each next to its floor`);
  for (let i = 0; i < repeats.cold; i += 1) {
    for (const c of cases) {
      const entry = samples.get(c.name);
      // Interleaved, so a burst of load on the machine hits both alike.
      entry?.fn.push(await spawnSample([functionScript, bundlePaths[c.name], JSON.stringify(c.event)], envOf(c.name)));
      entry?.floor.push(
        await spawnSample([floorScript, url.hostname, url.port, 'bench', 'bench_small', c.sql], {
          PATH: process.env.PATH,
        }),
      );
    }
  }
  // Each part is its own median, so the parts need not add up to the total.
  for (const c of cases) {
    const entry = samples.get(c.name);
    if (!entry) continue;
    const f = (key: keyof ColdSample, list: ColdSample[]) => median(list.map((s) => s[key]));
    const fnTotal = f('total', entry.fn);
    const floorTotal = f('total', entry.floor);
    rows.push({
      section: '2. cold start',
      figure: `${functionNames[c.name]}: total (node boot / init = load / first answer incl. connect)`,
      value: `${ms(fnTotal)} ms (${ms(f('boot', entry.fn))} / ${ms(f('init', entry.fn))} / ${ms(f('invoke', entry.fn))})`,
      floor: `${ms(floorTotal)} ms (${ms(f('boot', entry.floor))} / ${ms(f('init', entry.floor))} / ${ms(f('invoke', entry.floor))})`,
      ratio: fnTotal / floorTotal,
      target: 1.5,
      // Measured 1.5-2.5x on this shared machine (instructions are the steady figure).
      limit: 2.75,
    });
  }

  if (!instructions) return;
  // Wall-clock cold starts on a shared 2-core machine move by a few
  // milliseconds from run to run. Instructions retired do not: with V8 on one
  // thread and fixed seeds, the same bundle costs the same count every time,
  // so a change of a fraction of a percent is visible.
  log('cold starts: counting instructions with valgrind (a few seconds each)');
  const counted = new Map<FunctionName, number>();
  for (const c of cases) {
    const fn = await countInstructions([functionScript, bundlePaths[c.name], JSON.stringify(c.event)], envOf(c.name));
    counted.set(c.name, fn);
    const floor = await countInstructions([floorScript, url.hostname, url.port, 'bench', 'bench_small', c.sql], {
      PATH: process.env.PATH,
    });
    rows.push({
      section: '2. cold start',
      figure: `${functionNames[c.name]}: CPU instructions to the first answer`,
      value: `${(fn / 1e6).toFixed(1)} M`,
      floor: `${(floor / 1e6).toFixed(1)} M`,
      ratio: fn / floor,
      target: 1.6,
      // Deterministic; 1.80-1.91x on Node 24 (BENCHMARKS.md: why 1.6x is out of reach).
      limit: 2,
    });
  }
  // The same libraries as a public template would use them (scripts/bench/reference),
  // answering the same event with the same environment.
  const reference = await buildReference(join(work, 'reference'));
  const getCase = cases.find((c) => c.name === 'getCat');
  const ours = counted.get('getCat');
  if (getCase && ours !== undefined) {
    const theirs = await countInstructions([functionScript, reference, JSON.stringify(getCase.event)], envOf('getCat'));
    rows.push({
      section: '2. cold start',
      figure:
        'get-cat: CPU instructions, against a plain esbuild build of middy + Powertools Logger + zod + Kysely + pg',
      value: `${(ours / 1e6).toFixed(1)} M`,
      floor: `${(theirs / 1e6).toFixed(1)} M (reference)`,
      ratio: ours / theirs,
      target: 0.6,
      // Deterministic; 0.64x on Node 24.
      limit: 0.7,
    });
  }
}

// ---------------------------------------------------------------- handlers in process

type Handler = (
  event: APIGatewayProxyEventV2,
  context: ReturnType<typeof lambdaContext>,
) => Promise<{ statusCode?: number }>;

async function loadHandlers() {
  const [get, list, create, update] = await Promise.all([
    import('../../functions/get-cat.js'),
    import('../../functions/list-cats.js'),
    import('../../functions/create-cat.js'),
    import('../../functions/update-cat.js'),
  ]);
  return {
    get: get.handler as unknown as Handler,
    list: list.handler as unknown as Handler,
    create: create.handler as unknown as Handler,
    update: update.handler as unknown as Handler,
  };
}

async function invoke(handler: Handler, event: APIGatewayProxyEventV2): Promise<void> {
  const result = await handler(event, lambdaContext());
  if ((result.statusCode ?? 200) >= 400) throw new Error(`handler answered ${JSON.stringify(result)}`);
}

async function useDatabase(url: string) {
  const dbModule = await import('../../lib/db/index.js');
  await dbModule.closeDatabase();
  process.env.DATABASE_URL = url;
  return dbModule.getDatabase();
}

// ---------------------------------------------------------------- 3. warm latency

/** Runs warm-function.mjs: the bundle in a fresh `node` with the function's deployed environment. */
function warmSamples(
  name: FunctionName,
  bundle: string,
  event: APIGatewayProxyEventV2,
  sql: string,
  values: unknown[],
  env: NodeJS.ProcessEnv,
): Promise<{ handler: number[]; raw: number[] }> {
  return new Promise((ok, fail) => {
    const child = spawn(
      process.execPath,
      [
        join(root, 'scripts/bench/warm-function.mjs'),
        bundle,
        JSON.stringify(event),
        sql,
        JSON.stringify(values),
        String(repeats.warm),
      ],
      // stdout is a pipe read here, as Lambda's runtime reads the function's.
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let last = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => {
      last = (last + chunk).split('\n').slice(-2).join('\n');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk;
    });
    child.once('exit', (code) => {
      if (code === 0) ok(JSON.parse(last.trim().split('\n').at(-1) ?? '{}'));
      else fail(new Error(`warm ${name} exited ${code}: ${err}`));
    });
  });
}

async function warmLatency(db: Databases, bundlePaths: Record<FunctionName, string>): Promise<void> {
  const cases: Array<{
    name: string;
    fn: FunctionName;
    event: APIGatewayProxyEventV2;
    sql: string;
    values: unknown[];
  }> = [
    {
      name: 'get',
      fn: 'getCat',
      event: httpEvent('get-cat', { id: 7 }),
      sql: 'select * from "cats" where "id" = $1',
      values: [7],
    },
    {
      // The SQL text the handler sends (Kysely's, cursor key and tie-breaker
      // order included), so the floor does the same work in Postgres.
      name: 'list',
      fn: 'listCats',
      event: httpEvent('list-cats', { query: { limit: '20' } }),
      sql: 'select *, "id"::text as "cursor_key" from "cats" order by "id" asc, "id" asc limit $1',
      values: [21],
    },
    {
      name: 'create',
      fn: 'createCat',
      event: httpEvent('create-cat'),
      sql: 'insert into "cats" ("name", "price", "breed") values ($1, $2, $3) returning *',
      values: ['catty mcCatFace', 5000, 'bengal'],
    },
    {
      name: 'patch',
      fn: 'updateCat',
      event: httpEvent('update-cat', { id: 9 }),
      sql: 'update "cats" set "price" = $1, "updated_at" = now(), "version" = version + 1 where "id" = $2 returning *',
      values: [4500, 9],
    },
  ];
  log(`warm latency: ${repeats.warm} invocations per bundled handler as deployed, alternating with raw pg`);
  for (const c of cases) {
    // A fair floor runs the very statement the handler runs, not a cheaper
    // one: warm-function.mjs compares what each side writes to its socket.
    const { handler: handlerTimes, raw: rawTimes } = await warmSamples(
      c.fn,
      bundlePaths[c.fn],
      c.event,
      c.sql,
      c.values,
      { ...deployedEnvironment[c.fn], PATH: process.env.PATH, DATABASE_URL: db.small },
    );
    const h50 = median(handlerTimes);
    const r50 = median(rawTimes);
    rows.push({
      section: '3. warm',
      figure: `${c.name} handler p50 / p99 (bundle, as deployed)`,
      value: `${ms(h50)} / ${ms(percentile(handlerTimes, 99))} ms`,
      floor: `${ms(r50)} / ${ms(percentile(rawTimes, 99))} ms`,
      ratio: h50 / r50,
      target: 1.3,
      // 1.22-1.42x as deployed on this shared machine with one request line carrying the metrics (1.30-1.57x with two).
      limit: 1.8,
    });
  }
}

// ---------------------------------------------------------------- 4. scale

async function scale(db: Databases): Promise<void> {
  const handlers = await loadHandlers();
  const { encodeCursor, listingOf } = await import('../../lib/listing.js');
  const { catListing, listQuerySchema } = await import('../../lib/cats/schema.js');
  let seed = 42;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  // Events are built before the clock runs (reading a fixture is not the
  // handler's work); the random-id event only gets a new path parameter.
  // A cursor as the API would issue it after the cat `id` (id order).
  // Ids start at 1, and so does every cursor the API issues.
  const cursorAfter = (after: number, breed?: string) => {
    const id = Math.max(1, after);
    return encodeCursor(listingOf(catListing, listQuerySchema.parse(breed ? { breed } : {})), { key: String(id), id });
  };
  const cases = (rowCount: number) => {
    const firstPage = httpEvent('list-cats', { query: { limit: '20' } });
    const deepPage = httpEvent('list-cats', {
      query: { limit: '20', cursor: cursorAfter(rowCount - 100) },
    });
    const oneCat = httpEvent('get-cat', { id: 1 });
    const breedPage = httpEvent('list-cats', { query: { limit: '20', breed: 'bengal' } });
    const deepBreedPage = httpEvent('list-cats', {
      query: { limit: '20', breed: 'bengal', cursor: cursorAfter(rowCount - 1000, 'bengal') },
    });
    return [
      {
        name: 'GET /cats (first page)',
        run: () => invoke(handlers.list, firstPage),
        sql: 'select * from "cats" order by "id" limit 21',
      },
      {
        name: 'GET /cats (deep page, cursor)',
        run: () => invoke(handlers.list, deepPage),
        sql: `select * from "cats" where "id" > ${rowCount - 100} order by "id" limit 21`,
      },
      {
        name: 'GET /cats/{id} (same id)',
        run: () => invoke(handlers.get, { ...oneCat, pathParameters: { id: String(Math.floor(rowCount / 2)) } }),
        sql: `select * from "cats" where "id" = ${Math.floor(rowCount / 2)}`,
      },
      {
        name: 'GET /cats/{id} (random id)',
        run: () =>
          invoke(handlers.get, {
            ...oneCat,
            pathParameters: { id: String(1 + Math.floor(random() * rowCount)) },
          }),
        sql: `select * from "cats" where "id" = ${Math.floor(rowCount / 2)}`,
      },
      {
        name: 'GET /cats?breed= (first page)',
        run: () => invoke(handlers.list, breedPage),
        sql: `select * from "cats" where "breed" = 'bengal' order by "id" limit 21`,
      },
      {
        name: 'GET /cats?breed= (deep page, cursor)',
        run: () => invoke(handlers.list, deepBreedPage),
        sql: `select * from "cats" where "id" > ${rowCount - 1000} and "breed" = 'bengal' order by "id" limit 21`,
      },
    ];
  };
  // Per query: every timing of each size, and each round's p50s side by side.
  const times = new Map<
    string,
    { small: number[]; large: number[]; rounds: Array<{ small: number; large: number }> }
  >();
  log(`scale: ${repeats.scale} requests per query at ${smallRows} and ${largeRows} rows`);
  // Many short blocks, in alternating order, so a noisy spell on the machine
  // hits both sizes alike.
  const rounds = 10;
  const sizes = [
    ['small', db.small, smallRows],
    ['large', db.large, largeRows],
  ] as const;
  for (let round = 0; round < rounds; round += 1) {
    const thisRound = new Map<string, { small: number; large: number }>();
    for (const [size, url, rowCount] of round % 2 === 0 ? sizes : [...sizes].reverse()) {
      await useDatabase(url);
      for (const c of cases(rowCount)) {
        const entry = times.get(c.name) ?? { small: [], large: [], rounds: [] };
        times.set(c.name, entry);
        for (let i = 0; i < 10; i += 1) await c.run();
        const block: number[] = [];
        for (let i = 0; i < Math.ceil(repeats.scale / rounds); i += 1) block.push((await timed(c.run))[0]);
        entry[size].push(...block);
        const pair = thisRound.get(c.name) ?? { small: Number.NaN, large: Number.NaN };
        pair[size] = median(block);
        thisRound.set(c.name, pair);
      }
    }
    for (const [name, pair] of thisRound) times.get(name)?.rounds.push(pair);
  }
  const client = new pg.Client({ connectionString: db.large });
  await client.connect();
  for (const c of cases(largeRows)) {
    const entry = times.get(c.name);
    if (!entry) continue;
    const small = median(entry.small);
    const large = median(entry.large);
    // The ratio is the median over rounds of the two sizes measured minutes
    // apart at most: a spell of noise (a checkpoint flushing the million rows'
    // pages, another process) that slows a few blocks of one size cannot
    // move it, where it can move the p50 of all samples pooled.
    const ratio = median(entry.rounds.map((pair) => pair.large / pair.small));
    const plan = await client.query(`EXPLAIN (COSTS OFF) ${c.sql}`);
    const lines = plan.rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN'].trim().replace(/^->\s*/, ''));
    notes.push(`plan at ${largeRows} rows, ${c.name}: ${lines.join(' → ')}`);
    if (lines.some((line) => /Seq Scan/.test(line))) notes.push(`WARNING: ${c.name} uses a sequential scan`);
    rows.push({
      section: '4. scale',
      figure: `${c.name} p50 at ${largeRows.toLocaleString('en')} rows`,
      value: `${ms(large)} ms`,
      floor: `${ms(small)} ms at ${smallRows.toLocaleString('en')}`,
      ratio,
      target: 1.2,
      // A missing index or an OFFSET makes this 100x and more, not 3x.
      limit: 3,
    });
  }
  await client.end();
  notes.push(
    `Scale ratio: the median over ${rounds} rounds of the 1,000,000-row p50 over the 1,000-row p50 of the same round; the columns show the p50 of all samples of each size.`,
  );
}

// ---------------------------------------------------------------- 5. HTTP

const agentFor = (concurrency: number) => new http.Agent({ keepAlive: true, maxSockets: concurrency });

function get(agent: http.Agent, url: string): Promise<number> {
  return new Promise((ok, fail) => {
    const start = process.hrtime.bigint();
    http
      .get(url, { agent }, (res) => {
        res.resume();
        res.once('end', () =>
          res.statusCode === 200
            ? ok(Number(process.hrtime.bigint() - start) / 1e6)
            : fail(new Error(`${url}: ${res.statusCode}`)),
        );
      })
      .once('error', fail);
  });
}

/** Requests for `durationMs` from `concurrency` loops; returns latencies and req/s. */
async function load(url: string, concurrency: number, durationMs: number) {
  const agent = agentFor(concurrency);
  for (let i = 0; i < 20; i += 1) await get(agent, url);
  const latencies: number[] = [];
  const start = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() - start < durationMs) latencies.push(await get(agent, url));
    }),
  );
  const seconds = (Date.now() - start) / 1000;
  agent.destroy();
  return { rps: latencies.length / seconds, p50: median(latencies), p99: percentile(latencies, 99) };
}

async function httpThroughput(db: Databases): Promise<void> {
  log('HTTP: starting npm start (serverless-offline) and the bare node:http floor');
  const api: ApiProcess = await startApi({ dataDir: join(work, 'api'), databaseUrl: db.smallOwner });
  cleanups.push(() => api.stop());
  if (api.child.exitCode !== null) throw new Error(`npm start exited:\n${api.output()}`);
  const floorPort = await freePort();
  const floor: ChildProcess = spawn(
    process.execPath,
    [join(root, 'scripts/bench/http-floor.mjs'), db.small, String(floorPort)],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH } },
  );
  cleanups.push(() => floor.kill('SIGTERM'));
  await new Promise<void>((ready) => floor.stdout?.once('data', () => ready()));
  const floorUrl = `http://127.0.0.1:${floorPort}`;
  for (const [name, path] of [
    ['GET /cats/{id}', '/cats/3'],
    ['GET /cats', '/cats?limit=20'],
  ] as const) {
    for (const concurrency of [1, 10]) {
      const measured = await load(`${api.baseUrl}${path}`, concurrency, repeats.httpMs);
      const bare = await load(`${floorUrl}${path}`, concurrency, repeats.httpMs);
      rows.push({
        section: '5. HTTP',
        figure: `${name} c=${concurrency}: req/s, p50 / p99`,
        value: `${measured.rps.toFixed(0)}/s, ${ms(measured.p50)} / ${ms(measured.p99)} ms`,
        floor: `${bare.rps.toFixed(0)}/s, ${ms(bare.p50)} / ${ms(bare.p99)} ms`,
        ratio: measured.p50 / bare.p50,
      });
    }
  }
  notes.push(
    'HTTP ratio is p50 over the floor p50; the floor is a bare node:http server with one raw pg query (scripts/bench/http-floor.mjs), `npm start` runs serverless-offline, which emulates API Gateway and Lambda in-process and is not what Lambda runs.',
  );
}

// ---------------------------------------------------------------- main

function table(): string {
  const lines = [
    '| Section | Figure | Measured (median) | Floor (same run) | Ratio | Target |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const ratio = r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`;
    const target =
      r.target === undefined ? '' : `≤ ${r.target}×${r.ratio !== undefined && r.ratio <= r.target ? ' ✓' : ' ✗'}`;
    lines.push(`| ${r.section} | ${r.figure} | ${r.value} | ${r.floor} | ${ratio} | ${target} |`);
  }
  return lines.join('\n');
}

async function main() {
  const started = Date.now();
  const major = Number(process.versions.node.split('.')[0]);
  log(`Node ${process.version} (${process.execPath})`);
  if (major !== 24) {
    const message = `Lambda runs these functions on nodejs24.x, and this is Node ${process.version}: its figures are not the deployed ones. Put Node 24 first on PATH (docs/deploying.md, Prerequisites)`;
    if (!anyNode) throw new Error(`${message}, or pass --any-node to measure anyway.`);
    log(`WARNING: ${message}.`);
    notes.push(`WARNING: run on Node ${process.version}, not on Lambda's Node 24.`);
  }
  const owner = await startDatabases();
  await migrateAndLoad(owner.small, smallRows);
  if (!deployedOnly) await migrateAndLoad(owner.large, largeRows);
  // Migrated and loaded as the owner; measured as the API's role, as deployed.
  const db = { ...owner, small: await applicationUrl(owner.small), large: await applicationUrl(owner.large) };
  // The scale rows run the handlers in this process: quiet, and one connection.
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  process.env.DB_POOL_MAX = '1';
  const bundlePaths = await bundles();
  if (!deployedOnly) await coldStarts(db, bundlePaths);
  // Section 7: the same cold starts with the deployed connect path (TLS, IAM or the secret).
  rows.push(
    ...(await deployedColdStarts({
      bundles: { getCat: bundlePaths.getCat, createCat: bundlePaths.createCat },
      environment: { getCat: deployedEnvironment.getCat, createCat: deployedEnvironment.createCat },
      region: packagedRegion,
      database: {
        port: db.server.port,
        adminUrl: db.server.url.replace(/\/[^/]*$/, '/bench_small'),
        name: 'bench_small',
        hbaFile: join(db.server.dataDir, 'pg_hba.conf'),
      },
      certificates: db.certificates,
      repeats: repeats.cold,
      instructions,
      full: !quick,
      spawnSample,
      log,
    })),
  );
  if (!deployedOnly) {
    await warmLatency(db, bundlePaths);
    await scale(db);
    await httpThroughput(db);
  }
  // Section 6, the cost of metrics and tracing: its own module (docs/operating.md).
  if (!deployedOnly) rows.push(...(await observabilityCosts({ databaseUrl: db.small, quick, instructions })));
  const { closeDatabase } = await import('../../lib/db/index.js');
  await closeDatabase();

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const header = [
    `Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`,
    `Command: npm run bench${shownArgs.length > 0 ? ` -- ${shownArgs.join(' ')}` : ''} (${new Date().toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s)`,
  ];
  const output = `${header.join('\n\n')}\n\n${table()}\n\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
  process.stdout.write(output);
  if (outFile) writeFileSync(outFile, output);
  const broken = rows.filter((r) => r.limit !== undefined && r.ratio !== undefined && r.ratio > r.limit);
  for (const r of broken) console.error(`check: ${r.figure}: ${r.ratio?.toFixed(2)}× > ${r.limit}×`);
  const seqScans = notes.filter((n) => n.includes('uses a sequential scan'));
  for (const n of seqScans) console.error(`check: ${n}`);
  const missed = rows.filter((r) => r.target !== undefined && r.ratio !== undefined && r.ratio > r.target);
  for (const r of missed) {
    if (!broken.includes(r))
      console.error(`target missed (known, BENCHMARKS.md): ${r.figure}: ${r.ratio?.toFixed(2)}× > ${r.target}×`);
  }
  if (broken.length > 0 || seqScans.length > 0) process.exitCode = 1;
  else console.error(missed.length > 0 ? 'check: no regression past the limits' : 'check: every target met');
}

try {
  await main();
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await cleanup();
}
// Anything left (keep-alive sockets) must not keep the script alive.
process.exit(process.exitCode ?? 0);
