/**
 * The only `pg` client class the API creates: pg-pool makes its clients with
 * it (the Pool's `Client` option) and Kysely makes its query-cancel
 * connection with it (the pool's `Client`), so no path can open a connection
 * that nobody listens to.
 *
 * Why: a `pg` client emits 'error' whenever its connection fails outside a
 * query (FATAL 57P01 on a server shutdown, a reset socket), and an 'error'
 * event without a listener is an uncaught exception that ends the process
 * (the Lambda container, or `npm start` itself). pg-pool listens only while a
 * client sits idle in the pool; a client being connected, validated, used by a
 * request, a transaction, the migrator, or opened by Kysely to cancel a query
 * had windows with no listener at all (issue 10).
 */
import pg from 'pg';
import { logger } from '../logger.js';
import { isConnectionLost } from './errors.js';

export class GuardedClient extends pg.Client {
  /** Why its connection is known to be gone; undefined while it may still work. */
  #lost: Error | undefined;

  constructor(config?: string | (pg.ClientConfig & { onServerBytes?: () => void })) {
    super(config);
    // The pool's breaker asks whether a connect in progress has heard from
    // the server: one that answers is slow, not black-holed (breaker.ts).
    const heard = typeof config === 'object' ? config.onServerBytes : undefined;
    if (heard)
      (this as unknown as { connection: { stream?: NodeJS.EventEmitter } }).connection.stream?.once('data', heard);
    // From birth, before connect(): the listener is there in every state.
    this.on('error', (error: Error) => {
      if (this.#lost === undefined) logger.warn('database connection lost', { error });
      this.#lost ??= error;
    });
  }

  /**
   * While a request holds it: the time (performance.now()) by which the
   * request's database work must be over. Each statement's client-side
   * timeout is cut to what is left, so however many statements a request runs
   * and however the server misbehaves, its answer comes by then.
   */
  deadline: number | undefined;

  /** Its connection failed: it must be destroyed, never handed out again. */
  get lost(): boolean {
    return this.#lost !== undefined;
  }

  // One signature that fits all of pg's overloads.
  override query(config: any, values?: any, callback?: any): any {
    const promised = typeof config?.submit !== 'function' && typeof values !== 'function' && callback === undefined;
    // A session the server ended (FATAL) answers its query with that error
    // and closes the socket a moment later; a statement sent in between would
    // wait for that close. Fail it at once instead (a 503, not a hang).
    if (this.#lost !== undefined && promised) {
      return Promise.reject(new Error(`Connection terminated earlier: ${this.#lost.message}`, { cause: this.#lost }));
    }
    if (this.deadline !== undefined && promised) {
      const left = Math.floor(this.deadline - performance.now());
      if (left <= 0) return Promise.reject(budgetSpent());
      const text = typeof config === 'string' ? { text: config, values } : config;
      const defaults = (this as unknown as { connectionParameters: { query_timeout?: number } }).connectionParameters;
      const configured = text.query_timeout ?? defaults.query_timeout ?? left;
      config = { ...text, query_timeout: Math.min(configured, left) };
      values = undefined;
    }
    const result = super.query(config, values, callback);
    if (promised) {
      (result as unknown as Promise<unknown>).catch((error: unknown) => {
        if (isConnectionLost(error)) this.#lost ??= error as Error;
      });
    }
    return result;
  }
}

/** The request's time for the database is over: a 503 (query_canceled), and nothing was sent. */
function budgetSpent(): Error {
  return Object.assign(new Error("canceling statement: the request's time for the database is spent"), {
    code: '57014',
  });
}
