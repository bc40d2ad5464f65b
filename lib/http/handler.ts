/**
 * What every HTTP function shares: the middy pipeline (error mapping and
 * logging) and response shaping. A route module only parses its input, calls
 * one domain function and says what to answer.
 */
import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger } from '../logger.js';
import { requestIdOf, requestMetrics } from '../metrics.js';
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

type Middleware = middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * The request id in an `x-request-id` response header, so a client can quote
 * it. The request's log line, with the same id, is written with its metrics
 * as one line (lib/metrics.ts, requestMetrics).
 */
const requestId = (): Middleware => {
  const finish: NonNullable<Middleware['after']> = async (request) => {
    const { event, context, response } = request;
    // Object.assign, not spread: on Node 20 each property added to an object
    // made by spread costs ~1 µs, and the security headers add seven more.
    if (response) {
      response.headers = Object.assign({}, response.headers, { 'x-request-id': requestIdOf(event, context) });
    }
  };
  return { after: finish, onError: finish };
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

/**
 * middy's security headers, worked out by the middleware once and then copied:
 * it derives them anew for every response (a function and a merged config
 * object per header), though only an HTML answer's depend on the response.
 * HTML answers (the docs page), and responses it would first normalise, still
 * go through it.
 */
export function securityHeaders(options: object): Middleware {
  const middleware = httpSecurityHeaders(options) as Required<Middleware>;
  let common: object | undefined;
  const after: Middleware['after'] = async (request) => {
    const { response } = request;
    const type = response?.headers?.['Content-Type'] ?? response?.headers?.['content-type'];
    if (
      response?.headers === undefined ||
      response.statusCode === undefined ||
      (type !== undefined && (typeof type !== 'string' || type.includes('text/html')))
    ) {
      return middleware.after(request);
    }
    if (common === undefined) {
      const sample = { response: { statusCode: 200, headers: {} } } as typeof request;
      await middleware.after(sample);
      common = { ...sample.response?.headers };
    }
    Object.assign(response.headers, common);
  };
  return { after, onError: (request) => (request.response === undefined ? undefined : after(request)) };
}

export interface RouteOptions {
  /** Content-Security-Policy directives for HTML answers, over middy's strict defaults. */
  contentSecurityPolicy?: Record<string, string | false>;
}

export function httpRoute(route: Route, options: RouteOptions = {}): HttpHandler {
  // middy runs `after` and `onError` hooks in reverse order: the problem
  // response is built first, then logged and counted (one line), then given
  // its request id and the security headers.
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(
      securityHeaders({
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
    .use(requestId())
    .use(requestMetrics())
    .use(problemResponses())
    .handler(async (event, context) => toResult(await route(event, context)));
}
