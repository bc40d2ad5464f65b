/**
 * The fault script's emulated-AWS round (issue 23): `npm start` behind
 * aws-front.ts, which enforces each function's reserved concurrency (a
 * throttled invocation answered 500 as API Gateway does) and the API's
 * throttle (429), so the run counts the answers an AWS client would get.
 *
 * With the defaults: a burst above the reservations must get 429s from the
 * API's throttle and no 500; a 60 s database outage under load well above
 * the reservations must get 503s with Retry-After (and 429s), no 500, and
 * the API must answer again within seconds of the database's return. Twice:
 * stopped (connects refused) and black-holed (connects hang until their
 * timeout, the failover the issue was written for): there no request may
 * hold its container on a connect for longer than the throttles allow for
 * (lib/db/breaker.ts), so no 500 either.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { packageService } from '../../test/deploy/template.js';
import { authorizationFor } from '../../test/support/api-process.js';
import { type AwsFront, deployedFunctions, startAwsFront } from './aws-front.js';
import { type Invariants, percentile, type Stack, sleep, startStack, summary } from './harness.js';

interface Answer {
  status: number;
  ms: number;
  at: number;
  retryAfter: string | null;
  contentType: string;
  text: string;
}

/** One request as a client would send it (the write token of `npm start`'s issuer), at most 15 s. */
async function send(baseUrl: string, auth: Record<string, string>, method: string, path: string, body?: unknown) {
  const at = performance.now();
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15000),
    });
    const text = await response.text();
    return {
      status: response.status,
      ms: performance.now() - at,
      at,
      retryAfter: response.headers.get('retry-after'),
      contentType: response.headers.get('content-type') ?? '',
      text,
    };
  } catch (error) {
    return { status: 0, ms: performance.now() - at, at, retryAfter: null, contentType: '', text: String(error) };
  }
}

/** Client `i`'s request: the five database functions in turn, so each gets a fifth of the clients. */
function requestOf(i: number, n: number, catId: number): [string, string, unknown?] {
  switch (i % 5) {
    case 0:
      return ['GET', '/cats?limit=5'];
    case 1:
      return ['GET', `/cats/${catId}`];
    case 2:
      return ['POST', '/cats', { name: `aws-${i}-${n}`, price: n, breed: 'aws-emulated' }];
    case 3:
      return ['PATCH', `/cats/${catId}`, { price: n }];
    default:
      return ['DELETE', '/cats/2147483000'];
  }
}

/** `clients` loops of requests until `until()` says stop, each pausing `pauseMs` after an answer. */
async function load(
  baseUrl: string,
  auth: Record<string, string>,
  clients: number,
  catId: number,
  until: () => boolean,
  pauseMs: number,
): Promise<Answer[]> {
  const answers: Answer[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      for (let n = 1; !until(); n += 1) {
        const [method, path, body] = requestOf(i, n, catId);
        answers.push(await send(baseUrl, auth, method, path, body));
        await sleep(pauseMs);
      }
    }),
  );
  return answers;
}

/** A 503 as the API promises it: problem+json with Retry-After. */
const honest503 = (a: Answer) =>
  a.status === 503 && a.retryAfter !== null && a.contentType.startsWith('application/problem+json');
/** API Gateway's 500 for an invocation Lambda throttled. */
const lambda500 = (a: Answer) => a.status === 500 && a.text === '{"message":"Internal Server Error"}';
/** API Gateway's own 429, as the HTTP API answers its throttle. */
const gateway429 = (a: Answer) => a.status === 429 && a.text === '{"message":"Too Many Requests"}';

