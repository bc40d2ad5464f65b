/**
 * A local Serverless Framework plugin (serverless.yml `plugins:`): everything a
 * deployed function needs besides its own entry follows from that entry in
 * `functions:`, so a new function is declared once.
 *
 * A function's `database:` says whether and how it uses the database:
 *   database: { share: 1 }          an API function: it gets the deployed
 *                                   database settings (custom.database.environment),
 *                                   a metric filter counting its 503s
 *                                   (DatabaseUnavailable, alarmed on), and a
 *                                   reserved concurrency that is its share of
 *                                   custom.database.connections;
 *   database: { migrations: true }  the migrate function: the settings of the
 *                                   instance itself (never the proxy), one at a time.
 * Without `database:` a function gets neither (it must set its own
 * reservedConcurrency). Every function gets an alarm on its throttles, and
 * every log group gets provider.logRetentionInDays from the framework itself.
 *
 * Only `sls package` and `sls deploy` run these hooks; serverless-offline and
 * `sls invoke local` never see the CloudFormation expressions.
 */
'use strict';

/** The log lines a DatabaseUnavailable metric filter counts: a request answered 503 (one line per request). */
const databaseErrorsPattern = '{ ($.message = "request") && ($.status = 503) }';

class PerFunction {
  constructor(serverless) {
    this.serverless = serverless;
    serverless.configSchemaHandler.defineFunctionProperties('aws', {
      properties: {
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
      initialize: () => this.describeRoutes(),
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
        const route =
          typeof event.httpApi === 'string' ? event.httpApi : `${event.httpApi.method} ${event.httpApi.path}`;
        if (route === '*') catchAll.push(entry);
        else routes.push(route.replace(/\s+/, ' '));
      }
    }
    for (const entry of catchAll) entry.environment = { ...entry.environment, API_ROUTES: routes.join(',') };
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
    const namespace = `${this.serverless.service.service}/${this.serverless.service.provider.stage}`;
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
      if (entry.database?.share !== undefined) {
        // A 503 is what a request gets when the database cannot be reached,
        // is out of connections or rejects our credentials (lib/http/errors.ts).
        template.Resources[`${prefix}DatabaseErrorsFilter`] = {
          Type: 'AWS::Logs::MetricFilter',
          Properties: {
            LogGroupName: { Ref: naming.getLogGroupLogicalId(name) },
            FilterPattern: databaseErrorsPattern,
            MetricTransformations: [
              { MetricNamespace: namespace, MetricName: 'DatabaseUnavailable', MetricValue: '1', DefaultValue: 0 },
            ],
          },
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

module.exports = PerFunction;
module.exports.databaseErrorsPattern = databaseErrorsPattern;
