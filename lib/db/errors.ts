/**
 * Telling database errors apart: "the connection is gone" and "the database
 * cannot serve us right now" are not bugs in the request, and are answered
 * (503) and handled (drop the connection) differently from a wrong statement.
 */

// SQLSTATEs after which the session is gone.
const connectionLostStates = new Set([
  '57P01', // admin_shutdown: pg_terminate_backend, server stopping
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
]);

// SQLSTATEs that mean "cannot serve this now" without the session being gone.
const busyStates = new Set([
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  '57014', // query_canceled: our statement_timeout fired
  '55P03', // lock_not_available: lock_timeout fired
  '58000', // system_error
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  '3D000', // invalid_catalog_name: the database does not exist
]);

const networkErrnos = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

// node-postgres reports these as plain Errors with no code.
const connectionLostMessages = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /client has encountered a connection error/i,
  /cannot use a pool after calling end/i,
];

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/**
 * Walks the error and its causes. Duck-typed rather than `instanceof Error`:
 * errors raised by Node itself come from another realm under some runners.
 */
function someError(error: unknown, test: (e: ErrorLike) => boolean): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  // Breadth-first over causes and AggregateError members, each visited once,
  // so a cycle or a deep chain cannot blow the stack of an error handler.
  while (pending.length > 0 && seen.size < 32) {
    const current = pending.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const e = current as ErrorLike;
    if (test(e)) return true;
    pending.push(e.cause, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return false;
}

/** The connection this error came from can no longer be used. */
export function isConnectionLost(error: unknown): boolean {
  return someError(error, (e) => {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    return (
      connectionLostStates.has(code) ||
      code.startsWith('08') ||
      networkErrnos.has(code) ||
      connectionLostMessages.some((pattern) => pattern.test(message))
    );
  });
}

/** The database cannot serve this request now; a retry later may succeed. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return isConnectionLost(error) || someError(error, (e) => typeof e.code === 'string' && busyStates.has(e.code));
}

/**
 * What a statement on one row found instead of doing its work: the row is
 * not there, or (with If-Match) it is at another version. The database layer
 * says what happened; lib/http/errors.ts decides what a client is answered.
 */
export class RowNotFound extends Error {
  override name = 'RowNotFound';
  constructor(
    /** The resource's noun ("cat"), for the message. */
    readonly noun: string,
    readonly id: number,
  ) {
    super(`${noun} ${id} does not exist`);
  }
}

export class VersionMismatch extends Error {
  override name = 'VersionMismatch';
  constructor(
    readonly noun: string,
    readonly id: number,
    /** The row's version now, which the client's If-Match did not name. */
    readonly currentVersion: number,
  ) {
    super(`${noun} ${id} is at version ${currentVersion}`);
  }
}

/**
 * A write the table's CHECK constraint refused (SQLSTATE 23514): which
 * constraint, and the column it is on when its name tells it. PostgreSQL
 * names the CHECK it makes for one column `<table>_<column>_check` (a second
 * one on the same column gets a digit after `check`, one over several
 * columns `<table>_check`), and a migration that names its own by that rule
 * is read the same way. Nothing of the refused row is kept: its values are
 * the client's, not for the answer.
 */
export interface CheckViolation {
  constraint: string;
  column?: string;
}

export function checkViolation(error: unknown): CheckViolation | undefined {
  const { code, constraint, table } = (error ?? {}) as { code?: unknown; constraint?: unknown; table?: unknown };
  if (code !== '23514') return undefined;
  const name = typeof constraint === 'string' ? constraint : '';
  const prefix = typeof table === 'string' ? `${table}_` : undefined;
  const column =
    prefix !== undefined && name.startsWith(prefix)
      ? /^([a-z_][a-z0-9_]*?)_check[0-9]*$/.exec(name.slice(prefix.length))?.[1]
      : undefined;
  return column === undefined ? { constraint: name } : { constraint: name, column };
}
