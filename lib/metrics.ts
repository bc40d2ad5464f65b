/**
 * CloudWatch metrics in Embedded Metric Format (EMF): a JSON line on stdout
 * that CloudWatch Logs turns into metrics. No API call, so nothing is added
 * to a request's latency but the line itself, and that line is the request's
 * log line too (requestMetrics, below).
 *
 * Written here rather than with Powertools Metrics, which this was first
 * built with: on Node 24 it cost a warm get-cat ~47 µs (its stores and
 * checks run per metric), 3.1% more cold-start instructions and 10.5 KB,
 * which took three bundles over their 250 KB budget (docs/operating.md).
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
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { callerOf } from './http/caller.js';
import { logger } from './logger.js';

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
 * The metric definitions of the request line, per route: built once, so that
 * a request only fills in its numbers (and any events it counted).
 */
const definitions = new Map<string, string>();
function requestDefinition(route: string): string {
  let definition = definitions.get(route);
  if (definition === undefined) {
    const dimensions = JSON.stringify([['service', 'route']]);
    const metrics = JSON.stringify([
      { Name: metricNames.requests, Unit: 'Count' },
      { Name: metricNames.latency, Unit: 'Milliseconds' },
      { Name: metricNames.clientErrors, Unit: 'Count' },
      { Name: metricNames.serverErrors, Unit: 'Count' },
    ]).slice(0, -1);
    definition = `{"Namespace":${JSON.stringify(read().namespace)},"Dimensions":${dimensions},"Metrics":${metrics}`;
    definitions.set(route, definition);
  }
  return definition;
}

/** The id a client can quote: Lambda's request id, else API Gateway's. */
export function requestIdOf(event: APIGatewayProxyEventV2, context: Context): string {
  return context.awsRequestId ?? event.requestContext?.requestId ?? 'unknown';
}

/**
 * The X-Ray trace id, where Powertools Logger reads it for its
 * `xray_trace_id` (the runtime's per-invocation store, else the
 * `_X_AMZN_TRACE_ID` Lambda sets for each invocation): the Root of
 * `Root=1-...;Parent=...;Sampled=1`. The last header's id is kept, since a
 * container sees one trace per invocation and a header is parsed once.
 */
let traceHeader: string | undefined;
let traceId: string | undefined;
function traceIdNow(): string | undefined {
  const header =
    (
      globalThis as { awslambda?: { InvokeStore?: { getXRayTraceId(): string | undefined } } }
    ).awslambda?.InvokeStore?.getXRayTraceId() ?? process.env._X_AMZN_TRACE_ID;
  if (header !== traceHeader) {
    traceHeader = header;
    traceId = header
      ?.split(';')
      .find((part) => part.startsWith('Root='))
      ?.slice(5);
  }
  return traceId;
}

/** Powertools Logger's `sampling_rate` (its debug-sampling setting, 0 unless set). */
let samplingRate: number | undefined;
function samplingRateOf(): number {
  if (samplingRate === undefined) {
    const rate = Number(process.env.POWERTOOLS_LOGGER_SAMPLE_RATE ?? 0);
    samplingRate = rate >= 0 && rate <= 1 ? rate : 0;
  }
  return samplingRate;
}

type Middleware = middy.MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

/**
 * One line per request that is both its log line and its metrics: Powertools
 * Logger's JSON (level, message "request", timestamp, service, sampling_rate,
 * xray_trace_id, then requestId, route, path, status, durationMs and the
 * caller's sub and clientId), plus the EMF `_aws` metadata and the metric
 * values as top-level members, which is how Embedded Metric Format is meant to
 * be used: CloudWatch extracts the metrics and every other member stays a
 * searchable field. So the saved queries (`message = "request"`), the log
 * view and the metrics all read the same line.
 *
 * Built here as a string and written in one process.stdout.write (like
 * Powertools' own loggers, so Lambda's console decoration, a text prefix that
 * would break the JSON, is not applied) rather than with logger.info: on Node
 * 24 as deployed, the request line through Powertools Logger cost a warm
 * request ~35 µs (its attribute stores, merges, formatter and a second JSON
 * pass) against ~3 µs for the EMF line built here, and the two lines made
 * the warm p50 1.30-1.51x raw pg against a 1.3x target (BENCHMARKS.md).
 *
 * With metrics on (as deployed) the line is written whatever the log level:
 * it is the request's metrics record, and Requests, Latency and the error
 * counts, which the dashboard and alarms read, must not vanish because
 * someone raised the level to WARN to quieten the logs. It keeps its
 * `"level":"INFO"`, which is what it is. With metrics off
 * (POWERTOOLS_METRICS_DISABLED) it is only a log line, without `_aws` or the
 * metric values, and follows the level like any other INFO line.
 *
 * A cold start and a 503 add a line each (their dimensions differ: one EMF
 * directive per line keeps each line simple and each alarm on one series).
 */
export const requestMetrics = (): Middleware => {
  const startedAt = Symbol('requestStartedAt');
  type Timed = { [startedAt]?: number };
  const finish: NonNullable<Middleware['after']> = async (request) => {
    const { event, response, context } = request;
    const counted = events.splice(0);
    const { enabled, coldStart } = read();
    if (!enabled && !logger.writes('info')) return;
    const now = Date.now();
    const status = response?.statusCode ?? 500;
    const route = event.routeKey ?? 'unknown';
    const durationMs = now - ((request as Timed)[startedAt] ?? now);
    const trace = traceIdNow();
    const caller = callerOf(event);
    let out = '';
    if (enabled && cold) {
      cold = false;
      if (coldStart) {
        out += line({ service, function_name: context.functionName }, [[metricNames.coldStart, 'Count', 1]]);
      }
    }
    // `timestamp` in UTC, as Powertools writes it under Lambda's TZ=:UTC.
    out +=
      `{"level":"INFO","message":"request","timestamp":"${new Date(now).toISOString()}","service":"${service}",` +
      `"sampling_rate":${samplingRateOf()}${trace === undefined ? '' : `,"xray_trace_id":${JSON.stringify(trace)}`}` +
      `,"requestId":${JSON.stringify(requestIdOf(event, context))},"route":${JSON.stringify(route)}` +
      `,"path":${JSON.stringify(event.rawPath)},"status":${status},"durationMs":${durationMs}`;
    if (caller !== undefined) {
      out += `,"sub":${JSON.stringify(caller.sub)}`;
      if (caller.clientId !== undefined) out += `,"clientId":${JSON.stringify(caller.clientId)}`;
    }
    if (enabled) {
      if (status === 412) counted.push(metricNames.preconditionFailed);
      if (response?.headers?.['idempotent-replayed'] === 'true') counted.push(metricNames.idempotentReplays);
      let more = '';
      let values = '';
      for (const name of counted) {
        more += `,{"Name":${JSON.stringify(name)},"Unit":"Count"}`;
        values += `,${JSON.stringify(name)}:1`;
      }
      out +=
        `,"_aws":{"Timestamp":${now},"CloudWatchMetrics":[${requestDefinition(route)}${more}]}]},` +
        `"Requests":1,"Latency":${durationMs},` +
        `"ClientErrors":${status >= 400 && status < 500 ? 1 : 0},"ServerErrors":${status >= 500 ? 1 : 0}${values}`;
    }
    out += '}\n';
    if (enabled && status === 503) {
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
