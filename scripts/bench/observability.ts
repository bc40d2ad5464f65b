/**
 * The cost of metrics and tracing (docs/operating.md), as rows of the
 * bench's table: get-cat built with the request metrics and with
 * lib/metrics.ts replaced by a no-op, each cold with and without the trace
 * header Lambda sets under active tracing (our code's only share of tracing:
 * the X-Ray segments themselves are sent by Lambda, outside the function), and
 * warm in one process in turn (observability-warm.mjs).
 *
 * Part of `npm run bench`; on its own, with its own embedded PostgreSQL:
 *   node --import tsx scripts/bench/observability.ts [--quick] [--instructions]
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { sql } from 'kysely';
import { functionBuildOptions } from '../../test/support/bundle.js';
import { httpEvent } from '../../test/support/lambda.js';
import { countInstructions } from './instructions.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const log = (line: string) => process.stderr.write(`[bench] ${line}\n`);

/** A row of bench.ts' table. */
export interface CostRow {
  section: string;
  figure: string;
  value: string;
  floor: string;
  ratio?: number;
  target?: number;
}

/**
 * What lib/metrics.ts exports, doing nothing: the build "without metrics"
 * (middy refuses a middleware without a hook, so it keeps one empty hook).
 * The request line is the metrics record too, so this build writes no
 * request line at all: "metrics" is the whole line's cost.
 */
const noMetrics = `export const metricNames = {};
export function countEvent() {}
export const requestMetrics = () => ({ after: () => undefined });
export const requestIdOf = (event, context) => context.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
`;

async function build(work: string, withMetrics: boolean): Promise<string> {
  const outfile = join(work, `get-cat-${withMetrics ? 'metrics' : 'none'}.mjs`);
  const stub = join(work, 'no-metrics.mjs');
  writeFileSync(stub, noMetrics);
  const replace: esbuild.Plugin = {
    name: 'no-metrics',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/metrics\.js$/ }, () => ({ path: stub }));
    },
  };
  await esbuild.build({
    ...functionBuildOptions,
    plugins: withMetrics ? functionBuildOptions.plugins : [replace, ...functionBuildOptions.plugins],
    entryPoints: [join(root, 'functions/get-cat.ts')],
    absWorkingDir: root,
    outfile,
  });
  return outfile;
}

/**
 * Runs `node argv` and gives the last line of its stdout, or of its stderr
 * with `from: 'stderr'`, when its stdout goes to a file instead: the warm
 * runs write a line or two per request, and a pipe would time this machine
 * waking the reading process for each (on 2 busy cores, ~30 µs a line),
 * not the function's write.
 */
