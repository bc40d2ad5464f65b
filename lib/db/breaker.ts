/**
 * A per-container circuit breaker on the database connect path (issue 23).
 *
 * Why: during an RDS failover or reboot a new connection does not fail at
 * once, it waits for the connect timeout (3 s). Each request that tries holds
 * its Lambda container that long, the function runs out of reserved
 * concurrency, and API Gateway answers the throttled invocations with its own
 * 500. So a container that has just failed to reach the database stops
 * trying for a short back-off: its requests fail at once (the caller maps
 * the error to a 503 with Retry-After), then one request probes, and the
 * first success closes the breaker again. The probing request waits for its
 * connect a short while only (probeWaitMs): when the host black-holes
 * connections, a probe that waited out the connect timeout would hold its
 * container for 3 s at every back-off, two thirds of the function's
 * containers at any moment of the outage, and Lambda would throttle again.
 * Past that wait the request gets its 503 and the connect goes on alone; its
 * outcome still closes or reopens the breaker, and a connection it opens
 * goes to the pool for the next request.
 *
 * State is in-process only: each container decides for itself, as each has
 * its own connection. What opens it is a failed attempt to *reach* the
 * database (refused, reset, timed out, the session ended while connecting,
 * the server starting up or shutting down). What does not: anything the
 * server answered (a wrong password, too many connections, no such database,
 * a statement or constraint error), which proves it is reachable.
 *
 * A connection lost while idle or in use does not open it either, since
 * `pg_terminate_backend` looks the same as a failover and the next connect
 * tells the two apart; but it makes the breaker *suspect* (`suspect()`):
 * that next connect is run as a probe whose request waits suspectWaitMs at
 * most, the request latency the API's throttles assume (DB_RECONNECT_WAIT_MS,
 * apiRequestMs when deployed). A failover ends every container's sessions at
 * the same moment, and if each container's next request then waited out a
 * connect timeout to a host that black-holes connections, every container of
 * the function would be held for 3 s at once and Lambda would throttle (API
 * Gateway's 500); held no longer than the throttles allow for, they cannot
 * be. Either wait is only for a silent host: a connect that has had bytes
 * from the server (`serverAnswered()`) is slow, not black-holed, and its
 * request waits on for it, within the connect timeout.
 */
import { isConnectionLost } from './errors.js';

export interface BreakerOptions {
  /** The first back-off after a failure, before jitter. */
  firstBackOffMs?: number;
  /** Back-offs double while probes keep failing, up to this. */
  maxBackOffMs?: number;
  /** How long the probing request waits for its connect before it answers 503. */
  probeWaitMs?: number;
  /** The same after a lost connection (suspect): at most the request latency the API's throttles assume. */
  suspectWaitMs?: number;
  /** A monotonic clock in ms; tests pass their own. */
  now?: () => number;
  /** In [0, 1); tests pass their own. */
  random?: () => number;
  /** Calls `fire` after `ms` unless cancelled; tests pass their own. */
  timer?: (ms: number, fire: () => void) => () => void;
}

/**
 * The defaults. The longest back-off bounds how late a container notices that
 * the database is back: at most 2 s after it returns when connections are
 * refused meanwhile, 2 s plus one connect timeout when the host black-holes
 * them (a probe already waiting then must time out first). It is also the
 * Retry-After the API answers (lib/http/errors.ts). The probe's wait is far
 * above the time a database that is back takes to answer a connect
 * (milliseconds in a VPC), far below the connect timeout, and short enough
 * that probes, which the jitter spreads, keep few of a function's containers
 * busy at once (0.5 s probes still let a black-holed emulated outage reach
 * all 10 of a function's containers now and then: docs/reliability.md).
 * suspectWaitMs is apiRequestMs's default.
 */
export const breakerDefaults = {
  firstBackOffMs: 500,
  maxBackOffMs: 2000,
  probeWaitMs: 200,
  suspectWaitMs: 50,
} as const;

const realTimer = (ms: number, fire: () => void) => {
  const timer = setTimeout(fire, ms);
  return () => clearTimeout(timer);
};

/**
 * What an open breaker throws instead of connecting. SQLSTATE 08001
 * (sqlclient_unable_to_establish_sqlconnection) is what it is, and class 08
 * is already "connection lost" to lib/db/errors.ts, so it becomes the same
 * 503 as the failure that opened the breaker.
 */
export class BreakerOpenError extends Error {
  readonly code = '08001';
  constructor(
    /** ms until the next request may probe. */
    readonly retryInMs: number,
    cause: unknown,
  ) {
    super('the database was unreachable moments ago; not connecting again until the back-off ends', { cause });
    this.name = 'BreakerOpenError';
  }
}

/** A failed connect that says the database could not be reached (rather than that it answered no). */
export function isUnreachable(error: unknown): boolean {
  return !(error instanceof BreakerOpenError) && isConnectionLost(error);
}

export type BreakerState = 'closed' | 'suspect' | 'open' | 'probing';

