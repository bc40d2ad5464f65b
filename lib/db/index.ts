/**
 * The one database module: a Kysely instance over a `pg` Pool, created once
 * per Lambda container (module scope) and reused by every invocation.
 */
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { type DatabaseSettings, readDatabaseSettings } from '../config.js';
import { logger } from '../logger.js';
import { DatabaseBreaker } from './breaker.js';
import { GuardedClient } from './client.js';
import { type SecretReader, secretPassword, tlsOptions } from './credentials.js';
import type { Database } from './schema.js';

export type { Database } from './schema.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
  /**
   * The same pool without the per-request time budget, for migrations: their
   * statements, each under the statement timeout, may add up to more.
   */
  unbudgeted(): Kysely<Database>;
}

export interface DatabaseOptions {
  /** How the Secrets Manager secret is read; tests replace the AWS call. */
  readSecret?: SecretReader;
}

export function createDatabase(settings: DatabaseSettings, options: DatabaseOptions = {}): DatabaseHandle {
  const secret = settings.secretArn
    ? secretPassword(settings.secretArn, settings.connection.user, options.readSecret)
    : undefined;
  const password = secret?.password ?? (settings.iam ? iamPassword(settings) : undefined);
  // One per pool, so per container: a container that just failed to reach
  // the database answers 503 at once instead of waiting on connects.
  const breaker = new DatabaseBreaker({ suspectWaitMs: settings.reconnectWaitMs });
  const pool = new pg.Pool({
    // Every client listens for 'error' from its birth (lib/db/client.ts).
    Client: GuardedClient,
    // pg-pool hands its options to each client it makes (GuardedClient).
    ...({ onServerBytes: () => breaker.serverAnswered() } as object),
    ...settings.connection,
    ...(password ? { password } : {}),
    ssl: tlsOptions(settings.tls),
    max: settings.poolMax,
    connectionTimeoutMillis: settings.connectTimeoutMs,
    idleTimeoutMillis: settings.idleTimeoutMs,
    // The server cancels a stuck statement; the client-side timeout covers a
    // server that stopped answering altogether (network partition).
    statement_timeout: settings.statementTimeoutMs,
    query_timeout: settings.statementTimeoutMs + 1000,
    lock_timeout: settings.statementTimeoutMs,
    idle_in_transaction_session_timeout: settings.statementTimeoutMs * 2,
    keepAlive: true,
    application_name: 'cats-api',
    // Lets `sls invoke local` and scripts exit once the handler is done.
    allowExitOnIdle: true,
    types,
  });
  // pg-pool re-emits an idle client's error on the pool, where an 'error'
  // without a listener would kill the process. The client already logged it
  // (GuardedClient) and pg-pool drops it. A lost idle connection (a failover
  // ends every session) makes the next connect a probe, whose request waits
  // a short while only.
  pool.on('error', () => breaker.suspect());
  // What a request may spend on the database, from asking for a connection
  // to its last statement: one connect timeout (or the 1 s validation of an
  // idle connection and a new connect) plus one statement timeout. However a
  // restart, failover or frozen server plays out, its answer comes by then.
  const budgetMs = settings.connectTimeoutMs + settings.statementTimeoutMs;
  const kysely = (budget: number | undefined) =>
    new Kysely<Database>({
      dialect: new PostgresDialect({
        pool: validatingPool(pool, settings.validateAfterIdleMs, budget, breaker, secret?.forget),
      }),
    });
  const db = kysely(budgetMs);
  let unbudgeted: Kysely<Database> | undefined;
  return { db, pool, unbudgeted: () => (unbudgeted ??= kysely(undefined)) };
}

/** PostgreSQL's type OID of `date`. */
const dateOid = 1082;
const asWritten = (text: string) => text;

