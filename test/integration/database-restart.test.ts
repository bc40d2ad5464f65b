/**
 * Issue 10: a database restart must never crash the process. A `pg` client
 * emits 'error' when its session ends outside a query, and with no listener
 * that is an uncaught exception. Each case here puts the connection in one
 * state of its life (connecting, idle in the pool, running a statement, being
 * validated, in a transaction, migrating, opened early, cancelling a query)
 * and has a protocol-aware relay in front of the real test database send what
 * a stopping server sends (FATAL 57P01, then close) or just close, at that
 * exact step. The request must get a prompt 503 problem with Retry-After (or
 * succeed on a new connection), and the next one must succeed.
 *
 * "Prompt" is shown without a stopwatch: the pool's connect and statement
 * timeouts are set to a minute, so a 503 that came well before that came
 * from the fault itself, never from a timer that rescued a hang. Where a test
 * must wait for the client to notice a lost connection it waits for that
 * event, not for a fixed time.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { handler as createCat } from '../../functions/create-cat.js';
import { handler as getCat } from '../../functions/get-cat.js';
import { readDatabaseSettings } from '../../lib/config.js';
import type { GuardedClient } from '../../lib/db/client.js';
import { closeDatabase, connectEarly, createDatabase, db, getDatabase, validateTimeoutMs } from '../../lib/db/index.js';
import { migrateToLatest } from '../../lib/db/migrations.js';
import { toProblem } from '../../lib/http/errors.js';
import { type FaultRelay, startFaultRelay } from '../support/fault-relay.js';
import { call, httpEvent, type Reply } from '../support/lambda.js';
import { useScratchDatabase } from '../support/scratch-database.js';

// Its own database: it creates cats, which must not show up in another file's table comparison.
const scratchUrl = useScratchDatabase('cats_restart');
let databaseUrl = '';
/** The connect and statement timeouts here: any answer well before it came from the fault, not from a timer. */
const timerMs = 60000;
let relay: FaultRelay;
const uncaught: unknown[] = [];
const onUncaught = (error: unknown) => uncaught.push(error);

beforeAll(async () => {
  databaseUrl = scratchUrl();
  const target = new URL(databaseUrl);
  relay = await startFaultRelay({ host: target.hostname, port: Number(target.port || 5432) });
  // getDatabase() reads these on first use; closeDatabase() after each case.
  process.env.DATABASE_URL = relay.url(databaseUrl);
  process.env.DB_CONNECT_TIMEOUT_MS = String(timerMs);
  process.env.DB_STATEMENT_TIMEOUT_MS = String(timerMs);
  // The scratch database's migration opened the pool on the direct URL.
  await closeDatabase();
  process.on('uncaughtException', onUncaught);
});

afterEach(async () => {
  await closeDatabase();
  delete process.env.DB_VALIDATE_AFTER_IDLE_MS;
  // An unlistened 'error' event surfaces as an uncaught exception a tick
  // after the socket event: give it the time to show.
  await new Promise((ok) => setTimeout(ok, 50));
  expect(uncaught).toEqual([]);
});

afterAll(async () => {
  process.off('uncaughtException', onUncaught);
  delete process.env.DB_CONNECT_TIMEOUT_MS;
  delete process.env.DB_STATEMENT_TIMEOUT_MS;
  await relay.close();
});

