/**
 * A local Serverless Framework plugin (serverless.yml `plugins:`): the
 * stage's CloudWatch dashboard, its Logs Insights saved queries and the
 * alarms per route and per function, all generated from `functions:` so that
 * a new route or function appears on them without an edit here.
 *
 * The metrics are the ones lib/metrics.ts writes (Embedded Metric Format, in
 * the namespace `<service>/<stage>`, dimensions service + route) and AWS's own
 * (AWS/Lambda, AWS/ApiGateway, AWS/RDS). custom.observability in
 * serverless.yml names the resources whose domain events (CatsCreated, ...)
 * are drawn, and the alarm thresholds.
 *
 * Only `sls package` and `sls deploy` run this hook.
 */
'use strict';

const { asyncEvents } = require('./serverless-async-events.cjs');

/** The metric names lib/metrics.ts writes (test/deploy/observability.test.ts checks they agree). */
const metric = {
  requests: 'Requests',
  latency: 'Latency',
  clientErrors: 'ClientErrors',
  serverErrors: 'ServerErrors',
  preconditionFailed: 'PreconditionFailed',
  idempotentReplays: 'IdempotentReplays',
  databaseUnavailable: 'DatabaseUnavailable',
  coldStart: 'ColdStart',
};
const domainEvents = ['Created', 'Changed', 'Deleted'];

/** `GET /cats/{id}` -> `GetCatsId`, for logical ids. */
const idOf = (route) =>
  route
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0].toUpperCase() + word.slice(1).toLowerCase())
    .join('') || 'Root';

/**
 * A dashboard body is one JSON string with the stack's names in it: values
 * are written as tokens, and the string is cut at the tokens into an
 * Fn::Join of text, Refs and GetAtts.
 */
const ref = (id) => `@@Ref:${id}@@`;
const region = ref('AWS::Region');
function withReferences(text) {
  const parts = text.split(/@@(Ref|GetAtt):([^@]+)@@/);
  const joined = [];
  for (let i = 0; i < parts.length; i += 3) {
    if (parts[i]) joined.push(parts[i]);
    if (i + 2 < parts.length) {
      joined.push(parts[i + 1] === 'Ref' ? { Ref: parts[i + 2] } : { 'Fn::GetAtt': parts[i + 2].split('.') });
    }
  }
  return { 'Fn::Join': ['', joined] };
}

