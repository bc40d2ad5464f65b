/**
 * `npm run test:load`: a mixed workload (create, get, list pages, patch,
 * delete, and a rejected create) at concurrency 50 for 12,000 requests with
 * autocannon, against `npm start`'s serverless-offline (one worker thread per
 * concurrent request, like Lambda containers) on its own embedded PostgreSQL,
 * loopback only. Prints throughput and latency per route and the connections
 * PostgreSQL saw, then checks that the database holds exactly what was
 * acknowledged. Exits 1 when an invariant breaks.
 *
 * LOAD_REQUESTS and LOAD_CONNECTIONS change the size (defaults 12000 and 50).
 */
// @ts-expect-error autocannon ships no types; the few options used are typed below.
import autocannon from 'autocannon';
import { authorizationFor } from '../../test/support/api-process.js';
import {
  type CatState,
  catsInDatabase,
  Invariants,
  percentile,
  type Stack,
  sleep,
  startStack,
  table,
} from './harness.js';

const requests = Number(process.env.LOAD_REQUESTS ?? 12000);
const connections = Number(process.env.LOAD_CONNECTIONS ?? 50);
const poolMax = 1;
const idleTimeoutMs = 5000;
const idleContainerSeconds = 10;
const prefix = 'load-';

interface Context {
  id?: number;
  route?: string;
  sentAt?: number;
  expected?: number;
  cursor?: string;
}
interface Req {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
}
type Setup = (req: Req, context: Context) => Req | undefined;
type OnResponse = (status: number, body: string, context: Context) => void;

const latencies = new Map<string, number[]>();
const statuses = new Map<string, Map<number, number>>();
const unexpected: string[] = [];
/** What the API acknowledged, per cat: its last values, or deleted. */
const acknowledged = new Map<number, { state: CatState; deleted: boolean }>();
const staleReads: string[] = [];
let sequence = 0;
let cycles = 0;

const json: Record<string, string> = { 'content-type': 'application/json' };
const breeds = ['bengal', 'tabby', 'siamese', 'sphynx', 'persian'];

/** A request of route `route` that expects `expected`; falls back to a list when the cycle has no cat. */
function step(route: string, expected: number, build: (context: Context) => Req | undefined): { setup: Setup } {
  return {
    setup: (req, context) => {
      const built = build(context) ?? { method: 'GET', path: '/cats?limit=1' };
      const isFallback = built.path === '/cats?limit=1' && route !== 'GET /cats?limit=1';
      context.route = isFallback ? 'GET /cats?limit=1' : route;
      context.expected = isFallback ? 200 : expected;
      context.sentAt = performance.now();
      // Every request carries the token (json holds it once the API runs): npm start checks it on writes.
      return { ...req, headers: { authorization: json.authorization ?? '' }, body: undefined, ...built };
    },
  };
}

const onResponse: OnResponse = (status, body, context) => {
  const route = context.route ?? '?';
  const ms = performance.now() - (context.sentAt ?? performance.now());
  if (!latencies.has(route)) latencies.set(route, []);
  latencies.get(route)?.push(ms);
  const counts = statuses.get(route) ?? new Map<number, number>();
  counts.set(status, (counts.get(status) ?? 0) + 1);
  statuses.set(route, counts);
  if (status !== context.expected) {
    if (unexpected.length < 20) unexpected.push(`${route} -> ${status} ${body.slice(0, 200)}`);
    if (route === 'POST /cats') context.id = undefined;
    return;
  }
  // Only what the API acknowledged is recorded, with the values it answered.
  if (route === 'POST /cats') {
    const cat = JSON.parse(body) as CatState & { id: number };
    context.id = cat.id;
    acknowledged.set(cat.id, { state: { name: cat.name, price: cat.price, breed: cat.breed }, deleted: false });
  } else if (route === 'PATCH /cats/{id}' && context.id !== undefined) {
    const cat = JSON.parse(body) as CatState;
    acknowledged.set(context.id, { state: { name: cat.name, price: cat.price, breed: cat.breed }, deleted: false });
  } else if (route === 'DELETE /cats/{id}' && context.id !== undefined) {
    const entry = acknowledged.get(context.id);
    if (entry) entry.deleted = true;
  } else if (route === 'GET /cats (page)') {
    context.cursor = (JSON.parse(body) as { nextCursor: string | null }).nextCursor ?? undefined;
  } else if (route === 'GET /cats/{id}' && context.id !== undefined) {
    // Read-your-writes: a GET after an acknowledged write sees that write.
    const cat = JSON.parse(body) as CatState;
    const known = acknowledged.get(context.id)?.state;
    if (known && (known.name !== cat.name || known.price !== cat.price || known.breed !== cat.breed)) {
      staleReads.push(`cat ${context.id}: got ${JSON.stringify(cat)}, acknowledged ${JSON.stringify(known)}`);
    }
  }
};

