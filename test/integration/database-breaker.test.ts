/**
 * Issue 23: while the database is unreachable, a container pays for finding
 * out once (its first request, within its budget), then answers 503 with
 * Retry-After at once, without a new connect attempt, until a probe finds the
 * database back. From source (the handlers in this process, one container)
 * and as deployed (the bundled get-cat in a fresh `node`, a cold container
 * whose early connection meets the unreachable database).
 *
 * "At once" is checked as behaviour, not with a stopwatch (a loaded 2-core
 * machine moves any timing window): the database behind the relay saw no new
 * connection, so the 503 came from the open breaker. The only time bounds are
 * ones that only a hang exceeds: the connect timeout for each fast 503 (what
 * a connect attempt would have waited), the request's budget plus slack for
 * the first one, 5 s for the recovery (the breaker's longest back-off is 2 s).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handler as getCat } from '../../functions/get-cat.js';
import { GuardedClient } from '../../lib/db/client.js';
import { closeDatabase } from '../../lib/db/index.js';
import { expectProblem } from '../support/assertions.js';
import { buildFunction, writeFunction } from '../support/bundle.js';
import { type Container, type ContainerReply, startContainer, writeContainerRunner } from '../support/container.js';
import { call, httpEvent } from '../support/lambda.js';
import { type OutageRelay, startOutageRelay } from '../support/outage-relay.js';

const realDatabase = process.env.DATABASE_URL ?? '';
const target = new URL(realDatabase);
const connectTimeoutMs = 1000;
const statementTimeoutMs = 2000;
/** What one request may spend on the database (lib/db/index.ts): connect timeout plus statement timeout. */
const budgetMs = connectTimeoutMs + statementTimeoutMs;
/** Slack for a loaded machine on top of a bound the code guarantees. */
const slackMs = 2000;
const missing = httpEvent('get-cat', { id: 2147483000 });

let relay: OutageRelay;
const saved = { ...process.env };

beforeEach(async () => {
  relay = await startOutageRelay({ host: target.hostname, port: Number(target.port || 5432) });
});

afterEach(async () => {
  await closeDatabase();
  await relay.close();
});

