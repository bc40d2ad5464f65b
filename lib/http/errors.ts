/**
 * The one place where errors become HTTP: a problem the code raised on
 * purpose goes out as it is, a database that cannot serve us becomes a 503
 * with Retry-After, and anything else a 500 that says nothing internal.
 */
import { HttpProblem, problemTypes } from './problem.js';

// SQLSTATE classes and codes that mean "the database cannot serve this now",
// as opposed to "this statement is wrong".
const unavailableSqlStates = new Set([
  '53300', // too_many_connections
  '53400', // configuration_limit_exceeded
  '57014', // query_canceled: our statement_timeout fired
  '55P03', // lock_not_available: lock_timeout fired
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '58000', // system_error
  '28000', // invalid_authorization_specification
  '28P01', // invalid_password
  '3D000', // invalid_catalog_name: the database does not exist
]);
const unavailableErrnos = new Set([
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
const unavailableMessages = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /client has encountered a connection error/i,
  /cannot use a pool after calling end/i,
];

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (unavailableSqlStates.has(code) || code.startsWith('08') || unavailableErrnos.has(code)) return true;
    }
    if (e instanceof AggregateError && e.errors.some(isDatabaseUnavailable)) return true;
    if (unavailableMessages.some((pattern) => pattern.test(e instanceof Error ? e.message : ''))) return true;
  }
  return false;
}

/** Seconds a client should wait before retrying after a 503. */
export const retryAfterSeconds = 2;

export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (isDatabaseUnavailable(error)) {
    return new HttpProblem(
      503,
      problemTypes.databaseUnavailable,
      'Service temporarily unavailable',
      'The database is not reachable or too busy right now. Retry after the time in the Retry-After header.',
      undefined,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
  return new HttpProblem(
    500,
    problemTypes.internal,
    'Internal server error',
    'Something went wrong on our side. If it persists, report the requestId of this response.',
  );
}
