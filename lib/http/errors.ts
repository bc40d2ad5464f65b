/**
 * The one place where errors become HTTP: a problem the code raised on
 * purpose goes out as it is, a database that cannot serve us becomes a 503
 * with Retry-After, and anything else a 500 that says nothing internal.
 */
import { isDatabaseUnavailable } from '../db/errors.js';
import { HttpProblem, problemTypes } from './problem.js';

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