export class DatabaseBreaker {
  readonly #firstBackOffMs: number;
  readonly #maxBackOffMs: number;
  readonly #probeWaitMs: number;
  readonly #suspectWaitMs: number;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #timer: (ms: number, fire: () => void) => () => void;
  #state: BreakerState = 'closed';
  /** While open: when a request may probe. */
  #retryAt = 0;
  /** The back-off before jitter that the next failure doubles. */
  #backOffMs = 0;
  #lastFailure: unknown;
  /** Whether a connect opened since the current probe began has had bytes from the server. */
  #heard = false;

  constructor(options: BreakerOptions = {}) {
    this.#firstBackOffMs = options.firstBackOffMs ?? breakerDefaults.firstBackOffMs;
    this.#maxBackOffMs = options.maxBackOffMs ?? breakerDefaults.maxBackOffMs;
    this.#probeWaitMs = options.probeWaitMs ?? breakerDefaults.probeWaitMs;
    this.#suspectWaitMs = options.suspectWaitMs ?? breakerDefaults.suspectWaitMs;
    this.#now = options.now ?? (() => performance.now());
    this.#random = options.random ?? Math.random;
    this.#timer = options.timer ?? realTimer;
  }

  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Runs one connect attempt through the breaker: refused at once while open
   * (or while another request's probe is under way); a success closes it, a
   * failure to reach the database opens it. A probe's request is answered
   * after probeWaitMs at most; what its attempt yields later goes to
   * `abandoned` (a connection, to be given back to the pool).
   */
  guard<T>(attempt: () => Promise<T>, abandoned?: (result: T) => void): Promise<T> {
    if (this.#state === 'probing') return Promise.reject(new BreakerOpenError(0, this.#lastFailure));
    if (this.#state === 'suspect') {
      this.#state = 'probing';
      return this.#probe(this.#attempt(attempt), this.#suspectWaitMs, abandoned);
    }
    if (this.#state === 'open') {
      const left = this.#retryAt - this.#now();
      if (left > 0) return Promise.reject(new BreakerOpenError(left, this.#lastFailure));
      this.#state = 'probing';
      return this.#probe(this.#attempt(attempt), this.#probeWaitMs, abandoned);
    }
    return this.#attempt(attempt);
  }

  #attempt<T>(attempt: () => Promise<T>): Promise<T> {
    // One .then on the request's path (no async function around it): the
    // warm path pays one promise, not three.
    let attempted: Promise<T>;
    try {
      attempted = attempt();
    } catch (error) {
      attempted = Promise.reject(error);
    }
    return attempted.then(
      (result) => {
        if (this.#state !== 'closed') this.#close();
        return result;
      },
      (error: unknown) => {
        // A probe nested in this attempt (a pooled connection found dead) decides the state itself.
        if (error instanceof BreakerOpenError) throw error;
        if (isUnreachable(error)) this.#open(error);
        else this.#close();
        throw error;
      },
    );
  }

  /** The probe's request: its attempt's outcome, or a 503 once probeWaitMs is over. */
  #probe<T>(attempted: Promise<T>, waitMs: number, abandoned?: (result: T) => void): Promise<T> {
    const lastFailure = this.#lastFailure;
    this.#heard = false;
    return new Promise<T>((resolve, reject) => {
      let waiting = true;
      const cancel = this.#timer(waitMs, () => {
        if (this.#heard) return;
        waiting = false;
        reject(new BreakerOpenError(0, lastFailure));
      });
      attempted.then(
        (result) => {
          if (waiting) {
            waiting = false;
            cancel();
            resolve(result);
          } else abandoned?.(result);
        },
        (error: unknown) => {
          if (!waiting) return;
          waiting = false;
          cancel();
          reject(error);
        },
      );
    });
  }

  /**
   * A connection being opened for this container got its first bytes from
   * the server: the host is there. A probe past its wait then waits on for
   * its connect (bounded by the connect timeout): a slow connect, TLS and
   * authentication to a busy instance, is not a black hole, and a 503 for it
   * would only send the client away from a database that is back.
   */
  serverAnswered(): void {
    this.#heard = true;
  }

  /**
   * A connection of this container was lost (idle or in use): the next
   * connect is a probe. Nothing changes while a failure already opened it.
   */
  suspect(): void {
    if (this.#state === 'closed') this.#state = 'suspect';
  }

  /**
   * For an attempt that found its pooled connection lost and connects anew:
   * that connect runs as a probe (suspect, then guard), unless this attempt
   * already is the probe, whose wait bounds the request already.
   */
  probeAfterLoss<T>(attempt: () => Promise<T>, abandoned?: (result: T) => void): Promise<T> {
    if (this.#state === 'probing') return attempt();
    this.suspect();
    return this.guard(attempt, abandoned);
  }

  #open(error: unknown): void {
    this.#backOffMs = this.#backOffMs === 0 ? this.#firstBackOffMs : Math.min(this.#maxBackOffMs, this.#backOffMs * 2);
    // Equal jitter (half fixed, half random): containers that failed together
    // do not all probe together.
    const wait = this.#backOffMs / 2 + (this.#random() * this.#backOffMs) / 2;
    this.#retryAt = this.#now() + wait;
    this.#lastFailure = error;
    this.#state = 'open';
  }

  #close(): void {
    this.#state = 'closed';
    this.#backOffMs = 0;
    this.#lastFailure = undefined;
  }
}
