/**
 * A local Serverless Framework plugin (serverless.yml `plugins:`): everything a
 * deployed function needs besides its own entry follows from that entry in
 * `functions:`, so a new function is declared once.
 *
 * A function's `database:` says whether and how it uses the database:
 *   database: { share: 1 }          an API function: it gets the deployed
 *                                   database settings (custom.database.environment)
 *                                   and a reserved concurrency that is its share of
 *                                   custom.database.connections;
 *   database: { migrations: true }  the migrate function: the settings of the
 *                                   instance itself (never the proxy), one at a time.
 * Without `database:` a function gets neither (it must set its own
 * reservedConcurrency), and runs outside the VPC. Every route gets an API
 * throttle derived from its function's reserved concurrency and
 * custom.database.requestMs (apiThrottles), so API Gateway answers 429 before
 * Lambda throttles.
 *
 * One IAM role per kind of function, each with only what that kind uses
 * (instead of the framework's one role for all): writing to the log groups of
 * its own functions (named exactly, not by a prefix another stage's name
 * could share) and sending traces, plus, for the kinds that use the database,
 * the network interfaces of the VPC and custom.database.apiStatements (the
 * API functions: rds-db:connect as the application role) or
 * .migrationsStatements (migrate: the owner's secret). Every function gets an alarm on its throttles, and
 * every log group gets provider.logRetentionInDays from the framework itself.
 * (Its 503s are counted by the request metrics, lib/metrics.ts; the dashboard
 * and the other alarms come from serverless-observability.cjs.)
 *
 * Every route gets the JWT authorizer custom.auth names, by its method: any
 * method but GET and HEAD needs the write scope, GET and HEAD the read scope
 * when custom.auth.reads is "true" and nothing otherwise. A function with
 * `auth: public` (the docs) and a catch-all route stay open. This runs for
 * every command (serverless-offline included, which then enforces the same
 * rules against the local issuer); the rest only on `sls package` and `sls
 * deploy`, so serverless-offline and `sls invoke local` never see the
 * CloudFormation expressions.
 */
'use strict';

/** Methods that only read: they need the read scope when reads are closed, nothing otherwise. */
const readMethods = new Set(['GET', 'HEAD']);

