/**
 * Parsing at the edge: everything a handler reads from the event goes through
 * here, so a bad request is rejected with a problem naming the field before any
 * domain code or SQL runs.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type * as z from '../validation.js';
import {
  type FieldError,
  type FieldLocation,
  fieldError,
  HttpProblem,
  problemTypes,
  validationProblem,
} from './problem.js';

export const maxBodyBytes = 16 * 1024;

const jsonMediaType = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/** A request header by its lower-case name. */
export function header(event: APIGatewayProxyEventV2, name: string): string | undefined {
  // API Gateway's HTTP API lower-cases header names; other callers (tests, the
  // console's test events, `sls invoke`) may not.
  const headers = event.headers ?? {};
  const value = headers[name];
  if (value !== undefined && value !== null) return value;
  // Most lookups are for headers a request did not send, so this runs on most
  // requests: a loop over the names, not Object.entries' array of pairs.
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() === name) return headers[key];
  }
  return undefined;
}

/** The request body parsed as JSON; the media type must say JSON. */
export function jsonBody(event: APIGatewayProxyEventV2): unknown {
  const contentType = header(event, 'content-type');
  if (contentType === undefined || !jsonMediaType.test(contentType)) {
    throw new HttpProblem(
      415,
      problemTypes.unsupportedMediaType,
      'Unsupported media type',
      `content-type must be application/json, got ${contentType === undefined ? 'none' : JSON.stringify(contentType)}`,
      [{ field: 'content-type', in: 'header', detail: 'must be application/json' }],
    );
  }
  const body = bodyText(event.body);
  const decoded = event.isBase64Encoded ? Buffer.from(body, 'base64') : undefined;
  // The size is counted without copying a plain-text body into a Buffer and back.
  const size = decoded ? decoded.length : Buffer.byteLength(body, 'utf8');
  // Refused before parsing: a cat is a few hundred bytes, and JSON.parse of a
  // large or deeply nested document is work an attacker should not get for free.
  if (size > maxBodyBytes) {
    throw new HttpProblem(
      413,
      problemTypes.payloadTooLarge,
      'Request body too large',
      `body is ${size} bytes; the limit is ${maxBodyBytes}`,
      [fieldError('body', [], `must be at most ${maxBodyBytes} bytes`)],
    );
  }
  const text = decoded ? decoded.toString('utf8') : body;
  if (text.trim() === '') {
    throw validationProblem([fieldError('body', [], 'is required: send a JSON object')]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? `: ${error.message}` : '';
    throw validationProblem([fieldError('body', [], `is not valid JSON${reason}`)]);
  }
}

/**
 * The body as the text the client sent. Lambda always gives a string, but
 * serverless-offline (`npm start`) parses a JSON body itself and hands over
 * the parsed value when it is falsy (`false`, `0`, `null`): turned back into
 * its text, it gets the same answer as on Lambda instead of a TypeError.
 * (`null` is also what it gives for no body at all, so both read as none.)
 */
function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  return body === undefined || body === null ? '' : JSON.stringify(body);
}

/** Validates `input` against `schema`, or throws a 400 listing every field at fault. */
export function validate<S extends z.ZodMiniType>(schema: S, input: unknown, location: FieldLocation): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw validationProblem(result.error.issues.flatMap((issue) => fieldErrors(issue, location)));
}

function fieldErrors(issue: z.core.$ZodIssue, location: FieldLocation): FieldError[] {
  if (issue.code === 'unrecognized_keys') {
    const detail = location === 'body' ? 'is not a field you can set' : 'is not a known parameter';
    return issue.keys.map((key) => fieldError(location, [...issue.path, key], detail));
  }
  return [fieldError(location, issue.path, issue.message)];
}

export function pathParameters(event: APIGatewayProxyEventV2): Record<string, string | undefined> {
  return event.pathParameters ?? {};
}

export function queryParameters(event: APIGatewayProxyEventV2): Record<string, string | undefined> {
  return event.queryStringParameters ?? {};
}