const cycle = [
  step('POST /cats', 201, () => {
    sequence += 1;
    cycles += 1;
    const cat = { name: `${prefix}${sequence}`, price: sequence % 5000, breed: breeds[sequence % breeds.length] };
    return { method: 'POST', path: '/cats', headers: json, body: JSON.stringify(cat) };
  }),
  step('GET /cats/{id}', 200, (c) => (c.id ? { method: 'GET', path: `/cats/${c.id}` } : undefined)),
  step('PATCH /cats/{id}', 200, (c) =>
    c.id
      ? { method: 'PATCH', path: `/cats/${c.id}`, headers: json, body: JSON.stringify({ price: (c.id * 7) % 9973 }) }
      : undefined,
  ),
  step('GET /cats (page)', 200, (c) => ({
    method: 'GET',
    path: `/cats?limit=20&breed=${breeds[(c.id ?? 0) % breeds.length]}`,
  })),
  step('GET /cats (next page)', 200, (c) =>
    c.cursor
      ? {
          method: 'GET',
          path: `/cats?limit=20&breed=${breeds[(c.id ?? 0) % breeds.length]}&cursor=${encodeURIComponent(c.cursor)}`,
        }
      : undefined,
  ),
  step('PATCH /cats/{id}', 200, (c) =>
    c.id
      ? {
          method: 'PATCH',
          path: `/cats/${c.id}`,
          headers: json,
          body: JSON.stringify({ name: `${prefix}${c.id}-renamed` }),
        }
      : undefined,
  ),
  // Rejected input must leave no trace: its name is checked for afterwards.
  step('POST /cats (invalid)', 400, () => ({
    method: 'POST',
    path: '/cats',
    headers: json,
    body: JSON.stringify({ name: `${prefix}invalid`, price: 'twelve', breed: 'x' }),
  })),
  step('GET /cats/{id}', 200, (c) => (c.id ? { method: 'GET', path: `/cats/${c.id}` } : undefined)),
  // Every other cat is deleted, so the table ends up with both kinds.
  step('DELETE /cats/{id}', 204, (c) =>
    c.id && c.id % 2 === 0 ? { method: 'DELETE', path: `/cats/${c.id}` } : { method: 'GET', path: '/cats?limit=1' },
  ),
];

async function watchConnections(stack: Stack, until: () => boolean) {
  let maxConnections = 0;
  let maxContainers = 0;
  let worstRatio = 0;
  while (!until()) {
    const containers = stack.containers();
    const count = await stack.apiConnections();
    maxConnections = Math.max(maxConnections, count);
    maxContainers = Math.max(maxContainers, containers, stack.containers());
    worstRatio = Math.max(worstRatio, count / Math.max(1, Math.max(containers, stack.containers()) * poolMax));
    await sleep(100);
  }
  return { maxConnections, maxContainers, worstRatio };
}

