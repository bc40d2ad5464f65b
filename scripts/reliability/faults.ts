/**
 * `npm run test:faults`: the API under faults, over HTTP against `npm start`'s
 * serverless-offline on an embedded PostgreSQL this script controls (stop,
 * start, SIGSTOP, pg_terminate_backend, a low max_connections, a held lock).
 * Loopback only, bounded in time. Prints what it measured and exits 1 when an
 * invariant breaks.
 *
 * Covered elsewhere, in `npm test`: a connection killed under a frozen
 * container (test/integration/database-connections.test.ts), the statement
 * timeout (same file), an unreachable or silent database host
 * (test/integration/database-unavailable.test.ts), concurrent migrations in
 * one process (test/integration/migrate.test.ts), the embedded database
 * killed with SIGKILL under `npm start` (test/e2e/api.test.ts).
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrations } from '../../lib/db/migrations.js';
import { emulatedAws } from './aws.js';
import {
  call,
  type HttpResult,
  Invariants,
  percentile,
  type Stack,
  sleep,
  startStack,
  summary,
  table,
} from './harness.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const connectTimeoutMs = 3000;
const allMigrations = Object.keys(migrations).sort();
const invariants = new Invariants();
const figures: Record<string, string | number>[] = [];

interface Op {
  worker: number;
  kind: 'create' | 'patch' | 'delete' | 'get' | 'list';
  catId?: number;
  sent?: { name: string; price: number; breed?: string };
  result: HttpResult;
  startedAt: number;
}

/**
 * A 503 as the API promises it: problem+json with Retry-After, answered
 * within `withinMs` (by default the connect timeout plus a margin for a busy
 * 2-core machine; a container's first request also pays its cold start).
 */
function honestFailure(r: HttpResult, withinMs = connectTimeoutMs + 1500): boolean {
  return (
    r.status === 503 &&
    r.headers.get('retry-after') !== null &&
    (r.headers.get('content-type') ?? '').startsWith('application/problem+json') &&
    r.ms < withinMs
  );
}

/**
 * Writers that each own one cat at a time: create it, patch name and price
 * together (so a half-applied patch would show), read it, sometimes delete
 * it. After an error they wait 200 ms and go on, as a client would.
 */
async function writers(
  stack: Stack,
  count: number,
  durationMs: number,
  tag: string,
  until?: AbortSignal,
  onResult?: (result: HttpResult) => void,
): Promise<Op[]> {
  const ops: Op[] = [];
  const end = performance.now() + durationMs;
  const record = (op: Omit<Op, 'startedAt'>, startedAt: number) => {
    ops.push({ ...op, startedAt });
    onResult?.(op.result);
    return op.result;
  };
  await Promise.all(
    Array.from({ length: count }, async (_, worker) => {
      let n = 0;
      let catId: number | undefined;
      while (performance.now() < end && !until?.aborted) {
        n += 1;
        const startedAt = performance.now();
        let result: HttpResult;
        if (catId === undefined) {
          const sent = { name: `${tag}-${worker}-${n}`, price: n, breed: `${tag}-breed` };
          result = record(
            { worker, kind: 'create', sent, result: await call(stack.baseUrl, 'POST', '/cats', sent) },
            startedAt,
          );
          if (result.status === 201) catId = (JSON.parse(result.text) as { id: number }).id;
        } else if (n % 10 === 0) {
          result = record(
            { worker, kind: 'delete', catId, result: await call(stack.baseUrl, 'DELETE', `/cats/${catId}`) },
            startedAt,
          );
          if (result.status === 204) catId = undefined;
        } else if (n % 7 === 0) {
          result = record(
            { worker, kind: 'list', result: await call(stack.baseUrl, 'GET', `/cats?breed=${tag}-breed&limit=20`) },
            startedAt,
          );
        } else if (n % 3 === 0) {
          result = record(
            { worker, kind: 'get', catId, result: await call(stack.baseUrl, 'GET', `/cats/${catId}`) },
            startedAt,
          );
        } else {
          const sent = { name: `${tag}-${worker}-${n}-patched`, price: 100000 + n };
          result = record(
            { worker, kind: 'patch', catId, sent, result: await call(stack.baseUrl, 'PATCH', `/cats/${catId}`, sent) },
            startedAt,
          );
        }
        if (result.status >= 500 || result.status === 0) await sleep(200);
      }
    }),
  );
  return ops;
}

/**
 * Every row must be explained by the log: an acknowledged cat holds its last
 * acknowledged values, or the full values of one write after it that got an
 * error (which may have committed: an error is "maybe", never "half"); a cat
 * acknowledged as deleted is gone; a row no create acknowledged matches one
 * failed create exactly.
 */
