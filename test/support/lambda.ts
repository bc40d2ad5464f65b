/**
 * Calling handlers the way API Gateway's HTTP API (payload 2.0) does, starting
 * from the event fixtures in test/events (the same files `sls invoke local
 * --path` takes).
 */
import { readFileSync } from 'node:fs';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { HttpHandler } from '../../lib/http/handler.js';
import { expectMatchesContract } from './contract.js';

export type Fixture =
  | 'list-cats'
  | 'list-cats-tutorial'
  | 'get-cat'
  | 'create-cat'
  | 'create-cat-tutorial'
  | 'update-cat'
  | 'update-cat-tutorial'
  | 'delete-cat'
  | 'delete-cat-tutorial';

export function fixture(name: Fixture): APIGatewayProxyEventV2 {
  return JSON.parse(readFileSync(new URL(`../events/${name}.json`, import.meta.url), 'utf8'));
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
  const event = fixture(name);
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
