/**
 * The connect path's circuit breaker (lib/db/breaker.ts) as a state machine,
 * on a clock the test moves by hand: no timer, no timing window.
 */
import { BreakerOpenError, breakerDefaults, DatabaseBreaker } from '../../lib/db/breaker.js';
import { toProblem } from '../../lib/http/errors.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:5432'), { code: 'ECONNREFUSED' });
const connectTimeout = () => new Error('timeout exceeded when trying to connect');
const startingUp = () => Object.assign(new Error('the database system is starting up'), { code: '57P03' });

/** A breaker on a hand-moved clock, with jitter at its top (random() -> 1). */
function breakerAt(random = () => 0.999999) {
  const clock = { now: 0 };
  const breaker = new DatabaseBreaker({ now: () => clock.now, random });
  let attempts = 0;
  const connect = (outcome: () => unknown) =>
    breaker.guard(async () => {
      attempts += 1;
      const result = outcome();
      if (result instanceof Error) throw result;
      return 'connected';
    });
  return { breaker, clock, connect, attempts: () => attempts };
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
