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
 * reservedConcurrency). Every function gets an alarm on its throttles, and
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
    if (!database?.environment || !database.migrationsEnvironment || database.connections === undefined) {
      throw new this.serverless.classes.Error(
        'serverless-per-function.cjs needs custom.database.connections, .environment and .migrationsEnvironment in serverless.yml',
      );
    }
    return database;
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
   * ones, and only with --ignoreJWTSignature (without it serverless-offline
   * skips JWT authorizers and every route would be open).
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
      Object.assign(authorizers[auth.authorizer], { issuerUrl: auth.local.issuer, audience: [auth.local.audience] });
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

  addResources() {
    const { naming } = this.serverless.getProvider('aws');
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const { environment, migrationsEnvironment } = this.settings;
    for (const { name, entry } of this.functions) {
      const functionId = naming.getLambdaLogicalId(name);
      const prefix = functionId.replace(/LambdaFunction$/, '');
      const resource = template.Resources[functionId];
      if (entry.database) {
        const added = entry.database.migrations ? migrationsEnvironment : environment;
        resource.Properties.Environment = {
          Variables: { ...resource.Properties.Environment?.Variables, ...added },
        };
      }
      // One alarm per function: an alarm on a metric math expression may use
      // at most 10 metrics, and the alarm's name says which function it is.
      template.Resources[`${prefix}ThrottlesAlarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription:
            `${name} was throttled in the last 5 minutes: it reached its reserved concurrency ` +
            `(${entry.reservedConcurrency}). Look at its invocations: a traffic spike, or slow requests holding ` +
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

/** `GET /cats/{id}` -> { method, path }; `*` (the catch-all) -> { path: '*' }. */
function parseRoute(text) {
  if (text.trim() === '*') return { path: '*' };
  const [method, path] = text.trim().split(/\s+/);
  return { method, path };
}

module.exports = PerFunction;