/**
 * How this pool's clients read values: a `date` as PostgreSQL writes it
 * (`2026-03-01`), the text lib/fields.ts's `date()` checks and the API
 * answers, where node-postgres would make a JavaScript Date at local
 * midnight, which is another day in a time zone west of UTC and which
 * `rowToJson` would answer as a time. Per pool (the Client's `types`
 * option, which Kysely's cancel connection gets too), not pg's global
 * parsers, so no other code that imports pg is changed by importing this.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === dateOid ? asWritten : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * DB_AUTH=iam: the token signer, loaded on the first connection only, so a
 * function in secret mode (or a local run) never loads it, and one in IAM
 * mode never loads the Secrets Manager client.
 */
function iamPassword(settings: DatabaseSettings): () => Promise<string> {
  const { host, port, user } = settings.connection;
  const region = settings.iam?.region ?? '';
  let password: Promise<() => Promise<string>> | undefined;
  return async () => {
    password ??= import('./iam-token.js').then(({ iamTokenPassword }) =>
      iamTokenPassword({ host: host ?? '', port: port ?? 5432, user: user ?? '', region }),
    );
    return (await password)();
  };
}

/**
 * A pool whose clients are checked with a cheap `SELECT 1` when they were idle
 * longer than `validateAfterIdleMs`. A Lambda container is frozen between
 * invocations, so its connection may have been closed by the server, an RDS
 * failover or a NAT timeout while nobody was listening. Finding that out with
 * the ping (which is safe to repeat) rather than with the request's own
 * statement (which may or may not have run) lets us retry with a fresh
 * connection without ever running a write twice.
 */
function validatingPool(
  pool: pg.Pool,
  validateAfterIdleMs: number,
  budgetMs: number | undefined,
  breaker: DatabaseBreaker,
  forgetPassword?: () => void,
): PostgresPool {
  /** What we know about one client: one lookup per checkout, where separate sets took six. */
  interface Tracked {
    /** When the pool last got it back; unset until then. */
    releasedAt?: number;
    /** pg-pool's release for the current checkout. */
    poolRelease?: (error?: boolean | Error) => void;
    /** Ours, made once per client rather than once per checkout. */
    release: (destroy?: boolean | Error) => void;
  }
  const clients = new WeakMap<pg.PoolClient, Tracked>();
  const tracked = (client: pg.PoolClient): Tracked => {
    let state = clients.get(client);
    if (state === undefined) {
      const created: Tracked = {
        // A client whose connection failed (FATAL 57P01 from a restarting
        // server, a reset socket) is destroyed on release instead of being
        // handed to the next request.
        release: (destroy) => {
          const guarded = client as unknown as GuardedClient;
          guarded.deadline = undefined;
          if (guarded.lost) breaker.suspect();
          created.poolRelease?.(guarded.lost ? new Error('connection lost') : destroy);
        },
      };
      state = created;
      clients.set(client, state);
    }
    return state;
  };
  pool.on('release', (_error, client) => {
    tracked(client).releasedAt = Date.now();
  });

  const checkOut = (client: pg.PoolClient, state: Tracked, askedAt: number): PostgresPoolClient => {
    if (budgetMs !== undefined) (client as unknown as GuardedClient).deadline = askedAt + budgetMs;
    state.poolRelease = client.release;
    client.release = state.release;
    return client;
  };

  // The managed password was rotated since this container read it: this
  // request fails (503), the next one reads the secret again.
  const forgetRotatedPassword = (error: unknown) => {
    if ((error as { code?: unknown } | undefined)?.code === '28P01') forgetPassword?.();
  };

  /** A probe's connection that came after its request gave up: the pool's, for the next request. */
  const giveBack = (client: PostgresPoolClient) => client.release();

  /** A client from the pool, validated if it sat idle long enough to have been dropped meanwhile. */
  const connect = (askedAt: number): Promise<PostgresPoolClient> =>
    // pg-pool's callback form: its promise form adds two promises and two
    // turns of the microtask queue to every checkout.
    new Promise((resolve, reject) => {
      pool.connect((error, client) => {
        if (error || !client) {
          forgetRotatedPassword(error);
          reject(error);
          return;
        }
        // A throw here would escape into pg-pool's process.nextTick.
        try {
          const state = tracked(client);
          if ((client as unknown as GuardedClient).lost) {
            // Failed while idle and not yet removed by pg-pool: take another,
            // as a probe (the release made the breaker suspect).
            client.release(new Error('connection lost'));
            resolve(breaker.probeAfterLoss(() => connect(askedAt), giveBack));
            return;
          }
          const idleSince = state.releasedAt;
          const fresh = idleSince === undefined || Date.now() - idleSince < validateAfterIdleMs;
          resolve(fresh ? checkOut(client, state, askedAt) : validate(client, state, askedAt));
        } catch (failure) {
          reject(failure);
        }
      });
    });

  const validate = async (client: pg.PoolClient, state: Tracked, askedAt: number): Promise<PostgresPoolClient> => {
    try {
      // Bounded well below the statement timeout: a live server answers in
      // milliseconds, and a connection that does not is replaced, not waited on.
      // (pg reads query_timeout from the query config; its types lack it.)
      await client.query({ text: 'SELECT 1', query_timeout: validateTimeoutMs } as pg.QueryConfig);
      // The server may end the session right after answering (a FATAL in the
      // same packet as the answer): then this client is already lost.
      if ((client as unknown as GuardedClient).lost) throw new Error('Connection terminated after validation');
      return checkOut(client, state, askedAt);
    } catch (error) {
      logger.info('pooled database connection was dead; reconnecting', { error });
      // Destroys this client; the next connect() opens a new one, which is
      // not validated (it has never been released), so this ends. That
      // connect is a probe: a container thawed after a failover must not
      // wait out a connect timeout to a host that black-holes connections.
      client.release(error as Error);
      return breaker.probeAfterLoss(() => connect(askedAt), giveBack);
    }
  };

  const firstConnect = (): Promise<PostgresPoolClient> => {
    const askedAt = performance.now();
    const early = earlyConnection?.get(pool);
    if (!early) return connect(askedAt);
    earlyConnection?.delete(pool);
    // The first request reports what the early connection ran into rather
    // than waiting a second connect timeout for the same unreachable
    // database; a success left the connection in the pool for connect().
    return early.then(
      () => connect(askedAt),
      (error: unknown) => {
        forgetRotatedPassword(error);
        throw error;
      },
    );
  };

  return {
    connect: () => breaker.guard(firstConnect, giveBack),
    end: () => pool.end(),
    // Kysely uses these to open a side connection that cancels a query on abort.
    options: pool.options,
    Client: GuardedClient,
  };
}