async function main(): Promise<number> {
  const invariants = new Invariants();
  console.log(`Starting an embedded PostgreSQL and npm start (serverless-offline, worker threads) ...`);
  const stack = await startStack({
    // serverless-offline keeps a separate set of containers per function, so
    // 50 concurrent requests spread over 5 functions can hold up to ~250
    // containers, each with its connection: more than PostgreSQL's default
    // 100. A deployed stack caps this with reserved concurrency (docs/deploying.md,
    // Connections); here the database is sized for the emulator instead, and
    // what happens past max_connections (a 503) is test:faults' business.
    postgresFlags: ['-c', 'max_connections=300'],
    env: {
      DB_POOL_MAX: String(poolMax),
      DB_IDLE_TIMEOUT_MS: String(idleTimeoutMs),
      OFFLINE_IDLE_LAMBDA_SECONDS: String(idleContainerSeconds),
    },
  });
  Object.assign(json, authorizationFor(stack.baseUrl));
  try {
    console.log(`Load: ${requests} requests at concurrency ${connections} on ${stack.baseUrl}`);
    let done = false;
    const watching = watchConnections(stack, () => done);
    const started = performance.now();
    const result = await autocannon({
      url: stack.baseUrl,
      connections,
      amount: requests,
      timeout: 20,
      // Bounded in time as well as in count.
      duration: 600,
      requests: cycle.map(({ setup }) => ({ setupRequest: setup, onResponse })),
    });
    const seconds = (performance.now() - started) / 1000;
    done = true;
    const peak = await watching;

    const rows = [...latencies.entries()].map(([route, values]) => {
      const counts = statuses.get(route) ?? new Map();
      return {
        route,
        requests: values.length,
        'req/s': Math.round(values.length / seconds),
        'p50 ms': percentile(values, 50).toFixed(1),
        'p99 ms': percentile(values, 99).toFixed(1),
        statuses: [...counts.entries()].map(([s, n]) => `${s}:${n}`).join(' '),
      };
    });
    table(rows);
    console.log(
      `\nTotal: ${result.requests.total} requests in ${seconds.toFixed(1)} s = ${Math.round(result.requests.total / seconds)} req/s; ` +
        `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms; 2xx ${result['2xx']}, 4xx ${result['4xx']}, 5xx ${result['5xx']}, ` +
        `errors ${result.errors}, timeouts ${result.timeouts}`,
    );
    for (const line of unexpected) console.log(`  unexpected: ${line}`);

    const total = [...latencies.values()].reduce((n, v) => n + v.length, 0);
    invariants.check(`at least 10,000 requests answered`, total >= Math.min(10000, requests), `${total}`);
    invariants.check('zero 5xx', result['5xx'] === 0, `${result['5xx']}`);
    invariants.check(
      'zero socket errors and timeouts',
      result.errors === 0 && result.timeouts === 0,
      `${result.errors} errors, ${result.timeouts} timeouts`,
    );
    invariants.check('every answer had the expected status', unexpected.length === 0, `${unexpected.length} did not`);
    invariants.check('every GET saw the last acknowledged write', staleReads.length === 0, staleReads[0] ?? '');

    // The lost-write check: the table against what was acknowledged.
    const admin = await stack.admin();
    try {
      const rowsNow = await catsInDatabase(admin, prefix);
      const alive = [...acknowledged.entries()].filter(([, a]) => !a.deleted);
      const lost = alive.filter(([id]) => !rowsNow.has(id));
      const wrong = alive.filter(([id, a]) => {
        const row = rowsNow.get(id);
        return row && (row.name !== a.state.name || row.price !== a.state.price || row.breed !== a.state.breed);
      });
      const unexplained = [...rowsNow.keys()].filter((id) => !acknowledged.get(id) || acknowledged.get(id)?.deleted);
      console.log(
        `\nAcknowledged: ${acknowledged.size} creates (${cycles} cycles), ${acknowledged.size - alive.length} deletes; ` +
          `rows now: ${rowsNow.size}`,
      );
      invariants.check('no acknowledged cat lost', lost.length === 0, `${lost.length} lost`);
      invariants.check('every cat holds its last acknowledged values', wrong.length === 0, `${wrong.length} differ`);
      invariants.check(
        'no row that was not acknowledged, or was acknowledged as deleted',
        unexplained.length === 0,
        `${unexplained.length} extra`,
      );
      const invalid = await admin.query("SELECT count(*)::int AS n FROM cats WHERE name = 'load-invalid'");
      invariants.check('rejected creates left no row', invalid.rows[0]?.n === 0, `${invalid.rows[0]?.n}`);
    } finally {
      await admin.end();
    }

    console.log(
      `\nConnections: at most ${peak.maxConnections} API connections seen by PostgreSQL, ` +
        `at most ${peak.maxContainers} containers (worker threads) alive, pool size ${poolMax}`,
    );
    invariants.check(
      'the server never saw more connections than containers x pool size',
      peak.worstRatio <= 1,
      `max ${peak.maxConnections} connections, ${peak.maxContainers} containers, worst sample ratio ${peak.worstRatio.toFixed(2)}`,
    );

    // Idle containers give their connections back (DB_IDLE_TIMEOUT_MS), and
    // idle containers go away (serverless-offline's terminateIdleLambdaTime).
    const idleStart = performance.now();
    let connectionsNow = await stack.apiConnections();
    while (connectionsNow > 0 && performance.now() - idleStart < idleTimeoutMs + 10000) {
      await sleep(250);
      connectionsNow = await stack.apiConnections();
    }
    const releasedAfter = (performance.now() - idleStart) / 1000;
    invariants.check(
      `idle containers closed their connections (DB_IDLE_TIMEOUT_MS=${idleTimeoutMs})`,
      connectionsNow === 0,
      `${connectionsNow} left after ${releasedAfter.toFixed(1)} s`,
    );
    let containersNow = stack.containers();
    while (containersNow > 0 && performance.now() - idleStart < idleContainerSeconds * 3000 + 5000) {
      await sleep(500);
      containersNow = stack.containers();
    }
    invariants.check(
      `idle containers were shut down (terminateIdleLambdaTime=${idleContainerSeconds} s)`,
      containersNow === 0,
      `${containersNow} left after ${((performance.now() - idleStart) / 1000).toFixed(1)} s`,
    );
  } finally {
    await stack.close();
  }
  console.log(
    invariants.failed === 0 ? '\nload: all invariants hold' : `\nload: ${invariants.failed} invariant(s) broken`,
  );
  return invariants.failed === 0 ? 0 : 1;
}

// A hard bound on the whole run, so CI never waits on a hang.
const guard = setTimeout(() => {
  console.error('load: did not finish within 10 minutes');
  process.exit(1);
}, 600000);
guard.unref();
process.exit(await main());
