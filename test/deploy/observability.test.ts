/**
 * What an on-call engineer gets from a deployed stage, checked in the
 * template `sls package` produces: tracing on every function, a dashboard
 * whose every metric is one the functions write (lib/metrics.ts) or one AWS
 * publishes for a resource of the stack, saved Logs Insights queries, and
 * alarms that say where to look first.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { metricNames } from '../../lib/metrics.js';
import { activeResources, ofType, type Packaged, packageService, type Resource, root } from './template.js';

const plugin = createRequire(import.meta.url)('../../plugins/serverless-observability.cjs') as {
  metricNames: Record<string, string>;
};

let dev: Packaged;
let proxied: Packaged;
let existingDb: Packaged;

beforeAll(async () => {
  dev = await packageService('dev');
  proxied = await packageService('dev', { rdsProxy: 'true' });
  existingDb = await packageService('dev', {
    existingDbHost: 'cats.abc123.eu-west-1.rds.amazonaws.com',
    existingDbName: 'cats',
    existingDbUser: 'cats_app',
    existingDbSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cats-db-AbCdEf',
    existingSubnetIds: 'subnet-0aaa,subnet-0bbb',
    existingSecurityGroupIds: 'sg-0ccc',
    dbAuth: 'secret',
  });
}, 300000);

afterAll(async () => {
  const { rm } = await import('node:fs/promises');
  for (const packaged of [dev, proxied, existingDb]) {
    if (packaged) await rm(packaged.dir, { recursive: true, force: true });
  }
});

const namespace = 'cats-api/dev';

/** The resource names handlers give resource-routes.ts (`resource: 'Cats'`), read from functions/. */
const resourceNames = [
  ...new Set(
    readdirSync(path.join(root, 'functions'))
      .filter((file) => file.endsWith('.ts'))
      .flatMap((file) =>
        [...readFileSync(path.join(root, 'functions', file), 'utf8').matchAll(/resource: '(\w+)'/g)].map((m) => m[1]),
      ),
  ),
];

/** Every metric name the functions write into the stage's namespace. */
const emfMetrics = new Set([
  ...Object.values(metricNames),
  ...resourceNames.flatMap((resource) => ['Created', 'Changed', 'Deleted'].map((event) => `${resource}${event}`)),
]);

/** AWS's metrics the dashboard may use, by namespace, with the resource type their dimension names. */
const awsMetrics: Record<string, { names: string[]; dimensions: Record<string, string> }> = {
  'AWS/Lambda': {
    names: ['Throttles', 'ConcurrentExecutions', 'Errors', 'Invocations', 'Duration'],
    dimensions: { FunctionName: 'AWS::Lambda::Function' },
  },
  'AWS/ApiGateway': {
    names: ['Count', '4xx', '5xx', 'Latency', 'IntegrationLatency'],
    dimensions: { ApiId: 'AWS::ApiGatewayV2::Api', Stage: '' },
  },
  'AWS/RDS': {
    names: [
      'CPUUtilization',
      'DatabaseConnections',
      'FreeableMemory',
      'FreeStorageSpace',
      'ClientConnections',
      'DatabaseConnectionsBorrowLatency',
    ],
    dimensions: { DBInstanceIdentifier: 'AWS::RDS::DBInstance', ProxyName: 'AWS::RDS::DBProxy' },
  },
};

interface Widget {
  type: string;
  width: number;
  height: number;
  properties: {
    title?: string;
    markdown?: string;
    query?: string;
    metrics?: Array<Array<string | Record<string, unknown>>>;
  };
}

/** `{"Ref": "X"}` inside the body's Fn::Join becomes the text `<Ref X>`. */
function joined(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(joined).join(separator);
  }
  if ('Ref' in node) return `<Ref ${node.Ref}>`;
  throw new Error(`unexpected in a dashboard body: ${JSON.stringify(value)}`);
}