/** How long the `SELECT 1` that checks an idle connection may take. */
export const validateTimeoutMs = 1000;

let shared: DatabaseHandle | undefined;
let earlyConnection: WeakMap<pg.Pool, Promise<void>> | undefined;

/**
 * Starts opening the container's first connection (secret, TCP, TLS,
 * authentication, the server forking its backend) while the rest of the cold
 * start runs: loading and first-running the code that parses the request and
 * builds the query, which is CPU work the network and the database's own
 * start-up can hide behind. Without it a cold start pays both, one after the
 * other. Called at module load in a Lambda container only; a missing setting
 * is left for the first request to report.
 */
export function connectEarly(): void {
  let handle: DatabaseHandle;
  try {
    handle = getDatabase();
  } catch {
    return;
  }
  const opening = handle.pool.connect().then((client) => client.release());
  // Handled here, reported by the first request (validatingPool.connect).
  opening.catch(() => {});
  earlyConnection ??= new WeakMap();
  earlyConnection.set(handle.pool, opening);
}

/** The container's database, created on first use from the environment. */
export function getDatabase(): DatabaseHandle {
  shared ??= createDatabase(readDatabaseSettings());
  return shared;
}

export function db(): Kysely<Database> {
  return getDatabase().db;
}

/** Closes the container's pool; for scripts and tests, not for handlers. */
export async function closeDatabase(): Promise<void> {
  const current = shared;
  shared = undefined;
  await current?.db.destroy();
}

// Lambda sets this in every container (so do serverless-offline and
// `sls invoke local`); tests and scripts open their connections themselves.
if (process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined) connectEarly();