async function checkWrites(stack: Stack, ops: Op[], tag: string, label: string): Promise<void> {
  const admin = await stack.admin();
  const rows = new Map(
    (
      await admin.query<{ id: number; name: string; price: number; breed: string }>(
        'SELECT id, name, price, breed FROM cats WHERE breed = $1',
        [`${tag}-breed`],
      )
    ).rows.map((r) => [r.id, r]),
  );
  await admin.end();

  const byCat = new Map<number, Op[]>();
  const failedCreates = new Map<string, Op>();
  let acknowledgedWrites = 0;
  for (const op of ops) {
    if (op.kind === 'create') {
      if (op.result.status === 201) {
        const id = (JSON.parse(op.result.text) as { id: number }).id;
        byCat.set(id, [{ ...op, catId: id }]);
      } else if (op.sent) failedCreates.set(op.sent.name, op);
    } else if (op.catId !== undefined && op.kind !== 'get' && op.kind !== 'list') byCat.get(op.catId)?.push(op);
    if (op.kind !== 'get' && op.kind !== 'list' && op.result.status >= 200 && op.result.status < 300)
      acknowledgedWrites += 1;
  }

  const problems: string[] = [];
  for (const [id, history] of byCat) {
    const row = rows.get(id);
    rows.delete(id);
    let lastAck = 0;
    history.forEach((op, i) => {
      if (op.result.status >= 200 && op.result.status < 300) lastAck = i;
    });
    const acked = history[lastAck];
    const later = history.slice(lastAck + 1); // all of them failed
    const story = () =>
      history.map((o) => `${o.kind} ${o.result.status} ${o.sent ? `${o.sent.name}/${o.sent.price}` : ''}`).join('; ');
    if (acked?.kind === 'delete') {
      if (row) problems.push(`cat ${id} was acknowledged as deleted but is still there: ${story()}`);
      continue;
    }
    const allowed = [acked, ...later.filter((op) => op.kind === 'patch')].map((op) => op?.sent);
    const laterDelete = later.some((op) => op.kind === 'delete');
    if (!row) {
      if (!laterDelete) problems.push(`cat ${id} is lost (last acknowledged: ${JSON.stringify(acked?.sent)})`);
      continue;
    }
    if (!allowed.some((s) => s && s.name === row.name && s.price === row.price)) {
      problems.push(
        `cat ${id} is ${row.name}/${row.price}: neither acknowledged nor one whole failed write: ${story()}`,
      );
    }
  }
  for (const row of rows.values()) {
    const create = failedCreates.get(row.name);
    if (!create?.sent || create.sent.price !== row.price) problems.push(`row ${row.id} (${row.name}) is unexplained`);
  }
  for (const line of problems.slice(0, 10)) console.log(`    ${line}`);
  invariants.check(
    `${label}: every acknowledged write is there, no failed write is half-applied`,
    problems.length === 0,
    `${acknowledgedWrites} acknowledged writes, ${problems.length} problems`,
  );
}

/** Answers no client may see longer than this, whatever the database does (docs/api.md, "Errors"). */
const worstCaseBoundMs = 10000;
/** Every answer of the restart rounds, for the worst case over all of them. */
const restartRounds: { label: string; passed: boolean }[] = [];
const restartAnswers: { ms: number; status: number; kind: string; round: string; handlerMs?: number }[] = [];

/** durationMs by requestId, from the API's request log lines (POWERTOOLS_LOG_LEVEL=INFO). */
function handlerDurations(stack: Stack): Map<string, number> {
  const durations = new Map<string, number>();
  for (const line of stack.api.output().split('\n')) {
    if (!line.includes('"durationMs"')) continue;
    try {
      const entry = JSON.parse(line.slice(line.indexOf('{'))) as { requestId?: string; durationMs?: number };
      if (entry.requestId && typeof entry.durationMs === 'number') durations.set(entry.requestId, entry.durationMs);
    } catch {
      // not a log line of ours
    }
  }
  return durations;
}

/**
 * The load of the restart rounds, before the first of them, with the database
 * up: serverless-offline starts one container (worker thread) per concurrent
 * request, and 30 of them starting at once on a 2-core machine is not what
 * the rounds measure (docs/api.md, "Errors", says how long that takes). The issue's
 * own scenario had 8 s of load before the stop, too.
 */
