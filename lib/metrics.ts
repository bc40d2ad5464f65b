/**
 * CloudWatch metrics in Embedded Metric Format (EMF): a JSON line on stdout
 * that CloudWatch Logs turns into metrics. No API call, so nothing is added
 * to a request's latency but the line itself.
 *
 * Written here rather than with Powertools Metrics, which this was first
 * built with: on Node 24 it cost a warm get-cat ~47 µs (its stores and
 * checks run per metric), 3.1% more cold-start instructions and 10.5 KB,
 * which took three bundles over their 250 KB budget (README, Operating it).
 * The lines are the same: the format is a small, stable specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
 * and test/integration/metrics.test.ts reads them back as CloudWatch would.
 * The settings keep Powertools' names: POWERTOOLS_METRICS_NAMESPACE,
 * POWERTOOLS_METRICS_DISABLED, and the ColdStart metric it would write.
 *
 * Dimensions are few and fixed, because every distinct set of dimension
 * values is a custom metric billed by the month: `service` and `route` (the
 * API Gateway route key, e.g. `GET /cats/{id}`, of which the template has a
 * known, small number). Never an id, a user or a path: those would make a
 * metric per cat.
 */
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
  /** The first request of a container, dimensions service + function_name (as Powertools names it). */
  coldStart: 'ColdStart',
} as const;

/** The domain events of a resource: `Cats` gives CatsCreated, CatsChanged and CatsDeleted. */
export type DomainEvent = 'Created' | 'Changed' | 'Deleted';

const service = 'cats-api';

interface Settings {
  enabled: boolean;
  namespace: string;
  coldStart: boolean;
}
let settings: Settings | undefined;

/** Read on the first request, so a test can set them first. */
function read(): Settings {
  settings ??= {
    enabled: !/^(1|true|yes|on)$/i.test(process.env.POWERTOOLS_METRICS_DISABLED ?? ''),
    // The deployed namespace is per stage (serverless.yml).
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || service,
    // Lambda's own word for a container started for a request; provisioned
    // concurrency starts containers before any request waits for them.
    coldStart: process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'on-demand',
  };
  return settings;
}

/** One EMF line: `dimensions` and `values` (metric name -> value) with their units. */
function line(dimensions: Record<string, string>, values: [name: string, unit: string, value: number][]): string {
  const metrics = values.map(([name, unit]) => ({ Name: name, Unit: unit }));
  const body: Record<string, unknown> = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{ Namespace: read().namespace, Dimensions: [Object.keys(dimensions)], Metrics: metrics }],
    },
    ...dimensions,
  };
  for (const [name, , value] of values) body[name] = value;
  return `${JSON.stringify(body)}\n`;
}

/** Domain events counted during the request being answered (one request at a time per container). */
const events: string[] = [];
/** Until the container's first request is answered. */
let cold = true;

/**
 * Counts a domain event of the request being answered (written with its
 * other metrics, on the same line), e.g. countEvent('Cats', 'Created').
 */
export function countEvent(resource: string, event: DomainEvent): void {
  events.push(`${resource}${event}`);
}

/**
 * The request line's fixed part, per route: all but the timestamp and the
 * values, built once, so that a request only fills in its numbers.
 */
const prefixes = new Map<string, string>();
function requestPrefix(route: string): string {
  let prefix = prefixes.get(route);
  if (prefix === undefined) {
    const dimensions = JSON.stringify([['service', 'route']]);
    const metrics = JSON.stringify([
      { Name: metricNames.requests, Unit: 'Count' },
      { Name: metricNames.latency, Unit: 'Milliseconds' },
      { Name: metricNames.clientErrors, Unit: 'Count' },
      { Name: metricNames.serverErrors, Unit: 'Count' },
    ]).slice(0, -1);
    prefix = `{"Namespace":${JSON.stringify(read().namespace)},"Dimensions":${dimensions},"Metrics":${metrics}`;
    prefixes.set(route, prefix);
  }
  return prefix;
}

type Middleware = middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * The metrics of every request, for every route of every resource: one EMF
 * line per request (plus one on a cold start and one on a 503), written with
 * process.stdout.write like Powertools' own loggers, so Lambda's console
 * decoration (a text prefix that would break the JSON) is not applied.
 */
export const requestMetrics = (): Middleware => {
  const startedAt = Symbol('metricsStartedAt');
  type Timed = { [startedAt]?: number };
  const finish: NonNullable<Middleware['after']> = async (request) => {
    const { event, response, context } = request;
    const counted = events.splice(0);
    const { enabled, coldStart } = read();
    if (!enabled) return;
    const status = response?.statusCode ?? 500;
    const route = event.routeKey ?? 'unknown';
    let out = '';
    if (cold) {
      cold = false;
      if (coldStart) {
        out += line({ service, function_name: context.functionName }, [[metricNames.coldStart, 'Count', 1]]);
      }
    }
    if (status === 412) counted.push(metricNames.preconditionFailed);
    if (response?.headers?.['idempotent-replayed'] === 'true') counted.push(metricNames.idempotentReplays);
    let definitions = '';
    let values = '';
    for (const name of counted) {
      definitions += `,{"Name":${JSON.stringify(name)},"Unit":"Count"}`;
      values += `,${JSON.stringify(name)}:1`;
    }
    const latency = Date.now() - ((request as Timed)[startedAt] ?? Date.now());
    out +=
      `{"_aws":{"Timestamp":${Date.now()},"CloudWatchMetrics":[${requestPrefix(route)}${definitions}]}]},` +
      `"service":"${service}","route":${JSON.stringify(route)},"Requests":1,"Latency":${latency},` +
      `"ClientErrors":${status >= 400 && status < 500 ? 1 : 0},"ServerErrors":${status >= 500 ? 1 : 0}${values}}\n`;
    if (status === 503) {
      // Its own line without the route: a database outage hits every route,
      // and an alarm reads one series, not a sum over routes.
      out += line({ service }, [[metricNames.databaseUnavailable, 'Count', 1]]);
    }
    process.stdout.write(out);
  };
  return {
    before: async (request) => {
      (request as Timed)[startedAt] = Date.now();
      // A failed request's events (none are counted before a write succeeds) never leak into the next.
      events.length = 0;
    },
    after: finish,
    onError: finish,
  };
};
