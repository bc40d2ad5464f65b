/**
 * The one database module: a Kysely instance over a `pg` Pool, created once
 * per Lambda container (module scope) and reused by every invocation.
 */
import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import { type DatabaseSettings, readDatabaseSettings } from '../config.js';
import { logger } from '../logger.js';
import { type SecretReader, secretPassword, tlsOptions } from './credentials.js';
import { isConnectionLost } from './errors.js';
import type { Database } from './schema.js';

export type { Database } from './schema.js';

export interface DatabaseHandle {
  db: Kysely<Database>;
  pool: pg.Pool;
}

export interface DatabaseOptions {
  /** How the Secrets Manager secret is read; tests replace the AWS call. */
  readSecret?: SecretReader;
}

export function createDatabase(settings: DatabaseSettings, options: DatabaseOptions = {}): DatabaseHandle {
  const secret = settings.secretArn
    ? secretPassword(settings.secretArn, settings.connection.user, options.readSecret)
    : undefined;
  const pool = new pg.Pool({
    ...settings.connection,
    ...(secret ? { password: secret.password } : {}),
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
  });
  // Without a listener, an idle client's socket error (server restart,
  // pg_terminate_backend) is an unhandled 'error' event that kills the process.
  // pg-pool already drops that client; this keeps the container alive.
  pool.on('error', (error) => {
    logger.warn('idle database connection failed and was dropped', { error });
  });
  const db = new Kysely<Database>({
    dialect: new PostgresDialect({ pool: validatingPool(pool, settings.validateAfterIdleMs, secret?.forget) }),
  });
  return { db, pool };
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
function validatingPool(pool: pg.Pool, validateAfterIdleMs: number, forgetPassword?: () => void): PostgresPool {
  /** What we know about one client: one lookup per checkout, where separate sets took six. */
  interface Tracked {
    /** When the pool last got it back; unset until then. */
    releasedAt?: number;
    /** Its connection failed: destroy it on release, never hand it out again. */
    broken: boolean;
    inUse: boolean;
    guarded: boolean;
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
        broken: false,
        inUse: false,
        guarded: false,
        release: (destroy) => {
          created.inUse = false;
          created.poolRelease?.(created.broken ? new Error('connection lost') : destroy);
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

  const guard = (client: pg.PoolClient, state: Tracked) => {
    state.guarded = true;
    // pg-pool removes its error listener while a client is checked out and
    // Kysely adds none, so a connection dropping mid-query would emit an
    // unhandled 'error' and crash the container. The query's own promise
    // already rejects with the same error.
    client.on('error', (error) => {
      state.broken = true;
      // An idle client's error is pg-pool's to report (pool.on('error') above).
      if (state.inUse) logger.warn('database connection failed during a request', { error });
    });
    // A FATAL error (pg_terminate_backend, failover) reaches the query before
    // the socket's end does; remember it so the client is destroyed on
    // release instead of being handed to the next request.
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const result = query(...args);
      if (typeof (result as Promise<unknown> | undefined)?.catch === 'function') {
        (result as Promise<unknown>).catch((error: unknown) => {
          if (isConnectionLost(error)) state.broken = true;
        });
      }
      return result;
    }) as typeof client.query;
  };

  const checkOut = (client: pg.PoolClient, state: Tracked): PostgresPoolClient => {
    if (!state.guarded) guard(client, state);
    state.inUse = true;
    state.poolRelease = client.release;
    client.release = state.release;
    return client;
  };

  // The managed password was rotated since this container read it: this
  // request fails (503), the next one reads the secret again.
  const forgetRotatedPassword = (error: unknown) => {
    if ((error as { code?: unknown } | undefined)?.code === '28P01') forgetPassword?.();
  };

  /** A client from the pool, validated if it sat idle long enough to have been dropped meanwhile. */
  const connect = (): Promise<PostgresPoolClient> =>
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
          const idleSince = state.releasedAt;
          const fresh = idleSince === undefined || Date.now() - idleSince < validateAfterIdleMs;
          resolve(fresh ? checkOut(client, state) : validate(client, state));
        } catch (failure) {
          reject(failure);
        }
      });
    });

  const validate = async (client: pg.PoolClient, state: Tracked): Promise<PostgresPoolClient> => {
    try {
      await client.query('SELECT 1');
      return checkOut(client, state);
    } catch (error) {
      logger.info('pooled database connection was dead; reconnecting', { error });
      // Destroys this client; the next connect() opens a new one, which is
      // not validated (it has never been released), so this ends.
      client.release(error as Error);
      return connect();
    }
  };

  return {
    connect: () => {
      const early = earlyConnection?.get(pool);
      if (!early) return connect();
      earlyConnection?.delete(pool);
      // The first request reports what the early connection ran into rather
      // than waiting a second connect timeout for the same unreachable
      // database; a success left the connection in the pool for connect().
      return early.then(connect, (error: unknown) => {
        forgetRotatedPassword(error);
        throw error;
      });
    },
    end: () => pool.end(),
    // Kysely uses these to open a side connection that cancels a query on abort.
    options: pool.options,
    Client: pg.Client,
  };
}

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