async function warmUp(stack: Stack): Promise<void> {
  console.log('\n== Warm-up: 30 concurrent requests to each function, database up, until every container has started');
  const results: HttpResult[] = [];
  // serverless-offline starts a container per concurrent request of a
  // function, and an outage shifts the mix (failed creates are retried, so
  // creates pile up): unless every function already has the 30 containers 30
  // clients can need, the first outage starts new ones. Each function gets 30
  // at once here, then the mixed load runs until no answer is slow.
  const tag = `warm-${Date.now().toString(36)}`;
  const ids: number[] = [];
  const burst = async (request: (client: number) => Promise<HttpResult>) => {
    const end = performance.now() + 3000;
    await Promise.all(
      Array.from({ length: 30 }, async (_, client) => {
        while (performance.now() < end) results.push(await request(client));
      }),
    );
  };
  await burst(async (client) => {
    const r = await call(stack.baseUrl, 'POST', '/cats', { name: `${tag}-${client}`, price: 1, breed: `${tag}-breed` });
    if (r.status === 201 && ids[client] === undefined) ids[client] = (JSON.parse(r.text) as { id: number }).id;
    return r;
  });
  await burst((client) => call(stack.baseUrl, 'GET', `/cats/${ids[client] ?? 1}`));
  await burst(() => call(stack.baseUrl, 'GET', `/cats?breed=${tag}-breed&limit=20`));
  await burst((client) => call(stack.baseUrl, 'PATCH', `/cats/${ids[client] ?? 1}`, { price: 2 }));
  await burst((client) => call(stack.baseUrl, 'DELETE', `/cats/${ids[client] ?? 2147483000}`));
  // Until a 4 s stretch of the mixed load has no answer slower than 1.5 s, at most 60 s.
  for (let stretch = 0; stretch < 15; stretch += 1) {
    const ops = await writers(stack, 30, 4000, `warm-${stretch}-${Date.now().toString(36)}`);
    results.push(...ops.map((o) => o.result));
    if (ops.every((o) => o.result.ms < 1500)) break;
  }
  console.log(`  containers (worker threads): ${stack.containers()}`);
  // Containers starting are the emulator's, not the API's: a start that keeps
  // a request past this script's 15 s timeout is printed, not failed on.
  const timedOut = results.filter((r) => r.status === 0 && /aborted due to timeout/.test(r.text));
  const broken = results.filter(
    (r) => (r.status === 0 && !timedOut.includes(r)) || (r.status >= 500 && !honestFailure(r, 15000)),
  );
  if (timedOut.length > 0)
    console.log(`  ${timedOut.length} requests got no answer within 15 s while containers started`);
  const slowest = Math.max(0, ...results.map((r) => r.ms));
  console.log(`  ${results.length} requests: ${summary(results)}; slowest answer ${slowest.toFixed(0)} ms`);
  invariants.check(
    'warm-up: no 500 and no socket error while the containers start',
    broken.length === 0,
    `${broken.length} were`,
  );
  figures.push({
    fault: 'none: 30 containers starting (warm-up)',
    requests: results.length,
    'answered 503': results.filter((r) => r.status >= 500).length,
    '500/hang': broken.length,
    'slowest 503 ms': Math.max(0, ...results.filter((r) => r.status >= 500).map((r) => r.ms)).toFixed(0),
    'slowest ms': slowest.toFixed(0),
    'recovery s': '-',
    'outage s': '-',
  });
}

/**
 * Issue 10: 30 clients loop over creates, patches, reads, deletes of their own
 * cats and list pages; a few seconds in, the database is stopped with
 * `pg_ctl stop -m fast` (every session gets FATAL 57P01) or `-m immediate`
 * for 4 s, then started again, with the API (one `npm start`) left running.
 */
