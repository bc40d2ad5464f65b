/**
 * CloudWatch metrics in Embedded Metric Format (Powertools Metrics): a JSON
 * line on stdout that CloudWatch Logs turns into metrics. No API call, so
 * nothing is added to a request's latency but the line itself.
 *
 * Dimensions are few and fixed, because every distinct set of dimension
 * values is a custom metric billed by the month: `service` and `route` (the
 * API Gateway route key, e.g. `GET /cats/{id}`, of which the template has a
 * known, small number). Never an id, a user or a path: those would make a
 * metric per cat.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** The metric names the functions write, for the dashboard, the alarms and the tests. */
export const metricNames = {
  /** One per request, dimensions service + route. */
  requests: 'Requests',
  /** Milliseconds from the first middleware to the answer, per request. */
  latency: 'Latency',
  /** 0 or 1 per request, so that Average is the share of requests answered 4xx (5xx). */
  clientErrors: 'ClientErrors',
  serverErrors: 'ServerErrors',
  /** A 412: an If-Match that no longer matched (a lost update avoided). */
  preconditionFailed: 'PreconditionFailed',
  /** A POST answered from a stored Idempotency-Key response. */
  idempotentReplays: 'IdempotentReplays',
  /** A 503 (lib/http/errors.ts): dimension service only, the one series the alarm watches. */
  databaseUnavailable: 'DatabaseUnavailable',
  /** Powertools' own: the first request of a container, dimensions service + function_name. */
  coldStart: 'ColdStart',
} as const;

/** The domain events of a resource: `Cats` gives CatsCreated, CatsChanged and CatsDeleted. */
export type DomainEvent = 'Created' | 'Changed' | 'Deleted';

const service = 'cats-api';
let instance: Metrics | undefined;

/**
 * Built on the first request, like the logger: the constructor reads its
 * environment and builds a Console, and an import (a test, the OpenAPI
 * script) that never answers a request should not pay for it.
 */
function powertools(): Metrics {
  // The deployed namespace is per stage (serverless.yml); without one
  // (tests, scripts) a fixed name instead of Powertools' warning per line.
  instance ??= new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || service, serviceName: service });
  return instance;
}

/**
 * Counts a domain event of the request being answered (written with its
 * other metrics, on the same line), e.g. countEvent('Cats', 'Created').
 */
export function countEvent(resource: string, event: DomainEvent): void {
  powertools().addMetric(`${resource}${event}`, MetricUnit.Count, 1);
}

type Middleware = middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * The metrics of every request, for every route of every resource: one EMF
 * line per request (plus one on a cold start and one on a 503).
 */
export const requestMetrics = (): Middleware => {
  const startedAt = Symbol('metricsStartedAt');
  type Timed = { [startedAt]?: number };
  const finish: NonNullable<Middleware['after']> = async (request) => {
    const { event, response } = request;
    const status = response?.statusCode ?? 500;
    const metrics = powertools();
    metrics.addDimension('route', event.routeKey ?? 'unknown');
    metrics.addMetric(metricNames.requests, MetricUnit.Count, 1);
    metrics.addMetric(
      metricNames.latency,
      MetricUnit.Milliseconds,
      Date.now() - ((request as Timed)[startedAt] ?? Date.now()),
    );
    metrics.addMetric(metricNames.clientErrors, MetricUnit.Count, status >= 400 && status < 500 ? 1 : 0);
    metrics.addMetric(metricNames.serverErrors, MetricUnit.Count, status >= 500 ? 1 : 0);
    if (status === 412) metrics.addMetric(metricNames.preconditionFailed, MetricUnit.Count, 1);
    if (response?.headers?.['idempotent-replayed'] === 'true') {
      metrics.addMetric(metricNames.idempotentReplays, MetricUnit.Count, 1);
    }
    metrics.publishStoredMetrics();
    if (status === 503) {
      // Its own line without the route: a database outage hits every route,
      // and an alarm reads one series, not a sum over routes.
      metrics.singleMetric().addMetric(metricNames.databaseUnavailable, MetricUnit.Count, 1);
    }
  };
  return {
    before: async (request) => {
      (request as Timed)[startedAt] = Date.now();
      // Powertools writes it once per container, on its own line.
      powertools().captureColdStartMetric(request.context.functionName);
    },
    after: finish,
    onError: finish,
  };
};
