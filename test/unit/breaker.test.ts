/**
 * The connect path's circuit breaker (lib/db/breaker.ts) as a state machine,
 * on a clock the test moves by hand: no timer, no timing window.
 */
import { BreakerOpenError, breakerDefaults, DatabaseBreaker } from '../../lib/db/breaker.js';
import { toProblem } from '../../lib/http/errors.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
const connectTimeout = () => new Error('timeout exceeded when trying to connect');
const startingUp = () => Object.assign(new Error('the database system is starting up'), { code: '57P03' });

/** Lets pending promise callbacks run. */
const settled = () => new Promise((done) => setImmediate(done));

/** A breaker on a hand-moved clock, with jitter at its top (random() -> 1); `expire()` ends a probe's wait. */
function breakerAt(random = () => 0.999999) {
  const clock = { now: 0 };
  const waits = new Set<() => void>();
  const timer = (_ms: number, fire: () => void) => {
    waits.add(fire);
    return () => waits.delete(fire);
  };
  const breaker = new DatabaseBreaker({ now: () => clock.now, random, timer });
  let attempts = 0;
  const connect = (outcome: () => unknown) =>
    breaker.guard(async () => {
      attempts += 1;
      const result = outcome();
      if (result instanceof Error) throw result;
      return 'connected';
    });
  const expire = () => {
    for (const fire of waits) fire();
    waits.clear();
  };
  return { breaker, clock, connect, attempts: () => attempts, expire, waiting: () => waits.size };
}

it('stays closed and connects every time while connects succeed', async () => {
  const { breaker, connect, attempts } = breakerAt();
  for (let i = 0; i < 3; i += 1) await expect(connect(() => 'ok')).resolves.toBe('connected');
  expect(attempts()).toBe(3);
  expect(breaker.state).toBe('closed');
});