async function databaseRestartUnderLoad(stack: Stack, mode: 'fast' | 'immediate', round: number): Promise<void> {
  // Round 0 is the warm-up's outage (see main): what it must not do (end the
  // process or a container, answer 500, lose a write) is checked; its timing
  // is printed, not judged.
  const judged = round > 0;
  const label = judged ? `restart ${mode} #${round}` : `warm-up outage (restart ${mode})`;
  console.log(`\n== ${label}: 30 clients, pg_ctl stop -m ${mode} for 4 s, then start (no API restart)`);
  const cpuBefore = stack.cpuSeconds();
  const tag = `restart-${mode}-${round}-${Date.now().toString(36)}`;
  let downAt = 0;
  let upAt = 0;
  let successAfterUp = false;
  let stopFailed: unknown;
  const stop = new AbortController();
  const containersBefore = stack.containers();
  const outputBefore = stack.api.output().length;
  const failedBefore = invariants.failed;
  const fault = (async () => {
    await sleep(3000);
    downAt = performance.now();
    await stack.stopDatabase(mode);
    await sleep(4000);
    await stack.startDatabase();
    upAt = performance.now();
    successAfterUp = false;
    // Long enough after the return to see recovery, and that it lasts: 5 s,
    // or up to 11 s while no request has succeeded yet.
    await sleep(5000);
    while (!successAfterUp && performance.now() - upAt < 11000) await sleep(100);
  })()
    .catch((error: unknown) => {
      stopFailed = error;
    })
    .finally(() => stop.abort());
  const ops = await writers(stack, 30, 60000, tag, stop.signal, (result) => {
    if (upAt > 0 && result.status > 0 && result.status < 500) successAfterUp = true;
  });
  await fault;
  if (stopFailed) throw stopFailed;
  const containersAfter = stack.containers();
  const cpuUsed = stack.cpuSeconds() - cpuBefore;
  const results = ops.map((o) => o.result);
  const failures = results.filter((r) => r.status >= 500 || r.status === 0);
  const dishonest = failures.filter((r) => !honestFailure(r, worstCaseBoundMs));
  const slow = results.filter((r) => r.ms >= worstCaseBoundMs);
  const firstOkAfterUp = ops.find((o) => o.startedAt >= upAt && o.result.status < 500 && o.result.status > 0);
  const lastFailure = Math.max(
    0,
    ...ops.filter((o) => o.result.status >= 500 || o.result.status === 0).map((o) => o.startedAt + o.result.ms),
  );
  const recovery = firstOkAfterUp ? (firstOkAfterUp.startedAt + firstOkAfterUp.result.ms - upAt) / 1000 : Number.NaN;
  const allOkAfter = Math.max(0, (lastFailure - upAt) / 1000);
  const slowest = ops.reduce((a, b) => (b.result.ms > a.result.ms ? b : a), ops[0] as Op);
  const handlerMs = handlerDurations(stack);
  const inHandler = (o: Op) => handlerMs.get(o.result.headers.get('x-request-id') ?? '');
  // The API's own time for a request (middy's request log: from the handler's
  // start to its answer) against what the client saw; the difference is the
  // emulator's (serverless-offline queueing the request, starting a container).
  const slowestHandler = Math.max(0, ...ops.map((o) => inHandler(o) ?? 0));
  const answeredByApi = ops.filter((o) => o.result.headers.get('x-request-id') !== null);
  for (const o of judged ? ops : []) {
    restartAnswers.push({
      ms: o.result.ms,
      status: o.result.status,
      kind: o.kind,
      round: label,
      handlerMs: inHandler(o),
    });
  }
  const alive = stack.api.child.exitCode === null && stack.api.child.signalCode === null;
  console.log(
    `  ${results.length} requests: ${summary(results)}; slowest answer ${slowest.result.ms.toFixed(0)} ms ` +
      `(${slowest.kind} ${slowest.result.status}, started ${((slowest.startedAt - downAt) / 1000).toFixed(1)} s after the stop)`,
  );
  for (const o of [...ops].sort((a, b) => b.result.ms - a.result.ms).slice(0, 3)) {
    const at = (o.startedAt - downAt) / 1000;
    console.log(
      `    slow: ${o.kind} ${o.result.status} in ${o.result.ms.toFixed(0)} ms (handler ${inHandler(o) ?? '?'} ms), started ${at.toFixed(1)} s after the stop ` +
        `(database back ${((upAt - downAt) / 1000).toFixed(1)} s after it)${o.result.status >= 500 ? `: ${o.result.text.slice(0, 160)}` : ''}`,
    );
  }
  for (const r of [...dishonest, ...slow].slice(0, 5))
    console.log(`    ${r.status} in ${r.ms.toFixed(0)} ms: ${r.text.slice(0, 200)}`);
  console.log(
    `  containers (worker threads): ${containersBefore} before the round, ${containersAfter} after; emulator CPU ${cpuUsed.toFixed(1)} s; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  if (!alive) console.log(stack.api.output().split('\n').slice(-30).join('\n'));
  invariants.check(`${label}: the API process survived`, alive);
  // A Lambda container is a worker thread here: an uncaught exception in one
  // ends it (and its request) without ending the process.
  const crashes = stack.api
    .output()
    .slice(outputBefore)
    .split('\n')
    .filter((line) => /uncaught|unhandled|ERR_WORKER|worker.*(exit|terminat)/i.test(line));
  for (const line of crashes.slice(0, 5)) console.log(`    ${line.slice(0, 300)}`);
  invariants.check(`${label}: no container (worker thread) crashed`, crashes.length === 0, `${crashes.length} lines`);
  invariants.check(`${label}: the outage was seen (some requests got 503)`, failures.length > 0, `${failures.length}`);
  invariants.check(
    `${label}: no 500`,
    results.every((r) => r.status < 500 || honestFailure(r, Number.POSITIVE_INFINITY)),
  );
  const timing = judged ? invariants : { check: (name: string, ok: boolean, detail = '') => note(name, ok, detail) };
  timing.check(
    `${label}: every failure was a 503 problem with Retry-After (no 500, no socket error)`,
    dishonest.length === 0,
    `${dishonest.length} were not`,
  );
  timing.check(
    `${label}: every request answered within ${worstCaseBoundMs / 1000} s`,
    slow.length === 0,
    `slowest ${slowest.result.ms.toFixed(0)} ms`,
  );
  timing.check(
    `${label}: the API itself answered every request within its database budget (8 s) plus 1 s`,
    // An answer's log line can be lost when serverless-offline ends the
    // worker thread that wrote it (seen: 1 in 1,535); none found means no proof.
    answeredByApi.length > 0 &&
      answeredByApi.filter((o) => inHandler(o) === undefined).length <= answeredByApi.length / 100 &&
      slowestHandler < 9000,
    `slowest handler ${slowestHandler} ms; ${answeredByApi.filter((o) => inHandler(o) === undefined).length} of ${answeredByApi.length} answers without a log line`,
  );
  timing.check(
    `${label}: recovered by itself within 10 s of the database being back`,
    recovery < 10 && allOkAfter < 10,
    `first success ${recovery.toFixed(2)} s after, last failure ${allOkAfter.toFixed(2)} s after`,
  );
  figures.push({
    fault: judged ? `pg_ctl stop -m ${mode} 4 s, 30 clients (#${round})` : `warm-up outage: stop -m ${mode} 4 s`,
    requests: results.length,
    'answered 503': failures.length,
    '500/hang': dishonest.length,
    'slowest 503 ms': Math.max(0, ...failures.map((r) => r.ms)).toFixed(0),
    'slowest ms': slowest.result.ms.toFixed(0),
    'slowest handler ms': slowestHandler,
    'recovery s': recovery.toFixed(2),
    'outage s': ((upAt - downAt) / 1000).toFixed(1),
  });
  await checkWrites(stack, ops, tag, label);
  if (judged) restartRounds.push({ label, passed: invariants.failed === failedBefore });
}