class Observability {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:package:compileEvents': () => this.addResources() };
  }

  addResources() {
    const sls = this.serverless;
    const { naming } = sls.getProvider('aws');
    const service = sls.service.service;
    const stage = sls.service.provider.stage;
    const namespace = `${service}/${stage}`;
    const settings = sls.service.custom?.observability ?? {};
    const template = sls.service.provider.compiledCloudFormationTemplate;
    const functions = sls.service.getAllFunctions().map((name) => {
      const entry = sls.service.getFunction(name);
      const routes = (entry.events ?? []).flatMap(({ httpApi }) => {
        if (typeof httpApi === 'string') return [httpApi];
        if (httpApi?.method && httpApi.path) return [`${httpApi.method.toUpperCase()} ${httpApi.path}`];
        return [];
      });
      const functionId = naming.getLambdaLogicalId(name);
      const logGroupId = naming.getLogGroupLogicalId(name);
      return {
        name,
        functionId,
        usesDatabase: entry.database?.share !== undefined,
        // A dead-letter queue: an asynchronous event or an SQS source (serverless-async-events.cjs ran first).
        deadLetterQueue: template.Resources[asyncEvents.deadLetterQueueId(functionId.replace(/LambdaFunction$/, ''))]
          ? asyncEvents.deadLetterQueueId(functionId.replace(/LambdaFunction$/, ''))
          : undefined,
        logGroup: template.Resources[logGroupId]?.Properties?.LogGroupName,
        routes: routes.map((route) => (route === '*' ? '$default' : route)),
      };
    });
    const routes = functions.flatMap((fn) => fn.routes);
    // Functions behind the API write the request metrics (lib/http/handler.ts); migrate does not.
    const apiFunctions = functions.filter((fn) => fn.routes.length > 0);
    const logGroups = functions.map((fn) => fn.logGroup).filter(Boolean);
    const dims = (route) => ['service', service, 'route', route];
    const api = ['ApiId', ref('HttpApi'), 'Stage', '$default'];

    // ---- The dashboard: the on-call engineer's first questions, top to bottom.
    const widgets = [];
    const place = (width, height, widget, condition) =>
      widgets.push({ widget: { width, height, ...widget }, condition });
    const graph = (title, metrics, extra = {}) => ({
      type: 'metric',
      properties: { title, region, view: 'timeSeries', period: 300, metrics, ...extra },
    });
    place(24, 2, {
      type: 'text',
      properties: {
        markdown:
          `## ${service} ${stage}\n` +
          'Is it broken? Errors by route and 503s (database). Is it slow? Latency by route, then cold starts. ' +
          'Is it busy? Requests, throttles, database connections. Then the Logs Insights queries ' +
          `\`${namespace}/...\` (slowest requests, one request id) and the X-Ray trace of its \`xray_trace_id\`.`,
      },
    });
    place(
      12,
      6,
      graph(
        'Requests by route (sum)',
        routes.map((route) => [namespace, metric.requests, ...dims(route), { stat: 'Sum', label: route }]),
        { stacked: true },
      ),
    );
    place(
      12,
      6,
      graph('Errors by route: 4xx and 5xx (sum)', [
        ...routes.map((route) => [
          namespace,
          metric.serverErrors,
          ...dims(route),
          { stat: 'Sum', label: `5xx ${route}` },
        ]),
        ...routes.map((route) => [
          namespace,
          metric.clientErrors,
          ...dims(route),
          { stat: 'Sum', label: `4xx ${route}` },
        ]),
      ]),
    );
    for (const p of ['p50', 'p90', 'p99']) {
      place(
        8,
        6,
        graph(
          `Latency ${p} by route (ms)`,
          routes.map((route) => [namespace, metric.latency, ...dims(route), { stat: p, label: route }]),
        ),
      );
    }
    place(
      8,
      6,
      graph('Database unavailable: 503 answers (sum)', [
        [namespace, metric.databaseUnavailable, 'service', service, { stat: 'Sum', label: 'DatabaseUnavailable' }],
      ]),
    );
    place(
      8,
      6,
      graph(
        'Cold starts by function (sum)',
        apiFunctions.map((fn) => [
          namespace,
          metric.coldStart,
          'service',
          service,
          'function_name',
          ref(fn.functionId),
          { stat: 'Sum', label: fn.name },
        ]),
      ),
    );
    place(8, 6, {
      type: 'log',
      properties: {
        title: 'Init duration of cold starts (ms, from the REPORT lines)',
        region,
        view: 'timeSeries',
        query: `${logGroups.map((group) => `SOURCE '${group}'`).join(' | ')} | filter @type = "REPORT" and ispresent(@initDuration) | stats avg(@initDuration) as avg, max(@initDuration) as max, count(*) as coldStarts by bin(5m)`,
      },
    });
    place(
      8,
      6,
      graph(
        'Throttles by function (sum)',
        functions.map((fn) => [
          'AWS/Lambda',
          'Throttles',
          'FunctionName',
          ref(fn.functionId),
          { stat: 'Sum', label: fn.name },
        ]),
      ),
    );
    place(
      8,
      6,
      graph(
        'Concurrent executions by function (max)',
        functions.map((fn) => [
          'AWS/Lambda',
          'ConcurrentExecutions',
          'FunctionName',
          ref(fn.functionId),
          { stat: 'Maximum', label: fn.name },
        ]),
      ),
    );
    place(
      8,
      6,
      graph(
        'Lambda errors and timeouts by function (sum)',
        functions.map((fn) => [
          'AWS/Lambda',
          'Errors',
          'FunctionName',
          ref(fn.functionId),
          { stat: 'Sum', label: fn.name },
        ]),
      ),
    );
    // Functions with an asynchronous event (a schedule) or an SQS source: how
    // they ran, and what waits in their dead-letter queues.
    const asyncFunctions = functions.filter((fn) => fn.deadLetterQueue);
    if (asyncFunctions.length > 0) {
      place(
        12,
        6,
        graph('Asynchronous functions: invocations, errors, failed events waiting (dead-letter queue)', [
          ...asyncFunctions.flatMap((fn) => [
            [
              'AWS/Lambda',
              'Invocations',
              'FunctionName',
              ref(fn.functionId),
              { stat: 'Sum', label: `${fn.name} runs` },
            ],
            ['AWS/Lambda', 'Errors', 'FunctionName', ref(fn.functionId), { stat: 'Sum', label: `${fn.name} errors` }],
            [
              'AWS/SQS',
              'ApproximateNumberOfMessagesVisible',
              'QueueName',
              `@@GetAtt:${fn.deadLetterQueue}.QueueName@@`,
              { stat: 'Maximum', label: `${fn.name} failed events waiting` },
            ],
          ]),
        ]),
      );
    }
    place(
      12,
      6,
      graph('API Gateway: requests, 4xx (429 = throttled), 5xx (sum)', [
        ['AWS/ApiGateway', 'Count', ...api, { stat: 'Sum', label: 'requests' }],
        ['AWS/ApiGateway', '4xx', ...api, { stat: 'Sum', label: '4xx' }],
        ['AWS/ApiGateway', '5xx', ...api, { stat: 'Sum', label: '5xx' }],
      ]),
    );
    // Summed over the routes by a search: which route wrote an event is on
    // the route's own line in the logs; here the question is how many.
    const search = (name) => ({
      expression: `SUM(SEARCH('{"${namespace}",service,route} MetricName="${name}"', 'Sum', 300))`,
      label: name,
    });
    const events = [
      ...(settings.resources ?? []).flatMap((resource) => domainEvents.map((event) => `${resource}${event}`)),
      metric.idempotentReplays,
      metric.preconditionFailed,
    ];
    place(
      12,
      6,
      graph(
        'Domain events (sum over routes)',
        events.map((name) => [search(name)]),
      ),
    );
    const database = ['DBInstanceIdentifier', ref('Database')];
    place(
      8,
      6,
      graph('Database CPU (%)', [['AWS/RDS', 'CPUUtilization', ...database, { stat: 'Average', label: 'CPU' }]]),
      'CreateDatabase',
    );
    place(
      8,
      6,
      graph('Database connections (max)', [
        ['AWS/RDS', 'DatabaseConnections', ...database, { stat: 'Maximum', label: 'connections' }],
      ]),
      'CreateDatabase',
    );
    place(
      8,
      6,
      graph('Database free memory and storage (min, bytes)', [
        ['AWS/RDS', 'FreeableMemory', ...database, { stat: 'Minimum', label: 'freeable memory' }],
        ['AWS/RDS', 'FreeStorageSpace', ...database, { stat: 'Minimum', label: 'free storage' }],
      ]),
      'CreateDatabase',
    );
    const proxy = ['ProxyName', ref('DatabaseProxy')];
    place(
      12,
      6,
      graph('RDS Proxy: client and database connections (max)', [
        ['AWS/RDS', 'ClientConnections', ...proxy, { stat: 'Maximum', label: 'client connections' }],
        ['AWS/RDS', 'DatabaseConnections', ...proxy, { stat: 'Maximum', label: 'database connections' }],
      ]),
      'UseRdsProxy',
    );
    place(
      12,
      6,
      graph('RDS Proxy: connection borrow latency (p99, µs)', [
        ['AWS/RDS', 'DatabaseConnectionsBorrowLatency', ...proxy, { stat: 'p99', label: 'borrow latency' }],
      ]),
      'UseRdsProxy',
    );

    // The first widget is unconditional, so every later one can carry its own leading comma.
    const pieces = widgets.map(({ widget, condition }, i) => {
      const text = withReferences(`${i === 0 ? '' : ','}${JSON.stringify(widget)}`);
      return condition ? { 'Fn::If': [condition, text, ''] } : text;
    });
    template.Resources.Dashboard = {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: `${service}-${stage}`,
        DashboardBody: { 'Fn::Join': ['', ['{"widgets":[', ...pieces, ']}']] },
      },
    };

    // ---- Logs Insights saved queries, over every function's log group.
    const queries = {
      SlowestRequests: [
        'Slowest requests',
        'fields @timestamp, route, path, status, durationMs, requestId, xray_trace_id\n' +
          '| filter message = "request"\n| sort durationMs desc\n| limit 50',
      ],
      ColdStartsByFunction: [
        'Cold starts by function',
        'filter @type = "REPORT" and ispresent(@initDuration)\n' +
          '| stats count(*) as coldStarts, avg(@initDuration) as avgInitMs, max(@initDuration) as maxInitMs by @log\n' +
          '| sort coldStarts desc',
      ],
      OneRequest: [
        'Every line of one request id (replace the id)',
        'fields @timestamp, @log, level, message, status, durationMs, error.message, @message\n' +
          '| filter requestId = "REQUEST-ID" or @requestId = "REQUEST-ID"\n| sort @timestamp asc',
      ],
      ServerErrorsByRoute: [
        '5xx by route',
        'filter message = "request" and status >= 500\n| stats count(*) as errors by route, status\n| sort errors desc',
      ],
      Errors: [
        'Errors with their stack (newest first)',
        'fields @timestamp, requestId, route, status, error.message, error.stack\n' +
          '| filter level = "ERROR"\n| sort @timestamp desc\n| limit 50',
      ],
    };
    for (const [id, [name, query]] of Object.entries(queries)) {
      template.Resources[`${id}Query`] = {
        Type: 'AWS::Logs::QueryDefinition',
        Properties: { Name: `${namespace}/${name}`, LogGroupNames: logGroups, QueryString: query },
      };
    }

    // ---- Alarms: one resource each, so its name says which route or function.
    const alarm = (properties) => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlarmTopic' }],
        OKActions: [{ Ref: 'AlarmTopic' }],
        ...properties,
      },
    });
    const latencyMs = Number(settings.latencyP99AlarmMs ?? 3000);
    for (const route of routes) {
      template.Resources[`LatencyP99${idOf(route)}Alarm`] = alarm({
        AlarmDescription:
          `p99 latency of ${route} above ${latencyMs} ms for 15 minutes. Look first at the dashboard's database ` +
          'CPU and connections and at DatabaseUnavailable (a slow or saturated database slows every route); ' +
          'then the "Slowest requests" query and the X-Ray trace of one of them (xray_trace_id); only this ' +
          'route slow after a deploy: its query (EXPLAIN) or its code.',
        Namespace: namespace,
        MetricName: metric.latency,
        Dimensions: [
          { Name: 'service', Value: service },
          { Name: 'route', Value: route },
        ],
        ExtendedStatistic: 'p99',
        Period: 300,
        EvaluationPeriods: 3,
        DatapointsToAlarm: 3,
        Threshold: latencyMs,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
    const coldPercent = Number(settings.coldStartAlarmPercent ?? 25);
    const minimumInvocations = Number(settings.coldStartAlarmMinInvocations ?? 20);
    // The API's data routes, whose cold start includes a database connection
    // (the docs and the OpenAPI document are rarely asked for, so mostly cold).
    for (const fn of apiFunctions.filter(({ usesDatabase }) => usesDatabase)) {
      const prefix = fn.functionId.replace(/LambdaFunction$/, '');
      template.Resources[`${prefix}ColdStartRateAlarm`] = alarm({
        AlarmDescription:
          `More than ${coldPercent}% of ${fn.name}'s invocations (at least ${minimumInvocations} in 15 minutes) ` +
          'were cold starts. Look first at its concurrent executions and throttles (bursts start new ' +
          'containers), then at deploys (each one replaces every container) and the "Cold starts by function" ' +
          'query for the init duration.',
        Metrics: [
          {
            Id: 'cold',
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: namespace,
                MetricName: metric.coldStart,
                Dimensions: [
                  { Name: 'service', Value: service },
                  { Name: 'function_name', Value: { Ref: fn.functionId } },
                ],
              },
              Period: 900,
              Stat: 'Sum',
            },
          },
          {
            Id: 'invocations',
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: 'Invocations',
                Dimensions: [{ Name: 'FunctionName', Value: { Ref: fn.functionId } }],
              },
              Period: 900,
              Stat: 'Sum',
            },
          },
          {
            Id: 'rate',
            Label: 'cold start percent',
            Expression: `IF(invocations >= ${minimumInvocations}, 100 * cold / invocations, 0)`,
            ReturnData: true,
          },
        ],
        EvaluationPeriods: 1,
        Threshold: coldPercent,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  }
}

module.exports = Observability;
module.exports.metricNames = metric;
