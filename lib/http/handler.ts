/**
 * What every HTTP function shares: the middy pipeline (error mapping and
 * logging) and response shaping. A route module only parses its input, calls
 * one domain function and says what to answer.
 */
import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger } from '../logger.js';
import { toProblem } from './errors.js';
import type { ProblemBody } from './problem.js';

export interface Reply {
  status: number;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (the docs page and its assets); give its content-type in headers. */
  text?: string;
  headers?: Record<string, string>;
}

export type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<Reply>;
export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

function toResult(
  { status, body, text, headers = {} }: Reply,
  contentType = 'application/json',
): APIGatewayProxyStructuredResultV2 {
  if (text !== undefined) return { statusCode: status, headers, body: text };
  if (body === undefined) return { statusCode: status, headers };
  return { statusCode: status, headers: { 'content-type': contentType, ...headers }, body: JSON.stringify(body) };
}

function requestIdOf(event: APIGatewayProxyEventV2, context: Context): string {
  return context.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
}

type Middleware = middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * One log line per request (request id, route, status, duration) and the
 * request id in an `x-request-id` response header, so a client can quote it.
 */
const requestLog = (): Middleware => {
  const startedAt = new WeakMap<object, number>();
  const finish: NonNullable<Middleware['after']> = async (request) => {
    const { event, context, response } = request;
    const requestId = requestIdOf(event, context);
    if (response) response.headers = { ...response.headers, 'x-request-id': requestId };
    logger.info('request', {
      requestId,
      route: event.routeKey,
      path: event.rawPath,
      status: response?.statusCode,
      durationMs: Date.now() - (startedAt.get(request) ?? Date.now()),
    });
  };
  return {
    before: async (request) => {
      startedAt.set(request, Date.now());
    },
    after: finish,
    onError: finish,
  };
};

/** Turns any error into an RFC 9457 response; logs in full what the client is not told. */
const problemResponses = (): Middleware => ({
  onError: async (request) => {
    const { event, context, error } = request;
    const problem = toProblem(error);
    const requestId = requestIdOf(event, context);
    if (problem.status >= 500) {
      logger.error('request failed', { requestId, route: event.routeKey, status: problem.status, error });
    }
    const body: ProblemBody = {
      type: problem.type,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      instance: event.rawPath,
      requestId,
      ...(problem.errors ? { errors: problem.errors } : {}),
    };
    request.response = toResult({ status: problem.status, body, headers: problem.headers }, 'application/problem+json');
  },
});

export interface RouteOptions {
  /** Content-Security-Policy directives for HTML answers, over middy's strict defaults. */
  contentSecurityPolicy?: Record<string, string | false>;
}

export function httpRoute(route: Route, options: RouteOptions = {}): HttpHandler {
  // middy runs `after` and `onError` hooks in reverse order: the problem
  // response is built first, then logged, then given the security headers.
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(
      httpSecurityHeaders({
        ...(options.contentSecurityPolicy ? ({ contentSecurityPolicy: options.contentSecurityPolicy } as object) : {}),
        // No reporting endpoint exists to send reports to (the middleware
        // would send an empty header; its typings lack this option), and HSTS
        // preload is a promise only the owner of a custom domain can make.
        ...({ reportingEndpoints: false } as object),
        reportTo: false,
        poweredBy: false,
        strictTransportSecurity: { maxAge: 180 * 24 * 60 * 60, includeSubDomains: false, preload: false },
      }),
    )
    .use(requestLog())
    .use(problemResponses())
    .handler(async (event, context) => toResult(await route(event, context)));
}
