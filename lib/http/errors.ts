/**
 * The one place where errors become HTTP: a problem the code raised on
 * purpose goes out as it is, a row the database layer did not find is a 404
 * and one at another version than If-Match named a 412, a database that cannot serve us becomes a 503
 * with Retry-After, a write that breaks a unique or foreign key constraint
 * becomes a 409 or 422 naming the field, one a CHECK refused a 422 (naming
 * the field when the constraint's name tells it), and anything else a 500
 * that says nothing internal.
 */
import { checkViolation, isDatabaseUnavailable, RowNotFound, VersionMismatch } from '../db/errors.js';
import { etagOf } from './conditional.js';
import { fieldError, HttpProblem, notFoundProblem, problemTypes } from './problem.js';

/** Seconds a client should wait before retrying after a 503. */
export const retryAfterSeconds = 2;

/** `owner_id` -> `ownerId`: API fields are the columns' names in camelCase. */
const fieldName = (column: string) => column.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

interface ConstraintError {
  code?: unknown;
  detail?: unknown;
  constraint?: unknown;
}

/**
 * The columns of the key in a constraint error's detail: `Key (email)=(...)`,
 * `Key (owner_id, name)=(...)`, or an expression index's `Key
 * (lower(email::text))=(...)`, whose column is the name inside the calls.
 */
function keyColumns(detail: string): string[] {
  const key = /^Key \((.*?)\)=\(/.exec(detail)?.[1];
  if (key === undefined) return [];
  return key
    .split(', ')
    .map((part) => /([a-z_][a-z0-9_]*)(?:::[a-z ]+)?\)*$/.exec(part.trim())?.[1])
    .filter((column): column is string => column !== undefined);
}

/**
 * A unique or foreign key violation, told from PostgreSQL's own error: its
 * SQLSTATE and the key in its detail ("Key (email)=(...) already exists.").
 * The values are never echoed back; the column names become field names.
 */
function constraintProblem(error: unknown): HttpProblem | undefined {
  const { code, detail, constraint } = (error ?? {}) as ConstraintError;
  if (code !== '23505' && code !== '23503') return undefined;
  const text = typeof detail === 'string' ? detail : '';
  const columns = keyColumns(text).map(fieldName);
  // Without the key's columns there is no field to name; a primary key is
  // never the client's to choose (ids are generated): both are our bugs.
  if (columns.length === 0 || (typeof constraint === 'string' && constraint.endsWith('_pkey'))) return undefined;
  const table = /table "([^"]+)"/.exec(text)?.[1] ?? 'another table';
  if (code === '23505') {
    const errors = columns.map((field) => fieldError('body', [field], 'is already taken: it must be unique'));
    return new HttpProblem(
      409,
      problemTypes.conflict,
      'Conflict',
      `${columns.join(' and ')} is already taken: it must be unique`,
      errors,
    );
  }
  if (/is still referenced/.test(text)) {
    return new HttpProblem(
      409,
      problemTypes.conflict,
      'Conflict',
      `rows of ${table} still refer to it: change or remove them first`,
    );
  }
  const errors = columns.map((field) => fieldError('body', [field], `must be the id of an existing row of ${table}`));
  return new HttpProblem(
    422,
    problemTypes.unknownReference,
    'Unknown reference',
    `${columns.join(' and ')} must be the id of an existing row of ${table}`,
    errors,
  );
}

/**
 * A value the table's CHECK refused: the client's doing (a rule of the data
 * its schema did not state, or not wholly), so a 422, never a 500. Neither the
 * row's values nor the constraint's text are told.
 */
function checkProblem(error: unknown): HttpProblem | undefined {
  const violation = checkViolation(error);
  if (!violation) return undefined;
  if (violation.column === undefined) {
    return new HttpProblem(
      422,
      problemTypes.constraintViolation,
      'Breaks a rule of the data',
      'the request breaks a rule the stored data must follow: change the values it sends',
    );
  }
  const field = fieldName(violation.column);
  return new HttpProblem(
    422,
    problemTypes.constraintViolation,
    'Breaks a rule of the data',
    `${field} breaks a rule the stored data must follow`,
    [fieldError('body', [field], 'breaks a rule the stored data must follow')],
  );
}

function preconditionFailed(what: string, currentVersion: number): HttpProblem {
  return new HttpProblem(
    412,
    problemTypes.preconditionFailed,
    'Precondition failed',
    `if-match does not match: ${what} has changed since you read it (its ETag is now ${etagOf(currentVersion)}); get it again, then retry`,
    [{ field: 'if-match', in: 'header', detail: `does not match the current ETag ${etagOf(currentVersion)}` }],
    { etag: etagOf(currentVersion) },
  );
}

export function toProblem(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof RowNotFound) return notFoundProblem(`${error.noun} ${error.id}`);
  if (error instanceof VersionMismatch) return preconditionFailed(`${error.noun} ${error.id}`, error.currentVersion);
  const constraint = constraintProblem(error);
  if (constraint) return constraint;
  const check = checkProblem(error);
  if (check) return check;
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
