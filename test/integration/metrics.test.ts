/**
 * The metrics a request writes (CloudWatch Embedded Metric Format lines on
 * stdout, lib/metrics.ts), read back from the handlers' own output against a
 * real PostgreSQL: their names, units and dimensions, which the template's
 * dashboard and alarms rely on (test/deploy/observability.test.ts).
 */
import { jest } from '@jest/globals';
import { handler as createCat } from '../../functions/create-cat.js';
import { handler as deleteCat } from '../../functions/delete-cat.js';
import { handler as getCat } from '../../functions/get-cat.js';
import { handler as updateCat } from '../../functions/update-cat.js';
import { closeDatabase } from '../../lib/db/index.js';
import { metricNames } from '../../lib/metrics.js';
import { call, httpEvent } from '../support/lambda.js';
import { useScratchDatabase } from '../support/scratch-database.js';

useScratchDatabase('cats_metrics');

const saved = {
  disabled: process.env.POWERTOOLS_METRICS_DISABLED,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE,
  initialization: process.env.AWS_LAMBDA_INITIALIZATION_TYPE,
  level: process.env.POWERTOOLS_LOG_LEVEL,
  trace: process.env._X_AMZN_TRACE_ID,
};

beforeAll(async () => {
  // The tests run with metrics off (test-setup.ts); the deployed functions
  // write them, in the namespace serverless.yml gives, and Lambda sets the
  // initialization type that Powertools' cold-start metric looks for. The
  // metrics are built on the first request, so these are read then.
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'cats-api/test';
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  // Likewise the logger, built on its first line: the deployed level.
  process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
  // This container's cold start is spent here, whichever test runs first;
  // the cold-start test loads a container of its own.
  await output(() => call(getCat, httpEvent('get-cat', { id: 999999 })));
});