/** A timing check of the warm-up outage: printed, not counted. */
function note(name: string, ok: boolean, detail: string): void {
  console.log(`${ok ? 'ok  ' : 'slow'}  (warm-up, not judged) ${name}${detail ? `  (${detail})` : ''}`);
}

async function frozenPostmaster(stack: Stack): Promise<void> {
  console.log('\n== Database listening but not answering (postmaster SIGSTOP 5 s, API connections terminated)');
  const tag = 'frozen';
  // Warm containers first, so what is timed below is the connect path, not
  // container cold starts.
  await writers(stack, 20, 3000, 'frozen-warm');
  const admin = await stack.admin();
  const pid = stack.postmasterPid();
  let probe: HttpResult | undefined;
  const fault = (async () => {
    await sleep(1500);
    process.kill(pid, 'SIGSTOP');
    // Backends still run, so the pooled connections would keep working; end
    // them, and every container must open a new connection, which now waits
    // in the accept queue of a server that does not answer.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cats-api'");
    // No API connection is left and no new one can be made, so a request now
    // must get its 503 (however busy the machine keeps the writers).
    probe = await call(stack.baseUrl, 'GET', '/cats?limit=1');
    await sleep(5000);
    process.kill(pid, 'SIGCONT');
    await admin.end();
  })();
  const ops = await writers(stack, 20, 10000, tag);
  await fault;
  const results = ops.map((o) => o.result);
  const failures = results.filter((r) => r.status >= 500 || r.status === 0);
  // A request that needs a new connection gets its 503 after the connect
  // timeout (3 s); one whose statement was in flight when the server froze
  // is cut by the client-side query timeout (statement timeout + 1 s = 6 s).
  const dishonest = failures.filter((r) => !honestFailure(r, 6000 + 1500));
  const maxFailMs = Math.max(0, ...failures.map((r) => r.ms));
  console.log(`  ${results.length} requests: ${summary(results)}; slowest failure ${maxFailMs.toFixed(0)} ms`);
  for (const r of dishonest.slice(0, 5))
    console.log(`    ${r.status} in ${r.ms.toFixed(0)} ms: ${r.text.slice(0, 300)}`);
  invariants.check(
    'frozen: a request made while the server is frozen gets a 503 with Retry-After, not a hang',
    probe !== undefined && honestFailure(probe, 6000 + 1500),
    probe ? `${probe.status} in ${probe.ms.toFixed(0)} ms` : 'no answer',
  );
  invariants.check(
    'frozen: every failure was a 503 with Retry-After within the connect or query timeout, never a hang',
    dishonest.length === 0,
    `${failures.length} failures, slowest ${maxFailMs.toFixed(0)} ms`,
  );
  figures.push({
    fault: 'postmaster frozen 5 s (SIGSTOP)',
    requests: results.length,
    'answered 503': failures.length,
    '500/hang': dishonest.length,
    'slowest 503 ms': maxFailMs.toFixed(0),
    'recovery s': '-',
    'outage s': '5.0',
  });
  await checkWrites(stack, ops, tag, 'frozen');
}

async function terminatedConnections(stack: Stack): Promise<void> {
  console.log('\n== Idle connections terminated by the server (pg_terminate_backend)');
  const batch = () => Promise.all(Array.from({ length: 10 }, () => call(stack.baseUrl, 'GET', '/cats?limit=1')));
  const warm = await batch();
  const admin = await stack.admin();
  const killed = await admin.query(
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cats-api'",
  );
  await admin.end();
  await sleep(200);
  // A lost connection makes a container's next connect a probe (lib/db/breaker.ts):
  // one the server has not answered within DB_RECONNECT_WAIT_MS gets a 503,
  // and the connection, when it comes, serves the next request.
  const after = await batch();
  const again = await batch();
  console.log(
    `  warm-up ${summary(warm)}; terminated ${killed.rowCount} connections; then ${summary(after)}; then ${summary(again)}`,
  );
  invariants.check(
    'terminate: the next requests succeed on fresh connections, or answer 503 with Retry-After while theirs comes',
    (killed.rowCount ?? 0) > 0 && after.every((r) => r.status === 200 || honestFailure(r)),
    summary(after),
  );
  invariants.check(
    'terminate: the requests after those all succeed',
    again.every((r) => r.status === 200),
    summary(again),
  );
  // The other functions' containers lost theirs too: their next request is
  // such a probe. Connect them again here, so that the next round measures
  // its own fault.
  for (const [method, path, body] of [
    ['PATCH', '/cats/2147483000', { price: 1 }],
    ['POST', '/cats', { name: 'reconnect', price: 1, breed: 'reconnect' }],
    ['GET', '/cats/2147483000'],
    ['DELETE', '/cats/2147483000'],
  ] as const) {
    for (let round = 0; round < 5; round += 1) {
      const replies = await Promise.all(Array.from({ length: 30 }, () => call(stack.baseUrl, method, path, body)));
      if (replies.every((r) => r.status !== 503)) break;
    }
  }
}