class PerFunction {
  constructor(serverless, options = {}, { log } = {}) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    serverless.configSchemaHandler.defineFunctionProperties('aws', {
      properties: {
        // `auth: public`: no authorizer on the function's routes, whatever
        // the method (content that is public by nature: the docs).
        auth: { enum: ['public'] },
        database: {
          type: 'object',
          properties: {
            share: { type: 'integer', minimum: 1 },
            migrations: { const: true },
          },
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
        },
      },
    });
    this.hooks = {
      // Every command (package, deploy, offline, invoke local) starts here.
      initialize: () => {
        this.describeRoutes();
        this.attachAuthorizer();
        this.checkDatabaseAuth();
      },
      'before:package:compileFunctions': () => {
        this.reserveConnections();
        this.describeAuthServer();
      },
      'after:package:compileEvents': () => this.addResources(),
    };
  }

  get functions() {
    const service = this.serverless.service;
    return service.getAllFunctions().map((name) => ({ name, entry: service.getFunction(name) }));
  }

  get settings() {
    const database = this.serverless.service.custom?.database;
    if (
      !database?.environment ||
      !database.migrationsEnvironment ||
      database.connections === undefined ||
      database.requestMs === undefined ||
      !Array.isArray(database.apiStatements) ||
      !Array.isArray(database.migrationsStatements)
    ) {
      throw new this.serverless.classes.Error(
        'serverless-per-function.cjs needs custom.database.connections, .requestMs, .environment, .migrationsEnvironment, .apiStatements and .migrationsStatements in serverless.yml',
      );
    }
    return database;
  }

  /**
   * dbAuth (custom.database.auth) is "iam" or "secret"; with an existing
   * database, iam needs the id its rds-db:connect permission names, and
   * secret the secret. The database the stack creates always uses IAM.
   */
  checkDatabaseAuth() {
    const { auth, existingHost, existingResourceId, existingSecretArn } = this.settings;
    const fail = (message) => {
      throw new this.serverless.classes.Error(`serverless-per-function.cjs: ${message}`);
    };
    if (auth !== 'iam' && auth !== 'secret') fail(`dbAuth must be "iam" or "secret", got "${auth}"`);
    if (!existingHost) return;
    if (auth === 'iam' && !/^(db|prx)-[A-Za-z0-9]+$/.test(existingResourceId ?? '')) {
      fail(
        "dbAuth=iam with existingDbHost needs existingDbResourceId: the instance's DbiResourceId (db-...) or the " +
          "proxy's id (prx-...), which the API functions' rds-db:connect permission names. Or use dbAuth=secret.",
      );
    }
    if (auth === 'secret' && !existingSecretArn) fail('dbAuth=secret with existingDbHost needs existingDbSecretArn');
  }

  /**
   * The catch-all function (the one with `httpApi: '*'`, API Gateway's
   * `$default` route) answers what no route matches: 404, or 405 with `Allow`
   * when the path is known. It learns the routes from API_ROUTES, the
   * `METHOD /path` of every other httpApi event, so the list is never written
   * twice.
   */
  describeRoutes() {
    const routes = [];
    const catchAll = [];
    for (const { entry } of this.functions) {
      for (const event of entry.events ?? []) {
        if (event.httpApi === undefined) continue;
        const route = typeof event.httpApi === 'string' ? parseRoute(event.httpApi) : event.httpApi;
        if (route.path === '*') catchAll.push(entry);
        else routes.push(`${String(route.method).toUpperCase()} ${route.path}`);
      }
    }
    for (const entry of catchAll) entry.environment = { ...entry.environment, API_ROUTES: routes.join(',') };
  }

  /**
   * Puts the authorizer on every route that is not public, with the scope
   * its method needs, and tells the functions (API_AUTH) which rules apply,
   * so the OpenAPI document describes them. Under serverless-offline the
   * authorizer checks the local issuer and audience instead of the deployed
   * ones (or authIssuer and authAudience, which npm start --stage passes),
   * and only with --ignoreJWTSignature (without it serverless-offline skips
   * JWT authorizers and every route would be open).
   */
  attachAuthorizer() {
    const service = this.serverless.service;
    const auth = service.custom?.auth;
    const fail = (message) => {
      throw new this.serverless.classes.Error(`serverless-per-function.cjs: ${message}`);
    };
    if (!auth?.authorizer || !auth.writeScope || !auth.readScope || !auth.local) {
      fail('needs custom.auth.authorizer, .writeScope, .readScope and .local in serverless.yml');
    }
    for (const flag of ['reads', 'open']) {
      if (!['true', 'false'].includes(String(auth[flag]))) {
        fail(
          `custom.auth.${flag} (param auth${flag[0].toUpperCase()}${flag.slice(1)}) must be "true" or "false", got "${auth[flag]}"`,
        );
      }
    }
    if (Boolean(auth.issuer) !== Boolean(auth.audience)) {
      fail(
        "authIssuer and authAudience go together: give both (an external issuer) or neither (the stack's own Cognito issuer)",
      );
    }
    const authorizers = service.provider.httpApi?.authorizers ?? {};
    if (!authorizers[auth.authorizer])
      fail(`custom.auth.authorizer names ${auth.authorizer}, which provider.httpApi.authorizers lacks`);
    const offline = this.serverless.processedInput?.commands?.[0] === 'offline';
    const open = String(auth.open) === 'true' || (offline && this.options.noAuth === true);
    const reads = String(auth.reads) === 'true';
    service.provider.environment = {
      ...service.provider.environment,
      API_AUTH: open ? 'open' : reads ? 'reads-and-writes' : 'writes',
    };
    if (open) {
      if (!offline) {
        this.log?.warning?.(
          'authOpen=true: no route of this stage checks a token. Anyone who finds its URL can add, change and delete cats.',
        );
      }
      delete authorizers[auth.authorizer];
      return;
    }
    if (offline) {
      if (this.options.ignoreJWTSignature !== true) {
        fail(
          'serverless-offline checks JWT authorizers only with --ignoreJWTSignature and otherwise leaves every route open. ' +
            'Run `npm start` (which passes it), or `npm start -- --open` for an API without tokens.',
        );
      }
      // npm start's issuer, or the one it was told to check (--stage, --issuer: authIssuer and authAudience).
      const checked = auth.issuer ? { issuer: auth.issuer, audience: auth.audience } : auth.local;
      Object.assign(authorizers[auth.authorizer], { issuerUrl: checked.issuer, audience: [checked.audience] });
    }
    for (const { entry } of this.functions) {
      entry.events = (entry.events ?? []).map((event) => {
        // The catch-all ($default, functions/unmatched.ts) stays as it is: public, and '*' has no method.
        if (!event.httpApi || event.httpApi === '*') return event;
        const route = typeof event.httpApi === 'string' ? parseRoute(event.httpApi) : { ...event.httpApi };
        if (entry.auth === 'public' || route.path === '*' || route.authorizer) return { httpApi: route };
        const method = String(route.method).toUpperCase();
        if (readMethods.has(method) && !reads) return { httpApi: route };
        const scopes = [readMethods.has(method) ? auth.readScope : auth.writeScope];
        return { httpApi: { ...route, authorizer: { name: auth.authorizer, scopes } } };
      });
    }
  }

  /**
   * Tells the function that serves the OpenAPI document where the stage's
   * tokens come from (API_AUTH_SERVER), so its security scheme names the
   * real token URL: the stage's Cognito domain, or the external issuer's
   * discovery document. Left unset under npm start, whose document names
   * the local token endpoint.
   */
  describeAuthServer() {
    const auth = this.serverless.service.custom.auth;
    const value = auth.issuer
      ? `${String(auth.issuer).replace(/\/$/, '')}/.well-known/openid-configuration`
      : {
          'Fn::If': [
            'CreateAuthIssuer',
            {
              'Fn::Join': [
                '',
                [
                  'https://',
                  { Ref: 'AuthDomain' },
                  '.auth.',
                  { Ref: 'AWS::Region' },
                  '.amazoncognito.com/oauth2/token',
                ],
              ],
            },
            { Ref: 'AWS::NoValue' },
          ],
        };
    for (const { entry } of this.functions) {
      if (entry.handler === 'functions/openapi.handler') {
        entry.environment = { ...entry.environment, API_AUTH_SERVER: value };
      }
    }
  }

  /**
   * Each API function may hold `reserved concurrency x DB_POOL_MAX`
   * connections; their sum is custom.database.connections, split in
   * proportion to the functions' shares. So the budget follows the
   * database's capacity, and a new route takes part of it instead of adding
   * to it.
   */
  reserveConnections() {
    this.computeReservations();
    if (this.reservationsDropped) this.dropReservations();
  }

  computeReservations() {
    const { connections } = this.settings;
    const poolMax = Number(this.serverless.service.provider.environment?.DB_POOL_MAX ?? 1);
    const api = this.functions.filter(({ entry }) => entry.database?.share !== undefined);
    const shares = api.reduce((sum, { entry }) => sum + entry.database.share, 0);
    const containers = Math.floor(Number(connections) / poolMax);
    for (const { name, entry } of this.functions) {
      if (!entry.database) continue;
      if (entry.reservedConcurrency !== undefined) {
        throw new this.serverless.classes.Error(
          `functions.${name}: a function with \`database:\` gets its reserved concurrency from custom.database.connections; remove its reservedConcurrency`,
        );
      }
      if (entry.database.migrations) {
        // One at a time: a second would only wait for the migrator's advisory lock.
        entry.reservedConcurrency = 1;
        continue;
      }
      const reserved = Math.floor((containers * entry.database.share) / shares);
      if (reserved < 1) {
        // A reserved concurrency of 0 would switch the function off.
        throw new this.serverless.classes.Error(
          `functions.${name}: custom.database.connections (${connections}) is too small to give each of the ${api.length} functions that use the database at least one connection`,
        );
      }
      entry.reservedConcurrency = reserved;
    }
  }

  /**
   * reservedConcurrency=false (param): for accounts whose Lambda quota holds
   * no reservation (Lambda keeps min(100, quota) unreserved; new accounts
   * start at 10 or 50). No function reserves anything, so what bounds the
   * database connections is the account's quota x DB_POOL_MAX, or RDS Proxy;
   * the deploy's preflight (scripts/preflight.ts) checks that one of them
   * holds. Kept apart from reserveConnections, which stays the default.
   */
  get reservationsDropped() {
    const value = String(this.settings.reservedConcurrency ?? 'true');
    if (!['true', 'false'].includes(value)) {
      throw new this.serverless.classes.Error(
        `serverless-per-function.cjs: custom.database.reservedConcurrency (param reservedConcurrency) must be "true" or "false", got "${value}"`,
      );
    }
    return value === 'false';
  }

  dropReservations() {
    // The API's throttles still follow the shares the reservations would have
    // had (throttleRoutes): with no reservation they are what keeps a
    // function's concurrency, and so its connections, near its share.
    this.throttleBasis = new Map();
    for (const { name, entry } of this.functions) {
      this.throttleBasis.set(name, entry.reservedConcurrency);
      delete entry.reservedConcurrency;
    }
    this.log?.warning?.(
      'reservedConcurrency=false: no function reserves concurrency. The account quota x DB_POOL_MAX, or RDS Proxy, bounds the database connections (docs/deploying.md).',
    );
  }

  /**
   * The HTTP API's throttles, from each function's reserved concurrency and
   * the request latency (custom.database.requestMs): see apiThrottles.
   * Written on the stage as one RouteSettings entry per route, and the
   * smallest of them as DefaultRouteSettings for any route added elsewhere.
   */
  throttleRoutes(template) {
    const stage = template.Resources.HttpApiStage;
    if (!stage) return;
    const requestMs = Number(this.settings.requestMs);
    const { routes, fallback } = apiThrottles(
      this.functions.map(({ name, entry }) => ({
        reserved: entry.reservedConcurrency ?? this.throttleBasis?.get(name),
        routes: (entry.events ?? [])
          .filter((event) => event.httpApi !== undefined)
          .map((event) => routeKey(event.httpApi)),
      })),
      requestMs,
    );
    const settings = (limit) => ({ ThrottlingRateLimit: limit.rate, ThrottlingBurstLimit: limit.burst });
    stage.Properties.DefaultRouteSettings = { ...stage.Properties.DefaultRouteSettings, ...settings(fallback) };
    stage.Properties.RouteSettings = Object.fromEntries(
      Object.entries(routes).map(([key, limit]) => [key, settings(limit)]),
    );
    // A stage's RouteSettings may name only routes that exist already.
    const routeIds = Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::ApiGatewayV2::Route')
      .map(([id]) => id);
    stage.DependsOn = [...new Set([...[stage.DependsOn ?? []].flat(), ...routeIds])];
  }

  /**
   * Replaces the framework's one role for every function (IamRoleLambdaExecution,
   * whose log permissions cover `/aws/lambda/<service>-<stage>*`, and so a
   * stage whose name starts with this one's) by one role per kind.
   */
  addRoles(template, naming) {
    const { apiStatements, migrationsStatements } = this.settings;
    const tracing = Boolean(this.serverless.service.provider.tracing?.lambda);
    // provider.iam.role.permissionsBoundary (param permissionsBoundary) would
    // have gone on the framework's role; these roles carry it instead.
    const boundary = this.serverless.service.provider.iam?.role?.permissionsBoundary;
    const kinds = new Map();
    for (const { name, entry } of this.functions) {
      const role = kindOf(entry);
      const functionId = naming.getLambdaLogicalId(name);
      if (!kinds.has(role)) kinds.set(role, { logGroups: [], database: entry.database });
      kinds.get(role).logGroups.push(naming.getLogGroupLogicalId(name));
      const resource = template.Resources[functionId];
      resource.Properties.Role = { 'Fn::GetAtt': [role, 'Arn'] };
      if ((entry.events ?? []).some((event) => event.sqs !== undefined)) kinds.get(role).pollsQueues = true;
    }
    // What the framework gave its role for the functions' event sources
    // (an SQS source's poller reads and deletes with the function's role)
    // goes to the role of the kind whose functions have such a source.
    const frameworkStatements =
      template.Resources.IamRoleLambdaExecution?.Properties?.Policies?.flatMap((p) => p.PolicyDocument.Statement) ?? [];
    const polling = frameworkStatements.filter((statement) =>
      [statement.Action].flat().some((action) => /^sqs:ReceiveMessage$/.test(action)),
    );
    // Anything the framework made wait for its role (functions, event source
    // mappings) waits for the role that replaces it.
    for (const resource of Object.values(template.Resources)) {
      if (!resource.DependsOn) continue;
      const dependsOn = [resource.DependsOn].flat();
      if (!dependsOn.includes('IamRoleLambdaExecution')) continue;
      const replaced = dependsOn.filter((id) => id !== 'IamRoleLambdaExecution');
      if (resource.Type === 'AWS::Lambda::EventSourceMapping') replaced.push(...kinds.keys());
      resource.DependsOn = [...new Set(replaced)];
    }
    delete template.Resources.IamRoleLambdaExecution;
    for (const [role, { logGroups, database, pollsQueues }] of kinds) {
      const statements = [
        {
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          // A log group's Arn ends in `:*`: its streams, whose names Lambda generates.
          Resource: logGroups.map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] })),
        },
      ];
      if (tracing) {
        // X-Ray has no resource-level permissions for these two.
        statements.push({
          Effect: 'Allow',
          Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          Resource: '*',
        });
      }
      if (database) {
        statements.push({
          // What Lambda does with the function's role to attach it to the
          // VPC; EC2 has no resource-level permissions for the Describe
          // calls, and the interfaces' ids are Lambda's to choose.
          Effect: 'Allow',
          Action: [
            'ec2:CreateNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:DeleteNetworkInterface',
            'ec2:AssignPrivateIpAddresses',
            'ec2:UnassignPrivateIpAddresses',
          ],
          Resource: '*',
        });
        statements.push(...(database.migrations ? migrationsStatements : apiStatements));
      }
      if (pollsQueues) statements.push(...polling);
      template.Resources[role] = {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: ['lambda.amazonaws.com'] }, Action: ['sts:AssumeRole'] },
            ],
          },
          Policies: [{ PolicyName: role, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
          ...(boundary === undefined ? {} : { PermissionsBoundary: boundary }),
        },
      };
    }
  }

  addResources() {
    const { naming } = this.serverless.getProvider('aws');
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const { environment, migrationsEnvironment } = this.settings;
    this.throttleRoutes(template);
    this.addRoles(template, naming);
    for (const { name, entry } of this.functions) {
      const functionId = naming.getLambdaLogicalId(name);
      const prefix = functionId.replace(/LambdaFunction$/, '');
      const resource = template.Resources[functionId];
      if (entry.database) {
        // An API function's wait for a new connection after a lost one is the
        // latency the throttles assume (lib/db/breaker.ts, "suspect").
        const added = entry.database.migrations
          ? migrationsEnvironment
          : { ...environment, DB_RECONNECT_WAIT_MS: String(this.settings.requestMs) };
        resource.Properties.Environment = {
          Variables: { ...resource.Properties.Environment?.Variables, ...added },
        };
      } else {
        // Nothing to reach in the VPC: no network interfaces, and no
        // permission to make them.
        delete resource.Properties.VpcConfig;
      }
      // One alarm per function: an alarm on a metric math expression may use
      // at most 10 metrics, and the alarm's name says which function it is.
      template.Resources[`${prefix}ThrottlesAlarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription:
            `${name} was throttled in the last 5 minutes: it reached ${
              entry.reservedConcurrency === undefined
                ? "the account's unreserved concurrency (reservedConcurrency=false)"
                : `its reserved concurrency (${entry.reservedConcurrency})`
            }. Look at its invocations: a traffic spike, or slow requests holding ` +
            'containers; the concurrency of functions that use the database follows custom.database.connections.',
          Namespace: 'AWS/Lambda',
          MetricName: 'Throttles',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
          Statistic: 'Sum',
          Period: 300,
          EvaluationPeriods: 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlarmTopic' }],
          OKActions: [{ Ref: 'AlarmTopic' }],
        },
      };
    }
  }
}

/**
 * The API's throttles, so that API Gateway answers its own 429 before Lambda
 * has to throttle a function (which API Gateway turns into a 500 no client
 * retries). A function of reserved concurrency r whose requests take at most
 * L ms (requestMs) can never have more than r of them in flight if, within
 * any L ms, at most r requests are let in. The token bucket lets in at most
 * burst + rate x L in L ms, so the function gets
 *
 *   burst = floor(r / 2)   and   rate = (r / 2) / (L / 1000) requests a second
 *
 * (half the containers for a burst arriving at once, half for the steady
 * rate). A function with several routes splits both evenly among them (an
 * HTTP API throttles per route), burst at least 1. Returns the limit of each
 * route key, and the smallest as the fallback for routes not listed.
 *
 * When a request may take longer than L (a database host that black-holes
 * connections holds each container's first request for the connect timeout;
 * the circuit breaker, lib/db/breaker.ts, makes the rest fast) the bound
 * does not hold for that long: see docs/reliability.md.
 */
function apiThrottles(functions, requestMs) {
  if (!(requestMs > 0)) throw new Error(`apiThrottles: requestMs must be a positive number of ms, got ${requestMs}`);
  const routes = {};
  for (const { reserved, routes: keys } of functions) {
    if (keys.length === 0) continue;
    if (!(reserved >= 1))
      throw new Error(`apiThrottles: a function with routes ${keys.join(', ')} has no reserved concurrency`);
    const burst = Math.max(1, Math.floor(reserved / 2 / keys.length));
    // Two decimals: API Gateway takes a double; whole requests per second would round 0.5/s to 0.
    const rate = Math.floor(((reserved / 2) * 1000 * 100) / requestMs / keys.length) / 100;
    for (const key of keys) routes[key] = { rate, burst };
  }
  const limits = Object.values(routes);
  const fallback = {
    rate: Math.min(...limits.map((limit) => limit.rate)),
    burst: Math.min(...limits.map((limit) => limit.burst)),
  };
  return { routes, fallback };
}

/** An httpApi event's route key as API Gateway names it: `GET /cats/{id}`, or `$default` for the catch-all. */
function routeKey(httpApi) {
  const route = typeof httpApi === 'string' ? parseRoute(httpApi) : httpApi;
  return route.path === '*' ? '$default' : `${String(route.method).toUpperCase()} ${route.path}`;
}

/** The kind of a function, by its `database:` entry: the logical id of its role and what it may do. */
function kindOf(entry) {
  if (entry.database?.migrations) return 'MigrationsFunctionRole';
  if (entry.database) return 'ApiFunctionsRole';
  return 'NoDatabaseFunctionsRole';
}

/** `GET /cats/{id}` -> { method, path }; `*` (the catch-all) -> { path: '*' }. */
function parseRoute(text) {
  if (text.trim() === '*') return { path: '*' };
  const [method, path] = text.trim().split(/\s+/);
  return { method, path };
}

module.exports = PerFunction;
// For the emulated AWS front of the fault script (scripts/reliability/aws-front.ts).
module.exports.apiThrottles = apiThrottles;
module.exports.routeKey = routeKey;
