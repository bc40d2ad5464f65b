/**
 * Configuration, read from the environment once per container and validated,
 * so that a missing or mistyped variable fails with a message naming it instead
 * of surfacing later as a confusing connection error.
 */
import type { PoolConfig } from 'pg';

/**
 * How the connection is encrypted: `off` (plain, the local default), or
 * `verify` (TLS with the server certificate checked against `caFile`, or the
 * Amazon RDS CA bundle shipped in the functions when `caFile` is unset).
 */
export type TlsSettings = { mode: 'off' } | { mode: 'verify'; caFile?: string };

export interface DatabaseSettings {
  /** What `pg` connects with: host, port, user, password, database. */
  connection: Pick<PoolConfig, 'connectionString' | 'host' | 'port' | 'user' | 'password' | 'database'>;
  /** Secrets Manager secret holding `{"username","password"}` (RDS-managed); the password is read from it at connect time. */
  secretArn?: string;
  /**
   * DB_AUTH=iam: the password is an RDS IAM authentication token signed in
   * the function from its own role's credentials, for this region.
   */
  iam?: { region: string };
  tls: TlsSettings;
  /** Human-readable target without the password, for logs and error messages. */
  description: string;
  poolMax: number;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  idleTimeoutMs: number;
  validateAfterIdleMs: number;
  /**
   * After the container lost a connection, how long a request waits for a
   * new one before it answers 503 (the connect goes on): the request latency
   * the API's throttles assume (apiRequestMs), so that a failover, which ends
   * every container's connection at once, holds no container longer than
   * the throttles allow for (lib/db/breaker.ts).
   */
  reconnectWaitMs: number;
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

type Connection = Pick<DatabaseSettings, 'connection' | 'description' | 'secretArn' | 'iam'> & { deployed?: boolean };

/** A PostgreSQL role name we are willing to put in SQL: lower case, unquoted, at most 63 bytes. */
const roleName = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The role the API connects as (DB_APP_USER, default `cats_api`): the
 * migrations create it with only SELECT, INSERT, UPDATE and DELETE on the
 * API's tables (lib/db/migrations.ts); the migrations themselves run as the
 * owner.
 */
export function readApplicationUser(env: Env = process.env): string {
  const user = env.DB_APP_USER || defaultApplicationUser;
  if (!roleName.test(user)) {
    throw new ConfigError(
      `DB_APP_USER must be a lower-case PostgreSQL role name (letters, digits, _; at most 63), got "${user}"`,
    );
  }
  return user;
}
export const defaultApplicationUser = 'cats_api';

/**
 * How a deployed function (DB_HOST) authenticates: `iam`, a token signed
 * from its own role's credentials (no secret anywhere), or `secret`, the
 * password in DB_SECRET_ARN (the migrate function, and an existing database
 * without IAM authentication).
 */
function authFrom(env: Env): Pick<Connection, 'secretArn' | 'iam'> {
  const mode = env.DB_AUTH || 'secret';
  if (mode !== 'iam' && mode !== 'secret') {
    throw new ConfigError(`DB_AUTH must be "iam" or "secret", got "${mode}"`);
  }
  const secretArn = env.DB_SECRET_ARN || undefined;
  if (mode === 'iam') {
    if (secretArn !== undefined) {
      throw new ConfigError('DB_AUTH=iam signs a token instead of reading a secret: unset DB_SECRET_ARN');
    }
    const region = env.AWS_REGION;
    if (!region || !/^[a-z]{2}(-[a-z]+)+-[0-9]+$/.test(region)) {
      throw new ConfigError(
        `DB_AUTH=iam needs AWS_REGION (which Lambda sets) to sign the token, got "${region ?? ''}"`,
      );
    }
    // The token is a bearer credential for 15 minutes, sent as the password:
    // only over a connection whose server has proved who it is.
    if (env.DB_SSL === 'off') {
      throw new ConfigError('DB_AUTH=iam sends a signed token as the password: it needs DB_SSL=verify, not DB_SSL=off');
    }
    return { iam: { region } };
  }
  if (secretArn !== undefined && !/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$/.test(secretArn)) {
    throw new ConfigError(`DB_SECRET_ARN must be a Secrets Manager secret ARN, got "${secretArn}"`);
  }
  return secretArn ? { secretArn } : {};
}

function connectionFrom(env: Env): Connection {
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
  // The deployed settings (serverless.yml): no password in the environment,
  // only the ARN of the secret that holds it.
  if (env.DB_HOST) {
    const missing = ['DB_USER', 'DB_NAME'].filter((name) => !env[name]);
    if (missing.length > 0) {
      throw new ConfigError(`DB_HOST is set but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not`);
    }
    const auth = authFrom(env);
    const port = integer(env, 'DB_PORT', 5432, 1, 65535);
    return {
      connection: { host: env.DB_HOST, port, user: env.DB_USER, database: env.DB_NAME },
      description: `postgres://${env.DB_USER}@${env.DB_HOST}:${port}/${env.DB_NAME}${auth.iam ? ' (IAM)' : ''}`,
      ...auth,
      deployed: true,
    };
  }
  throw new ConfigError(
    'No database configured: set DATABASE_URL (or POSTGRES_HOST, POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB). ' +
      '`npm start` sets it for you when it starts the embedded PostgreSQL.',
  );
}

function tlsFrom(env: Env, deployed: boolean): TlsSettings {
  // DB_HOST (the deployed path) is encrypted and verified unless told
  // otherwise; DATABASE_URL and POSTGRES_* stay as they always were.
  const mode = env.DB_SSL || (deployed ? 'verify' : 'off');
  if (mode !== 'off' && mode !== 'verify') {
    throw new ConfigError(`DB_SSL must be "verify" or "off", got "${mode}"`);
  }
  if (mode === 'off') return { mode };
  return env.DB_SSL_CA ? { mode, caFile: env.DB_SSL_CA } : { mode };
}

export function readDatabaseSettings(env: Env = process.env): DatabaseSettings {
  const { deployed = false, ...connection } = connectionFrom(env);
  return {
    ...connection,
    tls: tlsFrom(env, deployed),
    // One connection per container: Lambda runs one request at a time per
    // container, so more would only hold database slots idle.
    poolMax: integer(env, 'DB_POOL_MAX', 1, 1, 100),
    connectTimeoutMs: integer(env, 'DB_CONNECT_TIMEOUT_MS', 3000, 100, 600000),
    statementTimeoutMs: integer(env, 'DB_STATEMENT_TIMEOUT_MS', 5000, 100, 600000),
    idleTimeoutMs: integer(env, 'DB_IDLE_TIMEOUT_MS', 60000, 1000, 3600000),
    validateAfterIdleMs: integer(env, 'DB_VALIDATE_AFTER_IDLE_MS', 5000, 0, 3600000),
    reconnectWaitMs: integer(env, 'DB_RECONNECT_WAIT_MS', 50, 1, 600000),
  };
}

/** How long an Idempotency-Key is remembered (IDEMPOTENCY_TTL_SECONDS, default 24 h). */
export function readIdempotencyTtlSeconds(env: Env = process.env): number {
  return integer(env, 'IDEMPOTENCY_TTL_SECONDS', 24 * 60 * 60, 1, 30 * 24 * 60 * 60);
}