/**
 * Concurrent PATCHes of different fields of one cat: each answer must be a
 * state that really existed. Row locks serialize the updates, so the answers
 * (plus the initial state) must form one chain in which each step changes
 * only the field its PATCH sent, and the table must hold the chain's end.
 */
async function concurrentPatches(stack: Stack): Promise<void> {
  console.log('\n== Concurrent PATCHes of different fields of one cat');
  const created = await call(stack.baseUrl, 'POST', '/cats', { name: 'race-0', price: 0, breed: 'race' });
  const id = (JSON.parse(created.text) as { id: number }).id;
  const patches = Array.from({ length: 24 }, (_, i) =>
    i % 2 === 0 ? { field: 'name' as const, value: `race-${i + 1}` } : { field: 'price' as const, value: i + 1 },
  );
  const answers = await Promise.all(
    patches.map(async (p) => {
      const r = await call(stack.baseUrl, 'PATCH', `/cats/${id}`, { [p.field]: p.value });
      return {
        ...p,
        status: r.status,
        cat: r.status === 200 ? (JSON.parse(r.text) as { name: string; price: number }) : undefined,
      };
    }),
  );
  const admin = await stack.admin();
  const final = (await admin.query<{ name: string; price: number }>('SELECT name, price FROM cats WHERE id = $1', [id]))
    .rows[0];
  await admin.end();

  type State = { name: string; price: number };
  const steps = answers.filter((a) => a.cat);
  // Several orders may fit the answers; one must end at the row as it is now.
  // Dead ends are remembered so that runs of same-field PATCHes cost no k!.
  const deadEnds = new Set<string>();
  const chain = (state: State, used: number): boolean => {
    if (used === 2 ** steps.length - 1) return state.name === final?.name && state.price === final?.price;
    const key = `${used}:${state.name}:${state.price}`;
    if (deadEnds.has(key)) return false;
    const found = steps.some((a, i) => {
      const cat = a.cat as State;
      const fits =
        a.field === 'name'
          ? cat.name === a.value && cat.price === state.price
          : cat.price === a.value && cat.name === state.name;
      return (used & (1 << i)) === 0 && fits && chain(cat, used | (1 << i));
    });
    if (!found) deadEnds.add(key);
    return found;
  };
  const explained = chain({ name: 'race-0', price: 0 }, 0);
  console.log(
    `  ${answers.length} PATCHes: ${summary(answers.map((a) => ({ status: a.status }) as HttpResult))}; final ${JSON.stringify(final)}`,
  );
  invariants.check('patches: all answered 200', steps.length === answers.length, `${steps.length}/${answers.length}`);
  invariants.check(
    'patches: every answer is a state that existed, and no field update was lost',
    explained,
    explained
      ? 'a serial order of the answers ends at the stored row'
      : 'no serial order explains the answers and the row',
  );
}

async function concurrentMigrations(stack: Stack): Promise<void> {
  console.log('\n== Five migrate invocations at once (separate processes) on an empty database');
  const admin = await stack.admin();
  await admin.query('CREATE DATABASE migrate_race');
  await admin.end();
  const url = new URL(stack.databaseUrl);
  url.pathname = '/migrate_race';
  const script =
    "const { handler } = await import('./functions/migrate.ts'); console.log(JSON.stringify(await handler()));";
  const runs = await Promise.all(
    Array.from(
      { length: 5 },
      () =>
        new Promise<string>((done) => {
          const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
            cwd: root,
            env: { ...process.env, DATABASE_URL: url.toString(), POWERTOOLS_LOG_LEVEL: 'SILENT' },
          });
          let out = '';
          child.stdout.on('data', (c: Buffer) => {
            out += c.toString();
          });
          child.stderr.on('data', (c: Buffer) => {
            out += c.toString();
          });
          child.on('exit', () => done(out.trim()));
        }),
    ),
  );
  const applied = runs.flatMap((out) => {
    try {
      return (JSON.parse(out.split('\n').at(-1) ?? '') as { applied: string[] }).applied;
    } catch {
      return [`(failed: ${out.slice(0, 200)})`];
    }
  });
  const check = new pg.Client({ connectionString: url.toString() });
  await check.connect();
  const recorded = (await check.query<{ name: string }>('SELECT name FROM kysely_migration ORDER BY name')).rows.map(
    (r) => r.name,
  );
  await check.end();
  console.log(`  applied across the five runs: ${JSON.stringify(applied)}; recorded: ${JSON.stringify(recorded)}`);
  invariants.check(
    'migrations: each applied exactly once across five concurrent runs',
    JSON.stringify([...applied].sort()) === JSON.stringify([...allMigrations].sort()) &&
      JSON.stringify(recorded) === JSON.stringify([...allMigrations].sort()),
    `${applied.length} applications of ${allMigrations.length} migrations`,
  );
}

