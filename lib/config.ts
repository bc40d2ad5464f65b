/**
 * Configuration, read from the environment once per container and validated,
 * so that a missing or mistyped variable fails with a message naming it instead
 * of surfacing later as a confusing connection error.
 */
import type { PoolConfig } from 'pg';

export interface DatabaseSettings {
  /** What `pg` connects with: host, port, user, password, database. */
  connection: Pick<PoolConfig, 'connectionString' | 'host' | 'port' | 'user' | 'password' | 'database'>;
  /** Human-readable target without the password, for logs and error messages. */
  description: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  idleTimeoutMs: number;
  validateAfterIdleMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = /^[0-9]{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (value < min || value > max || Number.isNaN(value)) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Masks the password of a postgres URL (also a `?password=` parameter, which pg honours) so it can be printed. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    for (const key of [...parsed.searchParams.keys()]) {
      if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    }
    return parsed.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

function connectionFrom(env: Env): Pick<DatabaseSettings, 'connection' | 'description'> {
  const url = env.DATABASE_URL;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://');
    }
    return { connection: { connectionString: url }, description: redactUrl(url) };
  }
  // The tutorial's variables (its database.conf): all or nothing, so a half-set
  // environment is reported rather than silently mixed with defaults.
  if (env.POSTGRES_HOST) {
    const missing = ['POSTGRES_USER', 'POSTGRES_DB'].filter((name) => !env[name]);
    if (missing.length > 0) {
      throw new ConfigError(
        `POSTGRES_HOST is set but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not`,
      );
    }
    const port = integer(env, 'POSTGRES_PORT', 5432, 1, 65535);
    return {
      connection: {
        host: env.POSTGRES_HOST,
        port,
        user: env.POSTGRES_USER,
        password: env.POSTGRES_PASSWORD,
        database: env.POSTGRES_DB,
      },
      description: `postgres://${env.POSTGRES_USER}@${env.POSTGRES_HOST}:${port}/${env.POSTGRES_DB}`,
    };
  }
  throw new ConfigError(
    'No database configured: set DATABASE_URL (or POSTGRES_HOST, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB). ' +
      '`npm start` sets it for you when it starts the embedded PostgreSQL.',
  );
}

export function readDatabaseSettings(env: Env = process.env): DatabaseSettings {
  return {
    ...connectionFrom(env),
    // One connection per container: Lambda runs one request at a time per
    // container, so more would only hold database slots idle.
    poolMax: integer(env, 'DB_POOL_MAX', 1, 1, 100),
    connectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 3000, 100, 60000),
    statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 5000, 100, 600000),
    idleTimeoutMs: integer(env, 'DB_IDLE_TIMEOUT_MS', 60000, 1000, 3600000),
    validateAfterIdleMs: integer(env, 'DB_VALIDATE_AFTER_IDLE_MS', 5000, 0, 3600000),
  };
}

/** How long an Idempotency-Key is remembered (IDEMPOTENCY_TTL_SECONDS, default 24 h). */
export function readIdempotencyTtlSeconds(env: Env = process.env): number {
  return integer(env, 'IDEMPOTENCY_TTL_SECONDS', 24 * 60 * 60, 1, 30 * 24 * 60 * 60);
}
