/**
 * Calling handlers the way API Gateway's HTTP API (payload 2.0) does, starting
 * from the event fixtures in test/events (the same files `sls invoke local
 * --path` takes).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HttpHandler } from '../../lib/http/handler.js';
import { expectMatchesContract } from './contract.js';

/** A file of test/events without its extension, e.g. get-cat or create-cat-tutorial. */
export type Fixture = string;

const events = new URL('../events/', import.meta.url);

/** The names of the event fixtures in test/events. */
export function fixtureNames(): Fixture[] {
  return readdirSync(events)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.replace(/\.json$/, ''));
}

export function fixture(name: Fixture): APIGatewayProxyEventV2 {
  const file = new URL(`${name}.json`, events);
  if (!existsSync(file)) {
    throw new Error(`no event fixture test/events/${name}.json (there are: ${fixtureNames().join(', ')})`);
  }
  return JSON.parse(readFileSync(file, 'utf8'));
}

/**
 * An API Gateway HTTP API (payload 2.0) event for a route such as
 * `GET /owners/{id}`, with no fixture file: the path parameters fill the
 * template (`{ id: 3 }` makes /owners/3). For resources that have no
 * fixtures of their own.
 */
export function routeEvent(
  routeKey: string,
  changes: Omit<EventChanges, 'id'> & { path?: Record<string, string | number> } = {},
): APIGatewayProxyEventV2 {
  const [method = 'GET', template = '/'] = routeKey.split(' ');
  const parameters = Object.fromEntries(Object.entries(changes.path ?? {}).map(([k, v]) => [k, String(v)]));
  const rawPath = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = parameters[name];
    if (value === undefined) throw new Error(`routeEvent(${routeKey}): no value for {${name}}`);
    return encodeURIComponent(value);
  });
  const event = fixture('get-cat');
  event.routeKey = routeKey;
  event.rawPath = rawPath;
  event.requestContext = {
    ...event.requestContext,
    routeKey,
    http: { ...event.requestContext.http, method, path: rawPath },
  };
  event.pathParameters = Object.keys(parameters).length > 0 ? parameters : undefined;
  if (method === 'POST' || method === 'PATCH') event.headers['content-type'] = 'application/json';
  return withChanges(event, changes);
}

export interface EventChanges {
  id?: string | number;
  /** A value to send as JSON, or a string sent as it is. */
  body?: unknown;
  rawBody?: string;
  query?: Record<string, string>;
  headers?: Record<string, string | undefined>;
}

/** A fixture with the changes a test needs: path id, body, query, headers. */
export function httpEvent(name: Fixture, changes: EventChanges = {}): APIGatewayProxyEventV2 {
  return withChanges(fixture(name), changes);
}

function withChanges(event: APIGatewayProxyEventV2, changes: EventChanges): APIGatewayProxyEventV2 {
  if (changes.id !== undefined) {
    const id = String(changes.id);
    event.pathParameters = { id };
    event.rawPath = event.rawPath.replace(/[^/]+$/, encodeURIComponent(id));
    event.requestContext.http.path = event.rawPath;
  }
  if (changes.rawBody !== undefined) event.body = changes.rawBody;
  else if ('body' in changes) event.body = JSON.stringify(changes.body);
  if (changes.query) {
    event.queryStringParameters = changes.query;
    event.rawQueryString = new URLSearchParams(changes.query).toString();
  }
  for (const [key, value] of Object.entries(changes.headers ?? {})) {
    if (value === undefined) delete event.headers[key];
    else event.headers[key] = value;
  }
  return event;
}

let invocation = 0;
// Shared, not made per call: the benchmark times each invocation with its
// context, and tsx names every function made inside one (Object.defineProperty).
const remainingTime = () => 10000;
const ignore = () => {};

export function lambdaContext(): Context {
  invocation += 1;
  return {
    awsRequestId: `test-request-${invocation}`,
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'cats-api-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:cats-api-test',
    logGroupName: '/aws/lambda/cats-api-test',
    logStreamName: 'test',
    memoryLimitInMB: '512',
    getRemainingTimeInMillis: remainingTime,
    done: ignore,
    fail: ignore,
    succeed: ignore,
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: any;
  raw: APIGatewayProxyStructuredResultV2;
}

/**
 * Invokes a handler and checks its response against the OpenAPI document
 * (`contract: false` for handlers that are not API routes, in unit tests).
 */
export async function call(
  handler: HttpHandler,
  event: APIGatewayProxyEventV2,
  { contract = true }: { contract?: boolean } = {},
): Promise<Reply> {
  const raw = await handler(event, lambdaContext());
  const headers = Object.fromEntries(Object.entries(raw.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const json = /json/.test(headers['content-type'] ?? '');
  const body = raw.body ? (json ? JSON.parse(raw.body) : raw.body) : undefined;
  const reply = { status: raw.statusCode ?? 200, headers, body, raw };
  if (contract) {
    const [method = '', template = ''] = event.routeKey.split(' ');
    expectMatchesContract(method, template, reply);
  }
  return reply;
}