function dashboardOf(resources: Record<string, Resource>): Widget[] {
  const dashboards = ofType(resources, 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const [[, dashboard]] = dashboards as [[string, Resource]];
  expect(dashboard.Properties?.DashboardName).toBe('cats-api-dev');
  return (JSON.parse(joined(dashboard.Properties?.DashboardBody)) as { widgets: Widget[] }).widgets;
}

/** The routes of the template, e.g. GET /cats/{id}. */
const routesOf = (resources: Record<string, Resource>) =>
  ofType(resources, 'AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties?.RouteKey as string);

describe('tracing', () => {
  it('is active on every function, whose role may send segments to X-Ray, with no X-Ray SDK bundled', () => {
    const resources = activeResources(dev.template);
    const functions = ofType(resources, 'AWS::Lambda::Function');
    expect(functions.length).toBe(dev.functions.length);
    for (const [id, fn] of functions) expect([id, fn.Properties?.TracingConfig]).toEqual([id, { Mode: 'Active' }]);
    for (const [id, fn] of functions) {
      const role = (fn.Properties?.Role as { 'Fn::GetAtt': [string, string] } | undefined)?.['Fn::GetAtt'][0] ?? '';
      expect([id, JSON.stringify(resources[role])]).toEqual([id, expect.stringContaining('xray:PutTraceSegments')]);
    }
    const dependencies = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).dependencies;
    expect(Object.keys(dependencies).filter((name) => /xray|opentelemetry/.test(name))).toEqual([]);
  });
});

describe('the dashboard', () => {
  it('draws only metrics the functions write or AWS publishes for a resource of the stack', () => {
    for (const packaged of [dev, proxied, existingDb]) {
      const resources = activeResources(packaged.template);
      for (const widget of dashboardOf(resources)) {
        for (const row of widget.properties.metrics ?? []) {
          const [first] = row;
          if (typeof first === 'object') {
            // A search over the routes: its namespace and metric name.
            const expression = String(first.expression);
            const [, searched, name] =
              /SEARCH\('\{"([^"]+)",service,route\} MetricName="(\w+)"'/.exec(expression) ?? [];
            expect([expression, searched]).toEqual([expression, namespace]);
            expect([expression, emfMetrics.has(name ?? '')]).toEqual([expression, true]);
            continue;
          }
          const [space, name, ...rest] = row as string[];
          const dimensions = Object.fromEntries(
            rest.flatMap((item, i) => (i % 2 === 0 && typeof item === 'string' ? [[item, rest[i + 1]]] : [])),
          );
          const label = `${widget.properties.title}: ${space} ${name}`;
          if (space === namespace) {
            expect([label, emfMetrics.has(name ?? '')]).toEqual([label, true]);
            expect([label, dimensions.service]).toEqual([label, 'cats-api']);
            const keys = Object.keys(dimensions).sort();
            // The dimension sets lib/metrics.ts writes, and no other.
            expect([label, [['route', 'service'], ['service'], ['function_name', 'service']]]).toEqual([
              label,
              expect.arrayContaining([keys]),
            ]);
            if (keys.includes('route'))
              expect([label, routesOf(resources)]).toEqual([label, expect.arrayContaining([dimensions.route])]);
            continue;
          }
          const known = awsMetrics[space ?? ''];
          expect([label, known?.names.includes(name ?? '')]).toEqual([label, true]);
          for (const [dimension, value] of Object.entries(dimensions)) {
            const type = known?.dimensions[dimension];
            expect([label, dimension, type]).toEqual([label, dimension, expect.any(String)]);
            const id = /^<Ref (\w+)>$/.exec(String(value))?.[1];
            if (type === '') continue;
            // A Ref to a resource of that type that this stage creates.
            expect([label, id && resources[id]?.Type]).toEqual([label, type]);
          }
        }
      }
    }
  });

  it('answers the first questions: requests, errors and p50/p90/p99 latency of every route, cold starts, throttles, 503s, the database', () => {
    const resources = activeResources(dev.template);
    const widgets = dashboardOf(resources);
    const byTitle = (pattern: RegExp) => {
      const found = widgets.filter((w) => pattern.test(w.properties.title ?? ''));
      expect([String(pattern), found.length]).toEqual([String(pattern), 1]);
      return found[0] as Widget;
    };
    const routesDrawn = (widget: Widget, metric: string, stat?: string) =>
      (widget.properties.metrics ?? [])
        .filter((row) => row[1] === metric && (stat === undefined || (row.at(-1) as { stat?: string }).stat === stat))
        .map((row) => row[5])
        .sort();
    const routes = routesOf(resources).sort();
    expect(routesDrawn(byTitle(/^Requests by route/), metricNames.requests)).toEqual(routes);
    expect(routesDrawn(byTitle(/^Errors by route/), metricNames.clientErrors)).toEqual(routes);
    expect(routesDrawn(byTitle(/^Errors by route/), metricNames.serverErrors)).toEqual(routes);
    for (const p of ['p50', 'p90', 'p99']) {
      expect(routesDrawn(byTitle(new RegExp(`^Latency ${p} by route`)), metricNames.latency, p)).toEqual(routes);
    }
    const cold = byTitle(/^Cold starts by function/).properties.metrics ?? [];
    expect(cold.map((row) => row[5]).sort()).toEqual(
      dev.functions
        .filter((fn) => fn.routes.length > 0)
        .map((fn) => `<Ref ${fn.id}LambdaFunction>`)
        .sort(),
    );
    const init = byTitle(/^Init duration/);
    expect(init.type).toBe('log');
    for (const fn of dev.functions) {
      expect(init.properties.query).toContain(`SOURCE '${resources[`${fn.id}LogGroup`]?.Properties?.LogGroupName}'`);
    }
    expect(init.properties.query).toContain('@initDuration');
    const throttled = byTitle(/^Throttles by function/).properties.metrics ?? [];
    expect(throttled.map((row) => row[3]).sort()).toEqual(
      dev.functions.map((fn) => `<Ref ${fn.id}LambdaFunction>`).sort(),
    );
    expect(byTitle(/^Database unavailable/).properties.metrics?.[0]?.[1]).toBe(metricNames.databaseUnavailable);
    byTitle(/^Database CPU/);
    byTitle(/^Database connections/);
    const events = JSON.stringify(byTitle(/^Domain events/).properties.metrics);
    for (const name of ['CatsCreated', 'CatsChanged', 'CatsDeleted', 'IdempotentReplays', 'PreconditionFailed']) {
      expect(events).toContain(`MetricName=\\"${name}\\"`);
    }
  });

  it("draws the proxy's connections only when the proxy is on, and no database widget for an existing database", () => {
    const titles = (packaged: Packaged) =>
      dashboardOf(activeResources(packaged.template)).map((w) => w.properties.title ?? '');
    expect(titles(dev).filter((t) => /Proxy/.test(t))).toEqual([]);
    expect(titles(proxied).filter((t) => /Proxy/.test(t))).toHaveLength(2);
    expect(titles(existingDb).filter((t) => /Database (CPU|connections)|Proxy/.test(t))).toEqual([]);
    // The 503s are still drawn: they are the functions' own.
    expect(titles(existingDb)).toContainEqual(expect.stringMatching(/^Database unavailable/));
  });

  it('draws the domain events of every resource a handler names, from the metric names lib/metrics.ts writes', () => {
    expect(resourceNames).toContain('Cats');
    const widget = dashboardOf(activeResources(dev.template)).find((w) =>
      /^Domain events/.test(w.properties.title ?? ''),
    );
    const drawn = JSON.stringify(widget?.properties.metrics);
    for (const resource of resourceNames) {
      for (const event of ['Created', 'Changed', 'Deleted']) {
        // Missing: add the resource to custom.observability.resources in serverless.yml.
        expect([resource, drawn]).toEqual([resource, expect.stringContaining(`MetricName=\\"${resource}${event}\\"`)]);
      }
    }
    expect(plugin.metricNames).toEqual(metricNames);
  });
});

describe('saved queries', () => {
  it('answer slowest requests, cold starts by function, one request id and 5xx by route over every function log', () => {
    const resources = activeResources(dev.template);
    const queries = Object.fromEntries(
      ofType(resources, 'AWS::Logs::QueryDefinition').map(([, q]) => [
        String(q.Properties?.Name).replace(`${namespace}/`, ''),
        q.Properties,
      ]),
    );
    expect(Object.keys(queries)).toEqual(
      expect.arrayContaining(['Slowest requests', 'Cold starts by function', '5xx by route']),
    );
    expect(Object.keys(queries).some((name) => /one request id/.test(name))).toBe(true);
    const logGroups = dev.functions.map((fn) => resources[`${fn.id}LogGroup`]?.Properties?.LogGroupName).sort();
    for (const [name, query] of Object.entries(queries)) {
      expect([name, [...((query?.LogGroupNames as string[] | undefined) ?? [])].sort()]).toEqual([name, logGroups]);
    }
    // The fields of the request log line (lib/http/handler.ts) they read.
    expect(queries['Slowest requests']?.QueryString).toMatch(/filter message = "request"[\s\S]*sort durationMs desc/);
    expect(queries['5xx by route']?.QueryString).toMatch(/status >= 500[\s\S]*by route/);
    expect(queries['Cold starts by function']?.QueryString).toMatch(/@initDuration[\s\S]*by @log/);
  });
});

describe('alarms', () => {
  it('say in their description what to look at first, and each reads at most 10 metrics', () => {
    const alarms = ofType(activeResources(dev.template), 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(10);
    for (const [id, alarm] of alarms) {
      expect([id, String(alarm.Properties?.AlarmDescription)]).toEqual([id, expect.stringMatching(/Look (first )?at/)]);
      const metrics = (alarm.Properties?.Metrics as { MetricStat?: unknown }[] | undefined) ?? [];
      expect([id, metrics.filter((m) => m.MetricStat).length <= 10]).toEqual([id, true]);
    }
  });

  it('watch the p99 latency of every route and the cold-start rate of every function that uses the database', () => {
    const resources = activeResources(dev.template);
    const alarms = ofType(resources, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties ?? {});
    const latency = alarms.filter((a) => a.MetricName === metricNames.latency);
    expect(latency.every((a) => a.ExtendedStatistic === 'p99' && a.Namespace === namespace)).toBe(true);
    expect(
      latency
        .map((a) => (a.Dimensions as { Name: string; Value: string }[]).find((d) => d.Name === 'route')?.Value)
        .sort(),
    ).toEqual(routesOf(resources).sort());
    const cold = alarms.filter((a) =>
      JSON.stringify(a.Metrics ?? []).includes(`"MetricName":"${metricNames.coldStart}"`),
    );
    expect(cold.map((a) => JSON.stringify(a.Metrics).match(/"Ref":"(\w+)LambdaFunction"/)?.[1]).sort()).toEqual(
      dev.functions
        .filter((fn) => fn.database?.share !== undefined)
        .map((fn) => fn.id)
        .sort(),
    );
    // The database alarm reads the series lib/metrics.ts writes on a 503: dimension service alone.
    const database = alarms.filter((a) => a.MetricName === metricNames.databaseUnavailable);
    expect(database).toEqual([
      expect.objectContaining({ Namespace: namespace, Dimensions: [{ Name: 'service', Value: 'cats-api' }] }),
    ]);
  });
});