export async function emulatedAws(
  invariants: Invariants,
  figures: Record<string, string | number>[],
  outageMs = Number(process.env.FAULTS_AWS_OUTAGE_MS ?? 60000),
): Promise<void> {
  console.log('\n== Emulated AWS: reserved concurrency and the API throttle enforced in front of npm start');
  const packaged = await packageService('dev');
  const functions = await deployedFunctions(join(packaged.dir, 'cloudformation-template-update-stack.json'));
  await rm(packaged.dir, { recursive: true, force: true });
  const reservations = functions.map((fn) => `${fn.id.replace(/LambdaFunction$/, '')} ${fn.reserved}`).join(', ');
  console.log(`  reserved concurrency from the packaged template: ${reservations}`);

  const stack: Stack = await startStack({
    postgresFlags: ['-c', 'max_connections=120'],
    env: { OFFLINE_IDLE_LAMBDA_SECONDS: '3600' },
  });
  let front: AwsFront | undefined;
  try {
    const auth = authorizationFor(stack.baseUrl);
    const seed = await send(stack.baseUrl, auth, 'POST', '/cats', {
      name: 'aws-seed',
      price: 1,
      breed: 'aws-emulated',
    });
    const catId = (JSON.parse(seed.text) as { id: number }).id;

    // The latency the throttles are derived from, measured here: 10 clients
    // per function straight to npm start (as many as the reservations let
    // in), which also starts those containers. A 2-core machine running 50
    // worker threads is far slower than Lambda; the formula is the same.
    const totalReserved = functions
      .filter((fn) => fn.routes.some((key) => key.includes(' /cats')))
      .reduce((sum, fn) => sum + fn.reserved, 0);
    // A first outage, not judged: the first time each container runs its
    // error paths, V8 compiles them in all 50 worker threads at once, which
    // starves a 2-core machine for seconds (faults.ts, warm-up); on Lambda
    // each container has its own CPU.
    {
      let stopAt = Number.POSITIVE_INFINITY;
      const outage = (async () => {
        await sleep(3000);
        await stack.stopDatabase('fast');
        await sleep(5000);
        await stack.startDatabase();
        stopAt = performance.now() + 5000;
      })();
      const warm = await load(stack.baseUrl, auth, totalReserved, catId, () => performance.now() > stopAt, 10);
      await outage;
      console.log(`  warm-up with a 5 s outage (not judged): ${summary(warm)}`);
    }

    // Then until the containers have started: 4 s stretches until one has
    // no answer slower than 1.5 s and no failure (at most 60 s); that last
    // stretch gives the latency.
    let calibration: Answer[] = [];
    for (let stretch = 0; stretch < 15; stretch += 1) {
      const end = performance.now() + 4000;
      calibration = await load(stack.baseUrl, auth, totalReserved, catId, () => performance.now() > end, 0);
      if (calibration.every((a) => a.ms < 1500 && a.status > 0 && a.status < 500)) break;
    }
    const measuredMs = Math.ceil(
      percentile(
        calibration.map((a) => a.ms),
        99,
      ),
    );
    // FAULTS_AWS_REQUEST_MS: the throttles from another latency than the
    // measured one, e.g. the connect timeout (3000), to see what a setting
    // of apiRequestMs does (docs/deploying.md).
    const requestMs = Number(process.env.FAULTS_AWS_REQUEST_MS) || measuredMs;
    console.log(
      `  calibration: ${totalReserved} clients for 4 s, warm: ${summary(calibration)}; p99 ${measuredMs} ms` +
        (requestMs === measuredMs ? ' (requestMs)' : `; requestMs ${requestMs} (FAULTS_AWS_REQUEST_MS)`),
    );

    front = await startAwsFront({ target: stack.baseUrl, functions, requestMs });
    const limits = Object.entries(front.limits)
      .map(([key, l]) => `${key} ${l.rate}/s burst ${l.burst}`)
      .join('; ');
    console.log(`  throttles (apiThrottles with requestMs ${requestMs}): ${limits}`);

    // A burst above the reservations: 4 requests per container of every
    // database function at once, the database up.
    await sleep(2000);
    const burst = await Promise.all(
      Array.from({ length: totalReserved * 4 }, (_, i) => {
        const [method, path, body] = requestOf(i, 0, catId);
        return send(front?.baseUrl ?? '', auth, method, path, body);
      }),
    );
    console.log(`  burst of ${burst.length} at once: ${summary(burst)}`);
    invariants.check(
      'aws burst: above the reservations, the API throttle answers 429 and no request gets a 500',
      burst.every((a) => a.status < 500) && burst.some(gateway429),
      summary(burst),
    );
    figures.push({
      fault: `emulated AWS: burst of ${burst.length} at once`,
      requests: burst.length,
      'answered 503': burst.filter((a) => a.status === 503).length,
      '500/hang': burst.filter((a) => a.status === 500 || a.status === 0).length,
      'slowest ms': slowest(burst).toFixed(0),
      'recovery s': '-',
      'outage s': '-',
    });

    for (const kind of outages) {
      await outage(stack, front, auth, catId, totalReserved, kind, outageMs, invariants, figures);
    }
  } finally {
    await front?.close();
    await stack.close();
  }
}

