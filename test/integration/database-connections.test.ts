/**
 * The pool behind every handler: timeouts that turn a stuck statement into a
 * 503, and recovery from connections that died while nobody was looking.
 */
import { execFileSync } from 'node:child_process';
import { sql } from 'kysely';
import { readDatabaseSettings } from '../../lib/config.js';
import { createDatabase, type DatabaseHandle } from '../../lib/db/index.js';
import { toProblem } from '../../lib/http/errors.js';

const url = process.env.DATABASE_URL ?? '';
const handles: DatabaseHandle[] = [];

function database(env: Record<string, string> = {}): DatabaseHandle {
  const handle = createDatabase(readDatabaseSettings({ DATABASE_URL: url, ...env }));
  handles.push(handle);
  return handle;
}

afterAll(async () => {
  await Promise.all(handles.map((h) => h.db.destroy().catch(() => {})));
});

const backendPid = async (handle: DatabaseHandle) =>
  (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(handle.db)).rows[0]?.pid;

/**
 * Terminates a server process from a child process while this one is blocked
 * in execFileSync: our event loop never sees the connection close, as in a
 * Lambda container that is frozen between invocations.
 */
function terminateWhileFrozen(pid: number): void {
  const script = `
    const pg = require('pg');
    const c = new pg.Client({ connectionString: process.env.URL });
    c.connect()
      .then(() => c.query('SELECT pg_terminate_backend($1)', [Number(process.env.PID)]))
      .then(() => new Promise((r) => setTimeout(r, 200)))
      .finally(() => c.end());`;
  execFileSync(process.execPath, ['-e', script], { env: { ...process.env, URL: url, PID: String(pid) } });
}

it("connects with the tutorial's POSTGRES_* variables as well as with DATABASE_URL", async () => {
  const parsed = new URL(url);
  const handle = createDatabase(
    readDatabaseSettings({
      POSTGRES_HOST: parsed.hostname,
      POSTGRES_PORT: parsed.port || '5432',
      POSTGRES_USER: decodeURIComponent(parsed.username),
      POSTGRES_PASSWORD: decodeURIComponent(parsed.password),
      POSTGRES_DB: parsed.pathname.slice(1),
    }),
  );
  handles.push(handle);
  const { rows } = await sql<{ db: string }>`SELECT current_database() AS db`.execute(handle.db);
  expect(rows).toEqual([{ db: parsed.pathname.slice(1) }]);
});

it('opens one connection per container by default', async () => {
  const handle = database();
  await Promise.all([1, 2, 3].map(() => sql`SELECT pg_sleep(0.05)`.execute(handle.db)));
  expect(handle.pool.totalCount).toBe(1);
});

it('turns a statement that outlives the statement timeout into a 503 problem', async () => {
  const handle = database({ DB_STATEMENT_TIMEOUT_MS: '200' });
  const error = await sql`SELECT pg_sleep(5)`.execute(handle.db).catch((e: unknown) => e);
  // The server's statement timeout cancelled it (query_canceled), not the
  // client's later timeout and not the end of the sleep.
  expect((error as { code?: string }).code).toBe('57014');
  expect(String(error)).toMatch(/statement timeout/);
  const problem = toProblem(error);
  expect(problem.status).toBe(503);
  expect(problem.headers['retry-after']).toBeDefined();
  // The connection is still usable after a cancelled statement.
  expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(handle.db)).rows).toEqual([{ one: 1 }]);
});

it('replaces a pooled connection that the server closed while the container was frozen', async () => {
  const handle = database({ DB_VALIDATE_AFTER_IDLE_MS: '0' });
  const first = await backendPid(handle);
  terminateWhileFrozen(first ?? 0);
  const second = await backendPid(handle);
  expect(second).toEqual(expect.any(Number));
  expect(second).not.toBe(first);
});

it('would have failed that request without the idle check, which is why the check exists', async () => {
  const handle = database({ DB_VALIDATE_AFTER_IDLE_MS: '3600000' });
  const first = await backendPid(handle);
  terminateWhileFrozen(first ?? 0);
  const error = await backendPid(handle).catch((e: unknown) => e);
  expect(toProblem(error).status).toBe(503);
  // The dead client was dropped, so the request after that works again.
  expect(await backendPid(handle)).not.toBe(first);
});

it('survives an idle connection being terminated while the process is awake', async () => {
  const handle = database();
  const first = await backendPid(handle);
  const killer = database();
  await sql`SELECT pg_terminate_backend(${first})`.execute(killer.db);
  // The error event reaches the pool's listener, which drops the client: wait for that, not for a time.
  for (const giveUp = Date.now() + 60000; handle.pool.totalCount > 0 && Date.now() < giveUp; ) {
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(handle.pool.totalCount).toBe(0);
  expect(await backendPid(handle)).not.toBe(first);
});
