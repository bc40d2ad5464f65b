/**
 * What the load and fault scripts share: an embedded PostgreSQL of their own
 * (on a free port, in a temporary folder, so they can stop it, restart it and
 * change its settings), `npm start`'s script pointed at it, a connection
 * counter, and the bookkeeping that makes a broken invariant fail the run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type ApiProcess, authorizationFor, startApi } from '../../test/support/api-process.js';
import { freePort, type LocalDatabase, removeCluster, startLocalDatabase } from '../local-db.js';

export interface Stack {
  baseUrl: string;
  api: ApiProcess;
  databaseUrl: string;
  /** A client outside the API (application_name 'reliability-check'). */
  admin(): Promise<pg.Client>;
  /** Connections the API holds right now, as PostgreSQL sees them. */
  apiConnections(): Promise<number>;
  /** Worker threads (Lambda containers) serverless-offline runs right now. */
  containers(): number;
  /** CPU seconds the emulator's process (every container) has used so far. */
  cpuSeconds(): number;
  /** Stops the database: Ctrl-C's fast shutdown, or `pg_ctl stop -m <mode>`. */
  stopDatabase(mode?: 'fast' | 'immediate'): Promise<void>;
  startDatabase(): Promise<void>;
  /** The postmaster's pid, for signals. */
  postmasterPid(): number;
  close(): Promise<void>;
}

export interface StackOptions {
  postgresFlags?: string[];
  env?: NodeJS.ProcessEnv;
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const root = await mkdtemp(join(tmpdir(), 'cats-reliability-'));
  const dataDir = join(root, 'postgres');
  const port = await freePort();
  const open = () =>
    startLocalDatabase({ dataDir, port, database: 'cats', persistent: true, postgresFlags: options.postgresFlags });
  let database: LocalDatabase | undefined = await open();
  const databaseUrl = database.url;
  // Run as root, the cluster may live outside `root` (scripts/local-db.ts).
  const { clusterDir } = database;
  const removeAll = async () => {
    await removeCluster(dataDir);
    await rm(root, { recursive: true, force: true });
  };
  let api: ApiProcess;
  try {
    api = await startApi({
      dataDir: join(root, 'api'),
      databaseUrl,
      env: { POWERTOOLS_LOG_LEVEL: 'SILENT', ...options.env },
    });
    if (api.child.exitCode !== null) throw new Error(`the API did not start:\n${api.output()}`);
  } catch (error) {
    // Leave no PostgreSQL or folder behind when the API cannot start.
    await database.stop();
    await removeAll();
    throw error;
  }

  // Retried for up to 30 s: right after a restart on a busy machine the
  // server may take a while to accept connections, and the checks must wait
  // for it rather than end the run.
  const admin = async () => {
    const until = performance.now() + 30000;
    for (;;) {
      const client = new pg.Client({
        connectionString: databaseUrl,
        application_name: 'reliability-check',
        connectionTimeoutMillis: 3000,
      });
      // This script's own clients must not end it with an unheard 'error' either.
      client.on('error', () => {});
      try {
        await client.connect();
        return client;
      } catch (error) {
        if (performance.now() > until) throw error;
        await sleep(500);
      }
    }
  };
  let monitor: pg.Client | undefined;
  const apiConnections = async () => {
    monitor ??= await admin();
    const result = await monitor.query<{ n: string }>(
      "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'cats-api'",
    );
    return Number(result.rows[0]?.n ?? 0);
  };

