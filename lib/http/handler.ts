/**
 * What every HTTP function shares: the middy pipeline (error mapping and
 * logging) and response shaping. A route module only parses its input, calls
 * one domain function and says what to answer.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { logger } from '../logger.js';
import { toProblem } from './errors.js';
import type { ProblemBody } from './problem.js';

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Route = (event: APIGatewayProxyEventV2, context: Context) => Promise<Reply>;
export type HttpHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

function toResult(
  { status, body, headers = {} }: Reply,
  contentType = 'application/json',
): APIGatewayProxyStructuredResultV2 {
  if (body === undefined) return { statusCode: status, headers };
  return { statusCode: status, headers: { 'content-type': contentType, ...headers }, body: JSON.stringify(body) };
}

function requestIdOf(event: APIGatewayProxyEventV2, context: Context): string {
  return context.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
}

/** Turns any error into an RFC 9457 response; logs what the client is not told. */
const problemResponses = (): middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> => ({
  onError: async (request) => {
    const { event, context, error } = request;
    const problem = toProblem(error);
    const requestId = requestIdOf(event, context);
    const where = { requestId, route: event.routeKey, path: event.rawPath, status: problem.status };
    if (problem.status >= 500) logger.error('request failed', { ...where, error });
    else logger.info('request rejected', { ...where, detail: problem.detail });
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

export function httpRoute(route: Route): HttpHandler {
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(problemResponses())
    .handler(async (event, context) => toResult(await route(event, context)));
}