/**
 * How the database goes away. `stopped`: `pg_ctl stop`, so connects are
 * refused at once (a reboot). `black-holed`: the postmaster is frozen
 * (SIGSTOP) and the API's sessions ended, so a connect is accepted by the
 * kernel and never answered until its timeout (3 s), as during an RDS
 * failover before DNS moves: the case the issue was written for.
 */
type OutageKind = 'stopped' | 'black-holed';

/** FAULTS_AWS_OUTAGES=stopped,black-holed (the default: both, in that order). */
const outages = (process.env.FAULTS_AWS_OUTAGES ?? 'stopped,black-holed').split(',').map((kind) => {
  if (kind !== 'stopped' && kind !== 'black-holed')
    throw new Error(`FAULTS_AWS_OUTAGES: "${kind}" is neither "stopped" nor "black-holed"`);
  return kind as OutageKind;
});

/** Takes the database away for `outageMs`; resolves once it is back. */
async function takeAway(stack: Stack, kind: OutageKind, outageMs: number, down: () => void): Promise<void> {
  if (kind === 'stopped') {
    down();
    await stack.stopDatabase('fast');
    await sleep(outageMs);
    await stack.startDatabase();
    return;
  }
  const admin = await stack.admin();
  const pid = stack.postmasterPid();
  down();
  process.kill(pid, 'SIGSTOP');
  try {
    // Backends still run, so the pooled connections would keep working:
    // end them, and every container must connect again, into the silence.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cats-api'");
    await sleep(outageMs);
  } finally {
    process.kill(pid, 'SIGCONT');
    await admin.end().catch(() => {});
  }
}

/**
 * The outage: 4 clients per container, each pausing 10 ms after an answer
 * (it ignores Retry-After: load stays well above what the reservations can
 * take), the database away for `outageMs`, then 15 s more.
 */
