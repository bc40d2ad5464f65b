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
 * reservedConcurrency), and runs outside the VPC.
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
      'before:package:compileFunctions': () => this.reserveConnections(),
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
      !Array.isArray(database.apiStatements) ||
      !Array.isArray(database.migrationsStatements)
    ) {
      throw new this.serverless.classes.Error(
        'serverless-per-function.cjs needs custom.database.connections, .environment, .migrationsEnvironment, .apiStatements and .migrationsStatements in serverless.yml',
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

  /**
   * Replaces the framework's one role for every function (IamRoleLambdaExecution,
   * whose log permissions cover `/aws/lambda/<service>-<stage>*`, and so a
   * stage whose name starts with this one's) by one role per kind.
   */
  addRoles(template, naming) {
    const { apiStatements, migrationsStatements } = this.settings;
    const tracing = Boolean(this.serverless.service.provider.tracing?.lambda);
    const kinds = new Map();
    for (const { name, entry } of this.functions) {
      const role = kindOf(entry);
      const functionId = naming.getLambdaLogicalId(name);
      if (!kinds.has(role)) kinds.set(role, { logGroups: [], database: entry.database });
      kinds.get(role).logGroups.push(naming.getLogGroupLogicalId(name));
      const resource = template.Resources[functionId];
      resource.Properties.Role = { 'Fn::GetAtt': [role, 'Arn'] };
      if (Array.isArray(resource.DependsOn)) {
        resource.DependsOn = resource.DependsOn.filter((id) => id !== 'IamRoleLambdaExecution');
      }
    }
    delete template.Resources.IamRoleLambdaExecution;
    for (const [role, { logGroups, database }] of kinds) {
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
        },
      };
    }
  }

  addResources() {
    const { naming } = this.serverless.getProvider('aws');
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const { environment, migrationsEnvironment } = this.settings;
    this.addRoles(template, naming);
    for (const { name, entry } of this.functions) {
      const functionId = naming.getLambdaLogicalId(name);
      const prefix = functionId.replace(/LambdaFunction$/, '');
      const resource = template.Resources[functionId];
      if (entry.database) {
        const added = entry.database.migrations ? migrationsEnvironment : environment;
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
