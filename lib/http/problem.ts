/**
 * RFC 9457 problem details. Every error the API returns is one of these; they
 * are built here and turned into responses in one place (./errors.ts).
 */

/** Where a field at fault lives in the request. */
export type FieldLocation = 'body' | 'query' | 'path' | 'header';

export interface FieldError {
  /** The field's name: a body property, query parameter, path parameter or header. */
  field: string;
  in: FieldLocation;
  /** What is wrong with it, as a sentence fragment that follows the field name. */
  detail: string;
  /** JSON Pointer (RFC 6901) into the body, for body fields. */
  pointer?: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
}

/** Problem types this API defines; `about:blank` means "see the status code". */
export const problemTypes = {
  validation: '/problems/validation-error',
  unsupportedMediaType: '/problems/unsupported-media-type',
  payloadTooLarge: '/problems/payload-too-large',
  notFound: '/problems/not-found',
  methodNotAllowed: '/problems/method-not-allowed',
  preconditionFailed: '/problems/precondition-failed',
  idempotencyInFlight: '/problems/idempotency-key-in-use',
  idempotencyKeyReused: '/problems/idempotency-key-reused',
  conflict: '/problems/conflict',
  unknownReference: '/problems/unknown-reference',
  constraintViolation: '/problems/constraint-violation',
  databaseUnavailable: '/problems/database-unavailable',
  internal: '/problems/internal-error',
} as const;

/** An error that is meant to reach the client as it is. */
export class HttpProblem extends Error {
  override name = 'HttpProblem';
  constructor(
    readonly status: number,
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
  }
}

export function validationProblem(errors: FieldError[]): HttpProblem {
  const named = errors.map((e) => `${e.field} ${e.detail}`).join('; ');
  return new HttpProblem(400, problemTypes.validation, 'Your request is not valid', named, errors);
}

/** RFC 6901 JSON Pointer, in its URI fragment form, to a member of the body. */
export function bodyPointer(path: ReadonlyArray<PropertyKey>): string {
  const encodeToken = (token: PropertyKey) =>
    encodeURIComponent(String(token).replaceAll('~', '~0').replaceAll('/', '~1'));
  return `#${path.map((token) => `/${encodeToken(token)}`).join('')}`;
}

/** One field error at `location`, with a pointer when it is in the body. */
export function fieldError(location: FieldLocation, path: ReadonlyArray<PropertyKey>, detail: string): FieldError {
  const field = path.length > 0 ? path.map(String).join('.') : location;
  return { field, in: location, detail, ...(location === 'body' ? { pointer: bodyPointer(path) } : {}) };
}

export function fieldProblem(location: FieldLocation, field: string, detail: string): HttpProblem {
  return validationProblem([fieldError(location, [field], detail)]);
}

export function notFoundProblem(what: string): HttpProblem {
  return new HttpProblem(404, problemTypes.notFound, 'Not found', `${what} does not exist`);
}