afterAll(() => {
  for (const [name, value] of Object.entries({
    POWERTOOLS_METRICS_DISABLED: saved.disabled,
    POWERTOOLS_METRICS_NAMESPACE: saved.namespace,
    AWS_LAMBDA_INITIALIZATION_TYPE: saved.initialization,
    POWERTOOLS_LOG_LEVEL: saved.level,
    _X_AMZN_TRACE_ID: saved.trace,
  })) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

interface Emf {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: Array<{
      Namespace: string;
      Dimensions: string[][];
      Metrics: Array<{ Name: string; Unit: string }>;
    }>;
  };
  [key: string]: unknown;
}

/** The JSON lines a call writes to stdout and stderr. */
async function output<T>(run: () => Promise<T>): Promise<{ result: T; lines: Record<string, unknown>[] }> {
  const chunks: string[] = [];
  const capture = (chunk: unknown) => {
    chunks.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    const result = await run();
    const lines = chunks
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { result, lines };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

const isEmf = (line: Record<string, unknown>): line is Emf => typeof line._aws === 'object';

/**
 * Each metric of the EMF lines as CloudWatch would read it: name, unit,
 * value, dimensions; after checking each line against the specification's
 * rules (a millisecond timestamp, one directive, every dimension a string
 * and every metric a number at the top level, at most 100 metrics).
 */
function metricsOf(lines: Record<string, unknown>[]) {
  for (const line of lines.filter(isEmf)) {
    expect(Number.isInteger(line._aws.Timestamp) && Math.abs(line._aws.Timestamp - Date.now()) < 60000).toBe(true);
    expect(line._aws.CloudWatchMetrics).toHaveLength(1);
    for (const { Dimensions, Metrics } of line._aws.CloudWatchMetrics) {
      expect(Dimensions).toHaveLength(1);
      for (const key of Dimensions.flat()) expect([key, typeof line[key]]).toEqual([key, 'string']);
      expect(Metrics.length).toBeLessThanOrEqual(100);
      for (const { Name, Unit } of Metrics) {
        expect([Name, typeof line[Name], typeof Unit]).toEqual([Name, 'number', 'string']);
      }
    }
  }
  return lines.filter(isEmf).flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap(({ Namespace, Dimensions, Metrics }) =>
      Metrics.map(({ Name, Unit }) => ({
        namespace: Namespace,
        name: Name,
        unit: Unit,
        value: line[Name],
        dimensions: Object.fromEntries((Dimensions[0] ?? []).map((key) => [key, line[key]])),
      })),
    ),
  );
}

const requestMetric = (name: string, unit: string, route: string, value: unknown = 1) => ({
  namespace: 'cats-api/test',
  name,
  unit,
  value,
  dimensions: { service: 'cats-api', route },
});

describe('the metrics of a request', () => {
  it('writes a cold start for the function once, then requests, latency and errors by route on one line', async () => {
    // A new container: the function's modules loaded afresh, as Lambda does on a cold start.
    const fresh: { getCat?: typeof getCat; closeDatabase?: typeof closeDatabase } = {};
    await jest.isolateModulesAsync(async () => {
      fresh.getCat = (await import('../../functions/get-cat.js')).handler;
      fresh.closeDatabase = (await import('../../lib/db/index.js')).closeDatabase;
    });
    const coldGetCat = fresh.getCat as typeof getCat;
    try {
      await expectColdThenWarm(coldGetCat);
    } finally {
      await fresh.closeDatabase?.();
    }
  });

  async function expectColdThenWarm(getCat: Parameters<typeof call>[0]): Promise<void> {
    const first = await output(() => call(getCat, httpEvent('get-cat', { id: 999999 })));
    expect(first.result.status).toBe(404);
    const emfLines = first.lines.filter(isEmf);
    // A cold start on its own line, then one line for the request: its log line and its metrics at once.
    expect(emfLines).toHaveLength(2);
    expect(first.lines).toHaveLength(2);
    expect(metricsOf(first.lines)).toEqual([
      {
        namespace: 'cats-api/test',
        name: metricNames.coldStart,
        unit: 'Count',
        value: 1,
        dimensions: { service: 'cats-api', function_name: 'cats-api-test' },
      },
      requestMetric(metricNames.requests, 'Count', 'GET /cats/{id}'),
      requestMetric(metricNames.latency, 'Milliseconds', 'GET /cats/{id}', expect.any(Number)),
      requestMetric(metricNames.clientErrors, 'Count', 'GET /cats/{id}', 1),
      requestMetric(metricNames.serverErrors, 'Count', 'GET /cats/{id}', 0),
    ]);
    const [latency] = metricsOf(first.lines).filter((m) => m.name === metricNames.latency);
    expect(latency?.value).toBeGreaterThanOrEqual(0);

    const second = await output(() => call(getCat, httpEvent('get-cat', { id: 999999 })));
    expect(second.lines).toHaveLength(1);
    const names = metricsOf(second.lines).map((m) => m.name);
    expect(names).not.toContain(metricNames.coldStart);
    expect(names).toEqual(['Requests', 'Latency', 'ClientErrors', 'ServerErrors']);
  }

  it('counts CatsCreated, CatsChanged and CatsDeleted by the route that did them, and a 412 as PreconditionFailed', async () => {
    const created = await output(() =>
      call(createCat, httpEvent('create-cat', { body: { name: 'Metric', price: 100, breed: 'tabby' } })),
    );
    expect(created.result.status).toBe(201);
    expect(metricsOf(created.lines)).toContainEqual(requestMetric('CatsCreated', 'Count', 'POST /cats'));
    const id = created.result.body.id as number;

    const changed = await output(() => call(updateCat, httpEvent('update-cat', { id, body: { price: 120 } })));
    expect(changed.result.status).toBe(200);
    expect(metricsOf(changed.lines)).toContainEqual(requestMetric('CatsChanged', 'Count', 'PATCH /cats/{id}'));

    const stale = await output(() =>
      call(updateCat, httpEvent('update-cat', { id, body: { price: 130 }, headers: { 'if-match': '"1"' } })),
    );
    expect(stale.result.status).toBe(412);
    const staleMetrics = metricsOf(stale.lines);
    expect(staleMetrics).toContainEqual(requestMetric(metricNames.preconditionFailed, 'Count', 'PATCH /cats/{id}'));
    expect(staleMetrics.map((m) => m.name)).not.toContain('CatsChanged');

    const deleted = await output(() => call(deleteCat, httpEvent('delete-cat', { id })));
    expect(deleted.result.status).toBe(204);
    expect(metricsOf(deleted.lines)).toContainEqual(requestMetric('CatsDeleted', 'Count', 'DELETE /cats/{id}'));
  });

  it('counts a replayed Idempotency-Key as IdempotentReplays, not as a second CatsCreated', async () => {
    const event = () =>
      httpEvent('create-cat', {
        body: { name: 'Replayed', price: 100, breed: 'tabby' },
        headers: { 'idempotency-key': `metrics-${Date.now()}` },
      });
    const once = event();
    const first = await output(() => call(createCat, once));
    const again = await output(() => call(createCat, JSON.parse(JSON.stringify(once))));
    expect(first.result.status).toBe(201);
    expect(again.result.headers['idempotent-replayed']).toBe('true');
    expect(metricsOf(first.lines).map((m) => m.name)).toContain('CatsCreated');
    const replay = metricsOf(again.lines);
    expect(replay).toContainEqual(requestMetric(metricNames.idempotentReplays, 'Count', 'POST /cats'));
    expect(replay.map((m) => m.name)).not.toContain('CatsCreated');
  });

  it('writes DatabaseUnavailable with the service as its only dimension when the database cannot be reached', async () => {
    await closeDatabase();
    const shared = process.env.DATABASE_URL;
    process.env.DATABASE_URL = 'postgres://cats:cats@127.0.0.1:1/cats';
    try {
      const failed = await output(() => call(getCat, httpEvent('get-cat', { id: 1 })));
      expect(failed.result.status).toBe(503);
      const metrics = metricsOf(failed.lines);
      expect(metrics).toContainEqual({
        namespace: 'cats-api/test',
        name: metricNames.databaseUnavailable,
        unit: 'Count',
        value: 1,
        dimensions: { service: 'cats-api' },
      });
      expect(metrics).toContainEqual(requestMetric(metricNames.serverErrors, 'Count', 'GET /cats/{id}', 1));
    } finally {
      await closeDatabase();
      process.env.DATABASE_URL = shared;
    }
  });
});

describe('the request line', () => {
  it('is one line per request that is both valid EMF and the request log line the queries and the log view read', async () => {
    delete process.env._X_AMZN_TRACE_ID;
    const event = httpEvent('update-cat', { id: 999999, body: { price: 1 } });
    const { result, lines } = await output(() => call(updateCat, event));
    expect(result.status).toBe(404);
    // Exactly one line, not a log line and a metrics line.
    expect(lines).toHaveLength(1);
    const [line] = lines;
    // Powertools Logger's shape and the request's fields (serverless-observability.cjs filters
    // message = "request" and reads route, path, status, durationMs, requestId, xray_trace_id) ...
    expect(line).toMatchObject({
      level: 'INFO',
      message: 'request',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'cats-api',
      sampling_rate: 0,
      requestId: result.headers['x-request-id'],
      route: 'PATCH /cats/{id}',
      path: '/cats/999999',
      status: 404,
      durationMs: expect.any(Number),
      sub: '4hq1example0client0id0abcd',
      clientId: '4hq1example0client0id0abcd',
    });
    expect(line).not.toHaveProperty('xray_trace_id');
    // ... and the EMF document, checked as CloudWatch reads it.
    expect(metricsOf(lines)).toEqual([
      requestMetric(metricNames.requests, 'Count', 'PATCH /cats/{id}'),
      requestMetric(metricNames.latency, 'Milliseconds', 'PATCH /cats/{id}', line?.durationMs),
      requestMetric(metricNames.clientErrors, 'Count', 'PATCH /cats/{id}', 1),
      requestMetric(metricNames.serverErrors, 'Count', 'PATCH /cats/{id}', 0),
    ]);
    expect((line as unknown as Emf)._aws.Timestamp).toBe(Date.parse(line?.timestamp as string));
  });
});

describe('the trace id', () => {
  it('is in the request log line next to the request id, from the trace header Lambda sets', async () => {
    process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    const { lines } = await output(() => call(getCat, httpEvent('get-cat', { id: 999999 })));
    const request = lines.filter((line) => line.message === 'request');
    expect(request).toEqual([
      expect.objectContaining({
        requestId: expect.stringMatching(/^test-request-/),
        xray_trace_id: '1-5759e988-bd862e3fe1be46a994272793',
        Requests: 1,
      }),
    ]);
    expect(lines).toHaveLength(1);
    expect(request.every(isEmf)).toBe(true);

    // Lambda sets a new header for each invocation.
    process.env._X_AMZN_TRACE_ID = 'Root=1-6759e988-0d862e3fe1be46a994272794;Parent=63995c3f42cd8ad8;Sampled=0';
    const next = await output(() => call(getCat, httpEvent('get-cat', { id: 999999 })));
    expect(next.lines).toEqual([expect.objectContaining({ xray_trace_id: '1-6759e988-0d862e3fe1be46a994272794' })]);
  });
});