it.each([
  ['refused', refused],
  ['timed out', connectTimeout],
  ['answered "starting up"', startingUp],
  ['reset', () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
  ['ended while connecting', () => new Error('Connection terminated unexpectedly')],
])('opens when a connect %s, and refuses the next request without a connect attempt', async (_, failure) => {
  const { breaker, clock, connect, attempts } = breakerAt();
  await expect(connect(failure)).rejects.toThrow();
  expect(breaker.state).toBe('open');
  clock.now += 1;
  const refusedAtOnce = connect(() => 'ok');
  await expect(refusedAtOnce).rejects.toBeInstanceOf(BreakerOpenError);
  expect(attempts()).toBe(1);
});

it.each([
  ['a wrong password (28P01)', () => Object.assign(new Error('password authentication failed'), { code: '28P01' })],
  ['too many connections (53300)', () => Object.assign(new Error('too many clients'), { code: '53300' })],
  ['no such database (3D000)', () => Object.assign(new Error('database does not exist'), { code: '3D000' })],
  ['a constraint violation (23505)', () => Object.assign(new Error('duplicate key'), { code: '23505' })],
  ['a statement error (42601)', () => Object.assign(new Error('syntax error'), { code: '42601' })],
  ['a statement timeout (57014)', () => Object.assign(new Error('canceling statement'), { code: '57014' })],
])('stays closed after %s: the server answered, so it is reachable', async (_, failure) => {
  const { breaker, connect, attempts } = breakerAt();
  await expect(connect(failure)).rejects.toThrow();
  expect(breaker.state).toBe('closed');
  await expect(connect(() => 'ok')).resolves.toBe('connected');
  expect(attempts()).toBe(2);
});

it('lets one request probe when the back-off is over, and the first success closes it', async () => {
  const { breaker, clock, connect, attempts } = breakerAt();
  await expect(connect(refused)).rejects.toThrow();
  clock.now += breakerDefaults.firstBackOffMs - 1;
  await expect(connect(() => 'ok')).rejects.toBeInstanceOf(BreakerOpenError);
  clock.now += 1;
  await expect(connect(() => 'ok')).resolves.toBe('connected');
  expect(breaker.state).toBe('closed');
  expect(attempts()).toBe(2);
  await expect(connect(() => 'ok')).resolves.toBe('connected');
});

it('refuses other requests while a probe is under way, without a second connect attempt', async () => {
  const { breaker, clock } = breakerAt();
  await expect(breaker.guard(() => Promise.reject(refused()))).rejects.toThrow();
  let attempts = 0;
  clock.now += breakerDefaults.maxBackOffMs;
  let finish: (value: string) => void = () => {};
  const probe = breaker.guard(() => new Promise<string>((done) => (finish = done)));
  expect(breaker.state).toBe('probing');
  await expect(
    breaker.guard(async () => {
      attempts += 1;
      return 'second';
    }),
  ).rejects.toBeInstanceOf(BreakerOpenError);
  finish('connected');
  await expect(probe).resolves.toBe('connected');
  expect(breaker.state).toBe('closed');
  expect(attempts).toBe(0);
});

it('answers the probing request 503 once the probe wait is over, and lets its connect close the breaker later, handing the connection on', async () => {
  const { breaker, clock, expire, waiting } = breakerAt();
  await expect(breaker.guard(() => Promise.reject(refused()))).rejects.toThrow();
  clock.now += breakerDefaults.maxBackOffMs;
  let finish: (value: string) => void = () => {};
  const handedOn: string[] = [];
  const probe = breaker.guard(
    () => new Promise<string>((done) => (finish = done)),
    (late) => handedOn.push(late),
  );
  expect(waiting()).toBe(1);
  expire();
  await expect(probe).rejects.toBeInstanceOf(BreakerOpenError);
  // Still probing: the others are refused without a second connect attempt.
  expect(breaker.state).toBe('probing');
  await expect(breaker.guard(async () => 'second')).rejects.toBeInstanceOf(BreakerOpenError);
  finish('connected');
  await settled();
  expect(breaker.state).toBe('closed');
  expect(handedOn).toEqual(['connected']);
  await expect(breaker.guard(async () => 'next')).resolves.toBe('next');
});

it('reopens with a doubled back-off when a probe that outlived its wait fails to connect', async () => {
  const { breaker, clock, expire } = breakerAt();
  await expect(breaker.guard(() => Promise.reject(refused()))).rejects.toThrow();
  clock.now += breakerDefaults.firstBackOffMs;
  let fail: (error: Error) => void = () => {};
  const handedOn: string[] = [];
  const probe = breaker.guard(
    () => new Promise<string>((_, rejected) => (fail = rejected)),
    (late) => handedOn.push(late),
  );
  expire();
  await expect(probe).rejects.toBeInstanceOf(BreakerOpenError);
  fail(connectTimeout());
  await settled();
  expect(breaker.state).toBe('open');
  clock.now += breakerDefaults.firstBackOffMs * 2 - 1;
  await expect(breaker.guard(async () => 'ok')).rejects.toBeInstanceOf(BreakerOpenError);
  expect(handedOn).toEqual([]);
});

it('waits for a connect only when probing: closed, the request waits as long as its connect takes', async () => {
  const { breaker, waiting } = breakerAt();
  let finish: (value: string) => void = () => {};
  const first = breaker.guard(() => new Promise<string>((done) => (finish = done)));
  expect(waiting()).toBe(0);
  finish('connected');
  await expect(first).resolves.toBe('connected');
});

it('doubles the back-off while probes fail, up to its maximum, and starts over after a success', async () => {
  const { clock, connect } = breakerAt();
  /** How long after a failure the breaker still refuses (jitter at its top: the full back-off). */
  const refusedFor = async () => {
    const from = clock.now;
    for (;;) {
      clock.now += 10;
      try {
        await connect(refused);
        throw new Error('unreachable: connect(refused) always rejects');
      } catch (error) {
        if (!(error instanceof BreakerOpenError)) return clock.now - from;
      }
    }
  };
  await expect(connect(refused)).rejects.toThrow();
  const backOffs = [];
  for (let i = 0; i < 5; i += 1) backOffs.push(await refusedFor());
  expect(backOffs).toEqual([500, 1000, 2000, 2000, 2000]);
  await expect(connect(() => 'ok')).rejects.toBeInstanceOf(BreakerOpenError);
  clock.now += breakerDefaults.maxBackOffMs;
  await expect(connect(() => 'ok')).resolves.toBe('connected');
  await expect(connect(refused)).rejects.toThrow();
  expect(await refusedFor()).toBe(500);
});

it('spreads the probes of containers that failed together: the jitter takes up to half the back-off off', async () => {
  const low = breakerAt(() => 0);
  await expect(low.connect(refused)).rejects.toThrow();
  low.clock.now += breakerDefaults.firstBackOffMs / 2;
  await expect(low.connect(() => 'ok')).resolves.toBe('connected');
});

it('tells when the next probe may go, and keeps the failure that opened it as the cause', async () => {
  const { clock, connect } = breakerAt();
  const failure = refused();
  await expect(connect(() => failure)).rejects.toBe(failure);
  clock.now += 100;
  const error = (await connect(() => 'ok').catch((e: unknown) => e)) as BreakerOpenError;
  expect(error.retryInMs).toBeCloseTo(breakerDefaults.firstBackOffMs - 100, 2);
  expect(error.cause).toBe(failure);
});

it('becomes the database-unavailable 503 with Retry-After, saying nothing internal', async () => {
  const { connect } = breakerAt();
  await expect(connect(refused)).rejects.toThrow();
  const error = await connect(() => 'ok').catch((e: unknown) => e);
  const problem = toProblem(error);
  expect(problem.status).toBe(503);
  expect(problem.type).toBe('/problems/database-unavailable');
  expect(problem.headers).toEqual({ 'retry-after': expect.stringMatching(/^\d+$/) });
  expect(JSON.stringify(problem)).not.toContain('ECONNREFUSED');
});

describe('after a connection of the container was lost (suspect)', () => {
  it('runs the next connect as a probe: a connect that comes in time is answered as usual and closes it', async () => {
    const { breaker, waiting } = breakerAt();
    breaker.suspect();
    expect(breaker.state).toBe('suspect');
    let finish: (value: string) => void = () => {};
    const next = breaker.guard(() => new Promise<string>((done) => (finish = done)));
    expect(breaker.state).toBe('probing');
    expect(waiting()).toBe(1);
    finish('connected');
    await expect(next).resolves.toBe('connected');
    expect(breaker.state).toBe('closed');
    expect(waiting()).toBe(0);
  });

  it('answers the next request 503 once the probe wait is over when the host black-holes the connect, refuses the others meanwhile, and opens when the connect times out', async () => {
    const { breaker, clock, expire } = breakerAt();
    breaker.suspect();
    let fail: (error: Error) => void = () => {};
    let attempts = 0;
    const next = breaker.guard(() => {
      attempts += 1;
      return new Promise<string>((_, rejected) => (fail = rejected));
    });
    expire();
    await expect(next).rejects.toBeInstanceOf(BreakerOpenError);
    await expect(breaker.guard(async () => 'second')).rejects.toBeInstanceOf(BreakerOpenError);
    fail(connectTimeout());
    await settled();
    expect(breaker.state).toBe('open');
    clock.now += breakerDefaults.firstBackOffMs - 1;
    await expect(breaker.guard(async () => 'ok')).rejects.toBeInstanceOf(BreakerOpenError);
    expect(attempts).toBe(1);
  });

  it('waits on past the wait for a connect that has heard from the server: a slow host, not a black hole', async () => {
    const { breaker, expire } = breakerAt();
    breaker.suspect();
    let finish: (value: string) => void = () => {};
    const next = breaker.guard(() => new Promise<string>((done) => (finish = done)));
    breaker.serverAnswered();
    expire();
    await settled();
    expect(breaker.state).toBe('probing');
    finish('connected');
    await expect(next).resolves.toBe('connected');
    expect(breaker.state).toBe('closed');
  });

  it('changes nothing while a failure already opened it', async () => {
    const { breaker, connect } = breakerAt();
    await expect(connect(refused)).rejects.toThrow();
    breaker.suspect();
    expect(breaker.state).toBe('open');
  });

  it('makes a connect after a pooled connection was found dead a probe, unless that attempt already is the probe', async () => {
    const { breaker, clock, expire } = breakerAt();
    // Closed: the reconnect inside the attempt becomes the probe, and its wait bounds the request.
    let finish: (value: string) => void = () => {};
    const handedOn: string[] = [];
    const request = breaker.guard(() =>
      breaker.probeAfterLoss(
        () => new Promise<string>((done) => (finish = done)),
        (late) => handedOn.push(late),
      ),
    );
    expect(breaker.state).toBe('probing');
    expire();
    await expect(request).rejects.toBeInstanceOf(BreakerOpenError);
    expect(breaker.state).toBe('probing');
    finish('connected');
    await settled();
    expect(breaker.state).toBe('closed');
    expect(handedOn).toEqual(['connected']);

    // Already the probe: it connects on, within the probe's own wait, and a failure opens the breaker.
    await expect(breaker.guard(() => Promise.reject(refused()))).rejects.toThrow();
    clock.now += breakerDefaults.maxBackOffMs;
    const probe = breaker.guard(() => breaker.probeAfterLoss(() => Promise.reject(refused())));
    await expect(probe).rejects.toThrow('ECONNREFUSED');
    expect(breaker.state).toBe('open');
  });
});