async function tooManyConnections(): Promise<void> {
  console.log('\n== Too many connections (max_connections=8) and a slow query (statement timeout 1 s)');
  const stack = await startStack({
    postgresFlags: ['-c', 'max_connections=8', '-c', 'superuser_reserved_connections=0'],
    env: { DB_IDLE_TIMEOUT_MS: '2000', DB_STATEMENT_TIMEOUT_MS: '1000' },
  });
  // Connected before the burst: during it there is no slot left for it.
  const admin = await stack.admin();
  try {
    const burstEnd = performance.now() + 8000;
    const burst: HttpResult[] = [];
    await Promise.all(
      Array.from({ length: 30 }, async () => {
        while (performance.now() < burstEnd) burst.push(await call(stack.baseUrl, 'GET', '/cats?limit=5'));
      }),
    );
    const failures = burst.filter((r) => r.status !== 200);
    // Bounded by 10 s (the function timeout is 15 s): these containers start cold,
    // 30 at once on this machine, and their first request pays for that.
    const dishonest = failures.filter((r) => !honestFailure(r, 10000));
    console.log(`  30 concurrent clients for 8 s: ${summary(burst)}`);
    for (const r of dishonest.slice(0, 5))
      console.log(`    ${r.status} in ${r.ms.toFixed(0)} ms: ${r.text.slice(0, 200)}`);
    invariants.check('too many: the limit was hit (some 503)', failures.length > 0, `${failures.length}`);
    invariants.check(
      'too many: every excess request got a 503 problem with Retry-After, not a 500, within the function timeout',
      dishonest.length === 0,
      `${dishonest.length} were not`,
    );

    // Load drops to two clients: how long until 20 requests in a row succeed.
    const dropAt = performance.now();
    let streak = 0;
    const calm: HttpResult[] = [];
    while (streak < 20 && performance.now() - dropAt < 30000) {
      const pair = await Promise.all([1, 2].map(() => call(stack.baseUrl, 'GET', '/cats?limit=5')));
      calm.push(...pair);
      streak = pair.every((r) => r.status === 200) ? streak + 2 : 0;
      if (streak === 0) await sleep(200);
    }
    const recovered = (performance.now() - dropAt) / 1000;
    invariants.check(
      'too many: recovered by itself once the load dropped',
      streak >= 20,
      `20 successes in a row after ${recovered.toFixed(2)} s (${summary(calm)})`,
    );
    figures.push({
      fault: 'max_connections=8, 30 clients',
      requests: burst.length,
      'answered 503': failures.length,
      '500/hang': dishonest.length,
      'slowest 503 ms': Math.max(0, ...failures.map((r) => r.ms)).toFixed(0),
      'recovery s': recovered.toFixed(2),
      'outage s': '-',
    });

    // A statement stuck behind a lock: the statement/lock timeout answers,
    // long before Lambda's own timeout would. First let the idle containers
    // give their connections back (DB_IDLE_TIMEOUT_MS=2000), so what answers
    // is the timeout and not the connection limit.
    await sleep(3000);
    await admin.query('BEGIN');
    await admin.query('LOCK TABLE cats IN ACCESS EXCLUSIVE MODE');
    const stuck = await Promise.all([
      call(stack.baseUrl, 'GET', '/cats?limit=5'),
      call(stack.baseUrl, 'POST', '/cats', { name: 'stuck', price: 1, breed: 'stuck' }),
    ]);
    await admin.query('ROLLBACK');
    const afterwards = await call(stack.baseUrl, 'GET', '/cats?limit=5');
    const stuckRows = (await admin.query("SELECT count(*)::int AS n FROM cats WHERE name = 'stuck'")).rows[0]?.n;
    console.log(
      `  behind a held lock: ${stuck.map((r) => `${r.status} in ${r.ms.toFixed(0)} ms`).join(', ')}; after the lock: ${afterwards.status}`,
    );
    invariants.check(
      'slow query: a stuck statement becomes a 503 problem within ~the statement timeout, and leaves no trace',
      stuck.every((r) => r.status === 503 && r.headers.get('retry-after') !== null && r.ms < 3000) &&
        afterwards.status === 200 &&
        stuckRows === 0,
      stuck.map((r) => `${r.status}/${r.ms.toFixed(0)} ms`).join(', '),
    );
  } finally {
    await admin.end().catch(() => {});
    await stack.close();
  }
}