function spawnLastLine(argv: string[], env: NodeJS.ProcessEnv, from: 'stdout' | 'stderr'): Promise<string> {
  return new Promise((ok, fail) => {
    const file = from === 'stderr' ? openSync(join(tmpdir(), `cats-bench-stdout-${process.pid}.log`), 'w') : 'pipe';
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', file, 'pipe'] });
    if (typeof file === 'number') closeSync(file);
    const out = { stdout: '', stderr: '' };
    child.stdout?.on('data', (chunk: Buffer) => {
      out.stdout = (out.stdout + chunk).slice(-4096);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      out.stderr = (out.stderr + chunk).slice(-4096);
    });
    child.once('exit', (code) => {
      if (typeof file === 'number') rmSync(join(tmpdir(), `cats-bench-stdout-${process.pid}.log`), { force: true });
      if (code === 0) ok(out[from].trim().split('\n').at(-1) ?? '');
      else fail(new Error(`${argv.join(' ')} exited ${code}: ${out.stderr}`));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const percent = (x: number, base: number) => `${x >= base ? '+' : ''}${(((x - base) / base) * 100).toFixed(2)}%`;

/**
 * Rows for the cold-start and warm cost of metrics and of tracing, with and
 * without, for get-cat against `databaseUrl` (a migrated database with a cat 7).
 */
export async function observabilityCosts(options: {
  databaseUrl: string;
  quick: boolean;
  instructions: boolean;
}): Promise<CostRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'cats-bench-observability-'));
  try {
    const bundles = { metrics: await build(work, true), none: await build(work, false) };
    const event = JSON.stringify(httpEvent('get-cat', { id: 7 }));
    // What Lambda sets (the initialization type is what Powertools' ColdStart
    // metric looks for), at the deployed log level: the request line is written.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      DATABASE_URL: options.databaseUrl,
      DB_POOL_MAX: '1',
      POWERTOOLS_SERVICE_NAME: 'cats-api',
      POWERTOOLS_METRICS_NAMESPACE: 'cats-api/bench',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_FUNCTION_NAME: 'bench',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    };
    const traced = {
      ...env,
      _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
    };
    const variants = {
      neither: [bundles.none, env],
      metrics: [bundles.metrics, env],
      tracing: [bundles.none, traced],
      both: [bundles.metrics, traced],
    } as const;
    const coldScript = join(root, 'scripts/bench/cold-function.mjs');
    const rows: CostRow[] = [];

    const repeats = options.quick ? 5 : 15;
    log(`observability: cold starts, ${repeats} x 4 variants of get-cat`);
    const cold: Record<string, number[]> = { neither: [], metrics: [], tracing: [], both: [] };
    for (let i = 0; i < repeats; i += 1) {
      for (const [name, [bundle, variantEnv]] of Object.entries(variants)) {
        const line = await spawnLastLine([coldScript, bundle, event], variantEnv, 'stdout');
        cold[name]?.push((JSON.parse(line) as { total: number }).total);
      }
    }
    const base = median(cold.neither ?? []);
    for (const name of ['metrics', 'tracing', 'both'] as const) {
      const value = median(cold[name] ?? []);
      rows.push({
        section: '6. observability',
        figure: `get-cat cold start, ${name === 'both' ? 'metrics + tracing' : name} vs neither (ms, wall clock)`,
        value: `${value.toFixed(1)} ms (${percent(value, base)})`,
        floor: `${base.toFixed(1)} ms`,
        ratio: value / base,
      });
    }

    if (options.instructions) {
      log('observability: cold-start instructions (valgrind), 4 variants');
      const counts: Record<string, number> = {};
      for (const [name, [bundle, variantEnv]] of Object.entries(variants)) {
        // valgrind runs ~50x slower: the connect timeout must not fire.
        counts[name] = await countInstructions([coldScript, bundle, event], {
          ...variantEnv,
          DB_CONNECT_TIMEOUT_MS: '60000',
        });
      }
      const neither = counts.neither ?? Number.NaN;
      for (const name of ['metrics', 'tracing', 'both'] as const) {
        const value = counts[name] ?? Number.NaN;
        rows.push({
          section: '6. observability',
          figure: `get-cat cold start, ${name === 'both' ? 'metrics + tracing' : name} vs neither (CPU instructions)`,
          value: `${(value / 1e6).toFixed(1)} M (${percent(value, neither)})`,
          floor: `${(neither / 1e6).toFixed(1)} M`,
          ratio: value / neither,
          // The budget: metrics and tracing together add at most 3%.
          ...(name === 'both' ? { target: 1.03 } : {}),
        });
      }
    }

    const warmScript = join(root, 'scripts/bench/observability-warm.mjs');
    const count = options.quick ? 500 : 3000;
    // Two requests: get-cat of a cat (a database round trip, whose jitter
    // dwarfs a few µs on a shared machine), and of an invalid id (400
    // before the database: only our code's CPU, where a few µs show).
    const warmEvents = {
      'GET /cats/7': event,
      'GET /cats/abc (400)': JSON.stringify(httpEvent('get-cat', { id: 'abc' })),
    };
    for (const [label, warmEvent] of Object.entries(warmEvents)) {
      log(`observability: warm ${label}, ${count} invocations of each of 4 variants, in turn`);
      const warmLine = await spawnLastLine(
        [warmScript, bundles.metrics, bundles.none, warmEvent, String(count)],
        env,
        'stderr',
      );
      const warm = JSON.parse(warmLine) as Record<string, number>;
      const none = warm.none ?? Number.NaN;
      for (const [name, key] of [
        ['metrics', 'metrics'],
        ['tracing', 'none+trace'],
        ['metrics + tracing', 'metrics+trace'],
      ] as const) {
        const value = warm[key] ?? Number.NaN;
        const added = warm[`${key}-added`] ?? Number.NaN;
        rows.push({
          section: '6. observability',
          figure: `warm ${label}, ${name} vs neither (median µs; added: median of paired differences)`,
          value: `${value.toFixed(0)} µs (${added >= 0 ? '+' : ''}${added.toFixed(1)} µs)`,
          floor: `${none.toFixed(0)} µs`,
          ratio: value / none,
        });
      }
    }

    // Not counted in instructions: between requests the event loop polls the
    // database socket a varying number of times, which moved the count per
    // request by more than the metrics' share (tried: ±20 k of ~680 k).
    return rows;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** On its own: an embedded PostgreSQL with a few cats, then the rows as a table. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const { applicationUrl, freePort, startLocalDatabase } = await import('../local-db.js');
  const { createDatabase } = await import('../../lib/db/index.js');
  const { readApplicationUser, readDatabaseSettings } = await import('../../lib/config.js');
  const { migrateToLatest } = await import('../../lib/db/migrations.js');
  const dir = mkdtempSync(join(tmpdir(), 'cats-bench-observability-db-'));
  mkdirSync(dir, { recursive: true });
  const server = await startLocalDatabase({
    dataDir: join(dir, 'pg'),
    port: await freePort(),
    database: 'bench_observability',
    persistent: false,
  });
  try {
    // Trust authentication, as bench.ts does: the cheapest connect, the same for every variant.
    const hba = join(server.dataDir, 'pg_hba.conf');
    // The API's role too, which the functions connect as (as deployed).
    writeFileSync(
      hba,
      `host all bench 127.0.0.1/32 trust\nhost all ${readApplicationUser()} 127.0.0.1/32 trust\n${readFileSync(hba, 'utf8')}`,
    );
    const { db } = createDatabase(readDatabaseSettings({ DATABASE_URL: server.url }));
    await sql`CREATE ROLE bench LOGIN SUPERUSER`.execute(db);
    await sql`SELECT pg_reload_conf()`.execute(db);
    await migrateToLatest(db as never);
    await db
      .insertInto('cats')
      .values(Array.from({ length: 10 }, (_, i) => ({ name: `cat ${i}`, price: 100 + i, breed: 'tabby' })))
      .execute();
    await db.destroy();
    const rows = await observabilityCosts({
      databaseUrl: await applicationUrl(server.url.replace(/\/\/[^@]*@/, '//bench@')),
      quick: args.includes('--quick'),
      instructions: args.includes('--instructions'),
    });
    const lines = [
      '| Section | Figure | Measured (median) | Without (same run) | Ratio | Target |',
      '| --- | --- | --- | --- | --- | --- |',
    ];
    for (const r of rows) {
      const target = r.target === undefined ? '' : `≤ ${r.target}×${(r.ratio ?? 0) <= r.target ? ' ✓' : ' ✗'}`;
      lines.push(`| ${r.section} | ${r.figure} | ${r.value} | ${r.floor} | ${r.ratio?.toFixed(3)}× | ${target} |`);
    }
    process.stdout.write(`Node ${process.version}\n\n${lines.join('\n')}\n`);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main();
  process.exit(0);
}