/** Waits for an event the test cannot await directly; the bound only catches a hang. */
async function until(condition: () => boolean, what: string): Promise<void> {
  const giveUp = performance.now() + 20000;
  while (!condition()) {
    if (performance.now() > giveUp) throw new Error(`still waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 5));
  }
}

const timed = async (request: () => Promise<Reply>): Promise<Reply & { ms: number }> => {
  const started = performance.now();
  const reply = await request();
  return { ...reply, ms: performance.now() - started };
};
/** A cat that does not exist: 404 when the database answers, 503 when it does not. */
const read = () => timed(() => call(getCat, httpEvent('get-cat', { id: 2147483000 })));
const create = (key?: string) =>
  timed(() =>
    call(
      createCat,
      httpEvent('create-cat', {
        body: { name: 'Restart', price: 1, breed: 'restart' },
        headers: key ? { 'idempotency-key': key } : {},
      }),
    ),
  );

function expectPrompt503(reply: Reply & { ms: number }): void {
  expect(reply.status).toBe(503);
  expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(reply.body.type).toBe('/problems/database-unavailable');
  expect(reply.headers['retry-after']).toBe('2');
  // Far below the minute-long timeouts: the fault ended the request, no timer did.
  expect(reply.ms).toBeLessThan(timerMs / 2);
}

it('answers 503 with Retry-After when the server ends the session while the client is still authenticating, then recovers', async () => {
  const fired = relay.arm({ trigger: { step: 'auth' }, action: 'fatal' });
  expectPrompt503(await read());
  await fired;
  expect((await read()).status).toBe(404);
});

it('answers 503 when the socket closes during start-up without a word, then recovers', async () => {
  const fired = relay.arm({ trigger: { step: 'auth' }, action: 'close' });
  expectPrompt503(await read());
  await fired;
  expect((await read()).status).toBe(404);
});

it('survives FATAL 57P01 on a connection idle in the pool, and the next request gets a new connection', async () => {
  expect((await read()).status).toBe(404);
  const before = relay.accepted();
  expect(relay.killAll('fatal')).toBe(1);
  await until(() => getDatabase().pool.totalCount === 0, 'the pool to drop the connection');
  expect((await read()).status).toBe(404);
  expect(relay.accepted()).toBe(before + 1);
});

it('survives an idle pooled connection whose socket closes without a word', async () => {
  expect((await read()).status).toBe(404);
  relay.killAll('close');
  await until(() => getDatabase().pool.totalCount === 0, 'the pool to drop the connection');
  expect((await read()).status).toBe(404);
});

it('answers 503 when FATAL 57P01 arrives in place of a statement’s answer, then recovers', async () => {
  expect((await read()).status).toBe(404);
  const fired = relay.arm({ trigger: { step: 'query', sql: /from "cats"/ }, action: 'fatal' });
  expectPrompt503(await read());
  await fired;
  expect((await read()).status).toBe(404);
});

it('answers 503 when the socket closes mid-statement, then recovers', async () => {
  expect((await read()).status).toBe(404);
  const fired = relay.arm({ trigger: { step: 'query', sql: /from "cats"/ }, action: 'close' });
  expectPrompt503(await read());
  await fired;
  expect((await read()).status).toBe(404);
});

it('fails a statement at once on a connection already known to be gone, instead of sending it', async () => {
  const { db: database, pool } = createDatabase(readDatabaseSettings({ DATABASE_URL: relay.url(databaseUrl) }));
  const clients: GuardedClient[] = [];
  pool.on('connect', (client) => clients.push(client as unknown as GuardedClient));
  try {
    await database.connection().execute(async (connection) => {
      await sql`SELECT 1`.execute(connection);
      relay.killAll('fatal');
      await until(() => clients[0]?.lost === true, 'the client to read the FATAL');
      const error = await sql`SELECT 1`.execute(connection).catch((e: unknown) => e);
      // The client's own refusal, made before sending: not pg's answer after the socket closed.
      expect(String(error)).toMatch(
        /^Error: Connection terminated earlier: terminating connection due to administrator command/,
      );
    });
    // The lost client was destroyed on release, not handed out again.
    expect(pool.totalCount).toBe(0);
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(database)).rows).toEqual([{ one: 1 }]);
  } finally {
    await database.destroy();
  }
});

describe('validating a connection that sat idle', () => {
  beforeEach(() => {
    process.env.DB_VALIDATE_AFTER_IDLE_MS = '0';
  });

  it('replaces it when FATAL 57P01 arrives in place of the SELECT 1 answer, and the request succeeds', async () => {
    expect((await read()).status).toBe(404);
    const fired = relay.arm({ trigger: { step: 'query', sql: /^SELECT 1$/ }, action: 'fatal' });
    const reply = await read();
    await fired;
    expect(reply.status).toBe(404);
  });

  it('replaces it when FATAL 57P01 follows the SELECT 1 answer in the same packet, and the request succeeds', async () => {
    expect((await read()).status).toBe(404);
    const fired = relay.arm({ trigger: { step: 'answered', sql: /^SELECT 1$/ }, action: 'fatal' });
    const reply = await read();
    await fired;
    expect(reply.status).toBe(404);
  });

  it(`gives up on a SELECT 1 that gets no answer after ${validateTimeoutMs} ms and uses a new connection`, async () => {
    expect((await read()).status).toBe(404);
    const fired = relay.arm({ trigger: { step: 'query', sql: /^SELECT 1$/ }, action: 'swallow' });
    const before = relay.accepted();
    const reply = await read();
    await fired;
    expect(reply.status).toBe(404);
    expect(relay.accepted()).toBe(before + 1);
    // The validation's timer, not the minute-long statement timeout, gave up on it.
    expect(reply.ms).toBeGreaterThanOrEqual(validateTimeoutMs - 50);
    expect(reply.ms).toBeLessThan(timerMs / 2);
  });
});

describe('in the idempotency transaction', () => {
  it('answers 503 when the session ends at the advisory lock, and a retry with the same key creates the cat', async () => {
    const key = `restart-${Date.now()}-lock`;
    const fired = relay.arm({ trigger: { step: 'query', sql: /pg_try_advisory_xact_lock/ }, action: 'fatal' });
    expectPrompt503(await create(key));
    await fired;
    const retry = await create(key);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 503 when the session ends at the insert, and stores neither the cat nor the key', async () => {
    const key = `restart-${Date.now()}-insert`;
    const fired = relay.arm({ trigger: { step: 'query', sql: /insert into "cats"/ }, action: 'fatal' });
    expectPrompt503(await create(key));
    await fired;
    const retry = await create(key);
    expect(retry.status).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBeUndefined();
  });

  it('answers 503 when the socket closes at COMMIT (the write may or may not have committed), then recovers', async () => {
    const fired = relay.arm({ trigger: { step: 'query', sql: /^commit$/ }, action: 'close' });
    expectPrompt503(await create(`restart-${Date.now()}-commit`));
    await fired;
    expect((await create(`restart-${Date.now()}-after-commit`)).status).toBe(201);
  });
});

it('fails a migration run with a MigrationError when the session ends mid-migration, and the next run succeeds', async () => {
  const fired = relay.arm({ trigger: { step: 'query', sql: /kysely_migration/ }, action: 'fatal' });
  const error = await migrateToLatest(db() as never).catch((e: unknown) => e);
  await fired;
  expect(error).toBeInstanceOf(Error);
  expect(String((error as Error).message)).toMatch(/administrator command|terminated/);
  expect(await migrateToLatest(db() as never)).toEqual({ applied: [] });
});

it('survives FATAL 57P01 right after the early connection becomes ready, and the first request succeeds', async () => {
  const fired = relay.arm({ trigger: { step: 'ready' }, action: 'fatal' });
  connectEarly();
  await fired;
  const reply = await read();
  expect([404, 503]).toContain(reply.status);
  if (reply.status === 503) expectPrompt503(reply);
  expect((await read()).status).toBe(404);
});

describe("Kysely's query-cancel connection", () => {
  /** Holds the lock the aborted query waits for, on a connection of its own (not through the relay). */
  let blocker: pg.Client;
  beforeAll(async () => {
    blocker = new pg.Client({ connectionString: databaseUrl });
    await blocker.connect();
  });
  afterAll(() => blocker.end());

  /**
   * A query aborted after 100 ms (Kysely then cancels it from a second
   * connection) that runs until the fault has fired: it waits for a lock the
   * test holds, so the abort always finds it running, however slow the
   * machine (a sleep of fixed length could end first and cancel nothing).
   */
  const abortedQuery = async (fired: Promise<void>) => {
    await blocker.query('SELECT pg_advisory_lock(4242)');
    try {
      const error = await sql`SELECT pg_advisory_xact_lock(4242)`
        .execute(db(), { signal: AbortSignal.timeout(100), inflightQueryAbortStrategy: 'cancel query' })
        .catch((e: unknown) => e);
      expect((error as Error).name).toBe('TimeoutError');
      await fired;
    } finally {
      await blocker.query('SELECT pg_advisory_unlock(4242)');
    }
  };

  it('survives FATAL 57P01 right after the cancel connection becomes ready', async () => {
    expect((await read()).status).toBe(404);
    const cancelConnection = relay.accepted() + 1;
    await abortedQuery(relay.arm({ trigger: { step: 'ready' }, action: 'fatal', connection: cancelConnection }));
    await new Promise((ok) => setTimeout(ok, 100));
  });

  it('survives FATAL 57P01 in place of the pg_cancel_backend answer', async () => {
    await abortedQuery(relay.arm({ trigger: { step: 'query', sql: /pg_cancel_backend/ }, action: 'fatal' }));
    await new Promise((ok) => setTimeout(ok, 100));
  });

  it('survives the cancel connection failing while it authenticates', async () => {
    expect((await read()).status).toBe(404);
    const cancelConnection = relay.accepted() + 1;
    await abortedQuery(relay.arm({ trigger: { step: 'auth' }, action: 'fatal', connection: cancelConnection }));
    await new Promise((ok) => setTimeout(ok, 100));
  });
});

it("cuts a request's database work at one connect timeout plus one statement timeout, however many statements it runs", async () => {
  const { db: database } = createDatabase(
    readDatabaseSettings({ DATABASE_URL: databaseUrl, DB_CONNECT_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '1000' }),
  );
  try {
    const started = performance.now();
    let finished = 0;
    // Each statement stays under the statement timeout; together they would take 9 s.
    const error = await database
      .transaction()
      .execute(async (trx) => {
        for (let i = 0; i < 10; i += 1) {
          await sql`SELECT pg_sleep(0.9)`.execute(trx);
          finished += 1;
        }
      })
      .catch((e: unknown) => e);
    // Which rule stopped it, not how long it took: a 0.9 s sleep never takes
    // less, so a 2 s budget leaves room for two at most, however slow the machine.
    expect(finished).toBeLessThanOrEqual(2);
    // And the budget was not cut short (a timer never fires early).
    expect(performance.now() - started).toBeGreaterThan(1900);
    const problem = toProblem(error);
    expect(problem.status).toBe(503);
    expect(problem.headers['retry-after']).toBeDefined();
    // The next request has a budget of its own.
    expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(database)).rows).toEqual([{ one: 1 }]);
  } finally {
    await database.destroy();
  }
});