  // start.ts runs serverless-offline as its child, and each Lambda container
  // is one worker thread of that process: one more thread in /proc. The
  // threads it had before the first request (main, V8, libuv) are the baseline.
  const offlinePid = () => {
    const children = readFileSync(`/proc/${api.child.pid}/task/${api.child.pid}/children`, 'utf8').trim();
    return Number(children.split(/\s+/)[0]);
  };
  const threads = () => readdirSync(`/proc/${offlinePid()}/task`).length;
  const baselineThreads = threads();
  const containers = () => Math.max(0, threads() - baselineThreads);
  // CPU seconds (user + system) the emulator's process, all its containers
  // included, has used so far: /proc/<pid>/stat fields 14 and 15, in clock ticks.
  const cpuSeconds = () => {
    const fields = readFileSync(`/proc/${offlinePid()}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };

  return {
    baseUrl: api.baseUrl,
    api,
    databaseUrl,
    admin,
    apiConnections,
    containers,
    cpuSeconds,
    async stopDatabase(mode) {
      await monitor?.end().catch(() => {});
      monitor = undefined;
      await (mode ? database?.pgCtlStop(mode) : database?.stop());
      database = undefined;
    },
    async startDatabase() {
      database = await open();
    },
    postmasterPid: () => {
      const pid = Number(readFileSync(join(clusterDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      // Never signal a process that is not this script's PostgreSQL.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.includes('postgres') || !cmdline.includes(clusterDir)) {
        throw new Error(`pid ${pid} is not the PostgreSQL on ${clusterDir}`);
      }
      return pid;
    },
    async close() {
      await monitor?.end().catch(() => {});
      await api.stop();
      await database?.stop();
      await removeAll();
    },
  };
}

export interface HttpResult {
  status: number;
  headers: Headers;
  text: string;
  ms: number;
}

/** One request, never longer than `timeoutMs`: a hang is reported as status 0. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 15000,
): Promise<HttpResult> {
  const started = performance.now();
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      // The writes need the local token npm start checks (startApi made it).
      headers: { ...authorizationFor(baseUrl), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    // serverless-offline answers a Lambda that ran out of time with a 200 and
    // {"errorType":"LambdaTimeoutError",...}; API Gateway would answer an
    // error. Counting that 200 as an acknowledged write would make the write
    // checks report phantom lost or stale writes, so it is recorded as the
    // failure it is (504), which the "fast and honest" checks then reject.
    const status = response.status === 200 && text.includes('"errorType":"LambdaTimeoutError"') ? 504 : response.status;
    return { status, headers: response.headers, text, ms: performance.now() - started };
  } catch (error) {
    return {
      status: 0,
      headers: new Headers(),
      // fetch's own message ("fetch failed") says nothing; its cause does.
      text:
        error instanceof Error
          ? `${error.message}${error.cause instanceof Error ? ` (${(error.cause as NodeJS.ErrnoException).code ?? ''} ${error.cause.message})` : ''}`
          : String(error),
      ms: performance.now() - started,
    };
  }
}

/** Statuses of a set of answers, e.g. "200:120 503:14". */
export const summary = (results: { status: number }[]) => {
  const counts = new Map<number, number>();
  for (const r of results) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
};

export const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** Collects invariant checks; `finish()` prints them and sets the exit code. */
export class Invariants {
  readonly results: { name: string; ok: boolean; detail: string }[] = [];

  check(name: string, ok: boolean, detail = ''): boolean {
    this.results.push({ name, ok, detail });
    console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}`);
    return ok;
  }

  get failed(): number {
    return this.results.filter((r) => !r.ok).length;
  }
}

export function table(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0] ?? {});
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(columns));
  for (const row of rows) console.log(line(columns.map((c) => String(row[c] ?? ''))));
}

export interface CatState {
  name: string;
  price: number;
  breed: string;
}

/** The rows of the cats table whose name starts with `prefix`, by id. */
export async function catsInDatabase(client: pg.Client, prefix: string): Promise<Map<number, CatState>> {
  const result = await client.query<{ id: number; name: string; price: number; breed: string }>(
    'SELECT id, name, price, breed FROM cats WHERE starts_with(name, $1)',
    [prefix],
  );
  return new Map(result.rows.map((r) => [r.id, { name: r.name, price: r.price, breed: r.breed }]));
}