afterAll(() => {
  for (const name of ['DATABASE_URL', 'DB_CONNECT_TIMEOUT_MS', 'DB_STATEMENT_TIMEOUT_MS']) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

/** Asks until an answer is not a 503 or `withinMs` is over; the answers it got. */
async function untilRecovered(ask: () => Promise<number>, withinMs: number): Promise<number[]> {
  const statuses: number[] = [];
  const until = performance.now() + withinMs;
  while (performance.now() < until) {
    const status = await ask();
    statuses.push(status);
    if (status !== 503) break;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return statuses;
}

/**
 * Five requests right after the failure that opened the breaker: each a 503
 * with Retry-After. One that made no connect attempt was answered by the open
 * breaker and must come back faster than a connect could time out; the
 * breaker lets one probe through after its back-off (0.25-0.5 s), so a stall
 * on a busy machine may turn a later one into a probe, never the first.
 */
async function answersWhileOpen(ask: () => Promise<{ status: number; retryAfter?: string; ms: number }>) {
  const answers: { status: number; retryAfter?: string; ms: number; connected: boolean }[] = [];
  for (let i = 0; i < 5; i += 1) {
    const before = relay.accepted();
    const answer = await ask();
    answers.push({ ...answer, connected: relay.accepted() > before });
  }
  for (const answer of answers) {
    expect(answer).toMatchObject({ status: 503, retryAfter: expect.stringMatching(/^\d+$/) });
    if (!answer.connected) expect(answer.ms).toBeLessThan(connectTimeoutMs);
  }
  expect(answers[0]?.connected).toBe(false);
  // A probe per back-off at most: most answers came from the open breaker.
  expect(answers.filter((answer) => !answer.connected).length).toBeGreaterThanOrEqual(3);
}

describe('telling a slow host from a black hole', () => {
  it('tells the breaker when a connect in progress hears from the server, and never when the host is silent', async () => {
    let heard = 0;
    const live = new GuardedClient({ connectionString: realDatabase, onServerBytes: () => (heard += 1) });
    await live.connect();
    await live.end();
    expect(heard).toBe(1);

    relay.blackHole();
    let silent = 0;
    const held = new GuardedClient({
      connectionString: relay.url(realDatabase),
      connectionTimeoutMillis: 500,
      onServerBytes: () => (silent += 1),
    });
    await expect(held.connect()).rejects.toThrow();
    expect(silent).toBe(0);
  });
});

describe('from source', () => {
  beforeEach(async () => {
    await closeDatabase();
    Object.assign(process.env, {
      DATABASE_URL: relay.url(realDatabase),
      DB_CONNECT_TIMEOUT_MS: String(connectTimeoutMs),
      DB_STATEMENT_TIMEOUT_MS: String(statementTimeoutMs),
    });
  });

  it('answers 503 at once without connecting after one failed connect, and recovers once the database is back', async () => {
    relay.blackHole();
    const started = performance.now();
    const first = await call(getCat, missing);
    expectProblem(first, 503);
    expect(performance.now() - started).toBeLessThan(budgetMs + slackMs);

    await answersWhileOpen(async () => {
      const asked = performance.now();
      const reply = await call(getCat, missing);
      expect(reply.body.type).toBe('/problems/database-unavailable');
      return { status: reply.status, retryAfter: reply.headers['retry-after'], ms: performance.now() - asked };
    });

    relay.restore();
    const statuses = await untilRecovered(async () => (await call(getCat, missing)).status, 5000);
    expect(statuses.at(-1)).toBe(404);
    expect(statuses.slice(0, -1).every((status) => status === 503)).toBe(true);
  });

  it('leaves a connection lost in use to the next connect: that request reconnects, and only a failed connect opens', async () => {
    expect((await call(getCat, missing)).status).toBe(404);
    // The server ends the pooled connection (as pg_terminate_backend would) and stays reachable.
    const before = relay.accepted();
    relay.blackHole();
    relay.restore();
    const statuses = [(await call(getCat, missing)).status, (await call(getCat, missing)).status];
    // The lost connection may cost the first request a 503; the next connects at once.
    expect(statuses.at(-1)).toBe(404);
    expect(relay.accepted()).toBeGreaterThan(before);
  });
});

describe('in the bundle, as a cold container', () => {
  let folder: string;
  let bundle: string;
  let runner: string;

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'cats-breaker-'));
    bundle = await writeFunction(await buildFunction('get-cat'), 'get-cat', join(folder, 'get-cat'));
    runner = await writeContainerRunner(folder);
  });

  afterAll(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  /** A cold get-cat container whose `ask()` invokes it once and reads the reply. */
  function container(): { ask: () => Promise<ContainerReply>; child: Container['child'] } {
    const fn = startContainer(runner, bundle, 'get-cat', missing, {
      DATABASE_URL: relay.url(realDatabase),
      DB_CONNECT_TIMEOUT_MS: String(connectTimeoutMs),
      DB_STATEMENT_TIMEOUT_MS: String(statementTimeoutMs),
    });
    let loaded: Promise<unknown> | undefined = fn.next();
    return {
      child: fn.child,
      ask: async () => {
        await loaded;
        loaded = undefined;
        fn.invoke();
        return fn.next();
      },
    };
  }

  it('answers its first request within the budget, the next ones 503 without connecting, and recovers', async () => {
    relay.blackHole();
    const fn = container();
    try {
      const first = await fn.ask();
      expect(first.status).toBe(503);
      expect(first.ms).toBeLessThan(budgetMs + slackMs);
      // The early connection, started while the function loaded, was the only attempt.
      expect(relay.accepted()).toBe(1);

      await answersWhileOpen(() => fn.ask());

      relay.restore();
      const statuses = await untilRecovered(async () => (await fn.ask()).status, 5000);
      expect(statuses.at(-1)).toBe(404);
    } finally {
      fn.child.kill();
    }
  });
});