async function main(): Promise<number> {
  console.log('Starting an embedded PostgreSQL and npm start (serverless-offline, worker threads) ...');
  // FAULTS_ONLY=restart,frozen,... runs a subset (while working on one).
  const only = process.env.FAULTS_ONLY?.split(',');
  const wanted = (name: string) => !only || only.includes(name);
  // INFO: the API's request log lines carry each request's own duration.
  // OFFLINE_IDLE_LAMBDA_SECONDS: serverless-offline ends containers idle for
  // 60 s by default, and with the 150 the warm-up starts, it ended 77 of them
  // at once mid-round, whose replacements' start-up then took over 15 s on a
  // busy machine (and reset connections): the emulator's churn, not the API's.
  // max_connections: one connection per container, 5 functions x 30 containers.
  const stack = await startStack({
    postgresFlags: ['-c', 'max_connections=250'],
    env: { POWERTOOLS_LOG_LEVEL: 'INFO', LOG_FORMAT: 'json', OFFLINE_IDLE_LAMBDA_SECONDS: '3600' },
  });
  try {
    if (wanted('restart')) {
      // A one-in-three failure per round passes 12 rounds with probability
      // (2/3)^12 < 1 %: the race of issue 10 cannot hide in CI.
      const rounds = Number(process.env.FAULTS_RESTART_ROUNDS ?? 12);
      await warmUp(stack);
      // The first outage after the containers start is the first time each of
      // the 150 containers (worker threads sharing this machine's 2 cores) runs
      // its error paths: V8 compiles them in all 150 at once, and in CI that
      // starved the machine (load average 72-74, PostgreSQL's own restart
      // taking 23-31 s instead of 1) while the handlers stayed within their
      // budget (2.2-2.5 s). On Lambda each container has its own CPU. So the
      // warm-up ends with one outage, checked for what must never happen and
      // printed (with the emulator's CPU seconds), and the judged rounds follow.
      await databaseRestartUnderLoad(stack, 'fast', 0);
      for (let round = 1; round <= rounds; round += 1) {
        await databaseRestartUnderLoad(stack, round % 2 === 1 ? 'fast' : 'immediate', round);
      }
      if (restartAnswers.length > 0) {
        const worst = restartAnswers.reduce((a, b) => (b.ms > a.ms ? b : a));
        const okMax = Math.max(0, ...restartAnswers.filter((a) => a.status < 500 && a.status > 0).map((a) => a.ms));
        const failMax = Math.max(
          0,
          ...restartAnswers.filter((a) => a.status >= 500 || a.status === 0).map((a) => a.ms),
        );
        const passed = restartRounds.filter((r) => r.passed).length;
        console.log(`\nrestart rounds passed: ${passed}/${restartRounds.length}`);
        console.log(
          `restart rounds: worst-case answer ${worst.ms.toFixed(0)} ms (${worst.kind} ${worst.status}, ${worst.round}); ` +
            `slowest success ${okMax.toFixed(0)} ms, slowest failure ${failMax.toFixed(0)} ms, ` +
            `p99 ${percentile(
              restartAnswers.map((a) => a.ms),
              99,
            ).toFixed(0)} ms over ${restartAnswers.length} answers; ` +
            `slowest in the handler ${Math.max(0, ...restartAnswers.map((a) => a.handlerMs ?? 0))} ms ` +
            `(the worst answer's: ${worst.handlerMs ?? '?'} ms)`,
        );
      }
    }
    if (wanted('frozen')) await frozenPostmaster(stack);
    if (wanted('terminate')) await terminatedConnections(stack);
    if (wanted('patches')) await concurrentPatches(stack);
    if (wanted('migrations')) await concurrentMigrations(stack);
    const crashes = stack.api
      .output()
      .split('\n')
      .filter((line) => /uncaught|unhandled|ERR_WORKER/i.test(line));
    for (const line of crashes.slice(0, 5)) console.log(`    ${line.slice(0, 300)}`);
    invariants.check(
      'whole run: no container (worker thread) crashed',
      crashes.length === 0,
      `${crashes.length} lines`,
    );
  } finally {
    await stack.close();
  }
  if (wanted('toomany')) await tooManyConnections();
  // Last, on a stack of its own: Lambda's and API Gateway's limits in front of npm start.
  if (wanted('aws')) await emulatedAws(invariants, figures);
  console.log('');
  table(figures);
  console.log(
    invariants.failed === 0 ? '\nfaults: all invariants hold' : `\nfaults: ${invariants.failed} invariant(s) broken`,
  );
  return invariants.failed === 0 ? 0 : 1;
}

const guard = setTimeout(() => {
  console.error('faults: did not finish within 15 minutes');
  process.exit(1);
}, 900000);
guard.unref();
process.exit(await main());