async function outage(
  stack: Stack,
  front: AwsFront,
  auth: Record<string, string>,
  catId: number,
  totalReserved: number,
  kind: OutageKind,
  outageMs: number,
  invariants: Invariants,
  figures: Record<string, string | number>[],
): Promise<void> {
  const clients = totalReserved * 4;
  const what = `database ${kind} ${(outageMs / 1000).toFixed(0)} s`;
  const label = `aws outage (${kind})`;
  console.log(`  -- ${what}, ${clients} clients`);
  const lambdaBefore = (await front.counts()).lambdaThrottled;
  const containersBefore = stack.containers();
  let downAt = 0;
  let upAt = 0;
  let stopAt = Number.POSITIVE_INFINITY;
  const fault = (async () => {
    await sleep(5000);
    await takeAway(stack, kind, outageMs, () => {
      downAt = performance.now();
    });
    upAt = performance.now();
    stopAt = upAt + 15000;
  })();
  const answers = await load(front.baseUrl, auth, clients, catId, () => performance.now() > stopAt, 10);
  await fault;

  const during = answers.filter((a) => a.at >= downAt && a.at < upAt);
  const failures = answers.filter((a) => a.status >= 500 || a.status === 0);
  const throttledInvocations = answers.filter((a) => a.status === 500);
  const dishonest = failures.filter((a) => !honest503(a) && !lambda500(a));
  const throttled = answers.filter((a) => a.status === 429);
  const ok = (a: Answer) => a.status > 0 && a.status < 429;
  const firstOk = answers.filter((a) => a.at >= upAt && ok(a)).sort((a, b) => a.at + a.ms - (b.at + b.ms))[0];
  const recovery = firstOk ? (firstOk.at + firstOk.ms - upAt) / 1000 : Number.NaN;
  const lastFailure = upAt + slowest(failures.map((a) => ({ ms: Math.max(0, a.at + a.ms - upAt) })));
  const worst = slowest(answers);
  const worst503 = slowest(failures);
  const frontCounts = await front.counts();
  const lambdaThrottles = frontCounts.lambdaThrottled - lambdaBefore;
  const peak = await front.peakInFlight();
  console.log(
    `  ${clients} clients, ${what}: ${answers.length} answers ${summary(answers)}; during the outage ${summary(during)}`,
  );
  console.log(
    `  worst answer ${worst.toFixed(0)} ms (worst 503 ${worst503.toFixed(0)} ms, p99 during the outage ${percentile(
      during.map((a) => a.ms),
      99,
    ).toFixed(0)} ms); first success ${recovery.toFixed(2)} s after the database was back, ` +
      `last 503 ${((lastFailure - upAt) / 1000).toFixed(2)} s after; Lambda throttles (500s) ${lambdaThrottles}; the front's longest event-loop delay ${frontCounts.loopDelayMaxMs} ms; ` +
      `peak in flight ${JSON.stringify(peak)}; containers (worker threads) ${containersBefore} before, ${stack.containers()} after`,
  );
  if (throttledInvocations.length > 0) {
    // When they were asked, by the second since the outage began.
    const seconds = new Map<number, number>();
    for (const a of throttledInvocations) {
      const second = Math.floor((a.at - downAt) / 1000);
      seconds.set(second, (seconds.get(second) ?? 0) + 1);
    }
    console.log(
      `  500s by the second of the outage they were asked in: ${[...seconds]
        .sort(([a], [b]) => a - b)
        .map(([second, n]) => `${second} s: ${n}`)
        .join(', ')}`,
    );
  }
  for (const a of dishonest.slice(0, 5))
    console.log(`    ${a.status} in ${a.ms.toFixed(0)} ms: ${a.text.slice(0, 200)}`);

  invariants.check(
    `${label}: no 500 through a ${(outageMs / 1000).toFixed(0)} s database outage`,
    throttledInvocations.length === 0,
    `${throttledInvocations.length} answers of 500`,
  );
  invariants.check(
    `${label}: every other failure was a 503 problem with Retry-After (no hang)`,
    dishonest.length === 0 && during.some(honest503),
    `${failures.length} failures, ${dishonest.length} not`,
  );
  invariants.check(
    `${label}: every 429 is the API throttle's, and the load was above it`,
    throttled.length > 0 && throttled.every(gateway429),
    `${throttled.length} answers of 429`,
  );
  invariants.check(
    `${label}: the API answered again within 10 s of the database being back`,
    recovery < 10,
    `first success ${recovery.toFixed(2)} s after`,
  );
  figures.push({
    fault: `emulated AWS: ${what}, ${clients} clients`,
    requests: answers.length,
    'answered 503': answers.filter((a) => a.status === 503).length,
    '500/hang': failures.filter((a) => a.status === 500 || a.status === 0).length,
    'slowest 503 ms': worst503.toFixed(0),
    'slowest ms': worst.toFixed(0),
    'recovery s': recovery.toFixed(2),
    'outage s': ((upAt - downAt) / 1000).toFixed(1),
  });
}

/**
 * The longest answer time. Not Math.max(...times): spread passes each value
 * as an argument, and a quiet machine answers enough requests in a 60 s
 * outage (over 100,000) to exceed the call stack (RangeError in CI).
 */
function slowest(answers: readonly { ms: number }[]): number {
  let worst = 0;
  for (const { ms } of answers) if (ms > worst) worst = ms;
  return worst;
}
