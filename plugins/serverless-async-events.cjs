/**
 * A local Serverless Framework plugin (serverless.yml `plugins:`): what a
 * function with an asynchronous event needs follows from its entry in
 * `functions:`, as an HTTP function's share and alarms do
 * (serverless-per-function.cjs), so a nightly job is declared once:
 *
 *   nightlyJob:
 *     handler: functions/nightly-job.handler
 *     database: { share: 1 }
 *     events:
 *       - schedule: rate(1 day)
 *
 * An event Lambda is handed to run later (schedule, eventBridge, sns, s3)
 * has no caller to see its error. Such a function gets:
 *   - a dead-letter queue, <Function>DeadLetterQueue: encrypted (SQS-managed
 *     keys), TLS only, events kept 14 days; it receives the event Lambda
 *     gave up on (DeadLetterConfig: the original payload, redrivable as is)
 *     and the on-failure destination's record of why (request id, error);
 *   - bounded retries: Lambda's own (asyncEvents.retries, at most 2, and
 *     asyncEvents.maxEventAgeSeconds) and EventBridge's, when a rule could
 *     not invoke the function at all, which then also ends in the queue;
 *   - an alarm, <Function>FailedEventsAlarm, on the first event in the
 *     queue or one Lambda could not put there;
 *   - its row on the dashboard (serverless-observability.cjs reads
 *     `asyncEvents` below).
 * A function fed by an SQS queue of this template (`sqs:` events) is
 * invoked synchronously, so it needs none of that: its bound is the source
 * queue's redrive policy, which it gets when it has none (redriveSources),
 * with the same dead-letter queue, alarm and dashboard row.
 * custom.asyncEvents in serverless.yml may set retries, maxEventAgeSeconds
 * and maxReceiveCount. Only `sls package` and `sls deploy` run this;
 * serverless-offline runs no schedule.
 */
'use strict';

/** The events Lambda receives asynchronously: the caller does not wait and sees no error. */
const asyncEventTypes = ['schedule', 'eventBridge', 'sns', 's3', 'cloudwatchEvent', 'cloudwatchLog'];
/** 14 days, SQS's longest: time to notice, look and redrive. */
const retentionSeconds = 1209600;

/** Whether a function's entry has an asynchronous event. */
const isAsync = (entry) => (entry.events ?? []).some((event) => asyncEventTypes.some((type) => type in event));
/** The logical id prefix (GetCat) -> its dead-letter queue's logical id. */
const deadLetterQueueId = (prefix) => `${prefix}DeadLetterQueue`;

class AsyncEvents {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'after:package:compileEvents': () => this.addResources() };
  }

  addResources() {
    const sls = this.serverless;
    const { naming } = sls.getProvider('aws');
    const template = sls.service.provider.compiledCloudFormationTemplate;
    const settings = sls.service.custom?.asyncEvents ?? {};
    const retries = Number(settings.retries ?? 2);
    const maxEventAge = Number(settings.maxEventAgeSeconds ?? 3600);
    const maxReceives = Number(settings.maxReceiveCount ?? 3);
    this.maxReceives = maxReceives;
    if (!Number.isInteger(maxReceives) || maxReceives < 1 || maxReceives > 1000) {
      throw new sls.classes.Error(`custom.asyncEvents.maxReceiveCount must be 1 to 1000, got ${maxReceives}`);
    }
    if (!Number.isInteger(retries) || retries < 0 || retries > 2) {
      throw new sls.classes.Error(`custom.asyncEvents.retries must be 0, 1 or 2 (Lambda's limit), got ${retries}`);
    }
    if (!Number.isInteger(maxEventAge) || maxEventAge < 60 || maxEventAge > 21600) {
      throw new sls.classes.Error(`custom.asyncEvents.maxEventAgeSeconds must be 60 to 21600, got ${maxEventAge}`);
    }
    for (const name of sls.service.getAllFunctions()) {
      const entry = sls.service.getFunction(name);
      const functionId = naming.getLambdaLogicalId(name);
      const prefix = functionId.replace(/LambdaFunction$/, '');
      const queueId = deadLetterQueueId(prefix);
      const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };
      const fn = template.Resources[functionId];
      if (!isAsync(entry)) {
        if (this.redriveSources(entry, fn, queueId)) this.failedEventsAlarm(name, functionId, queueId, maxReceives);
        continue;
      }
      const targetsFunction = (target) =>
        JSON.stringify(target.Arn) === JSON.stringify({ 'Fn::GetAtt': [functionId, 'Arn'] });
      const rules = Object.entries(template.Resources).filter(
        ([, resource]) =>
          resource.Type === 'AWS::Events::Rule' && (resource.Properties?.Targets ?? []).some(targetsFunction),
      );

      // EventBridge puts an event there when it could not invoke the function, for this function's rules only.
      this.addQueue(
        queueId,
        rules.length > 0
          ? [
              {
                Sid: 'UndeliveredEvents',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: {
                  ArnEquals: { 'aws:SourceArn': rules.map(([id]) => ({ 'Fn::GetAtt': [id, 'Arn'] })) },
                },
              },
            ]
          : [],
      );
      for (const [, rule] of rules) {
        rule.Properties.Targets = rule.Properties.Targets.map((target) =>
          targetsFunction(target)
            ? {
                ...target,
                DeadLetterConfig: { Arn: queueArn },
                // EventBridge retries a failed delivery with backoff, for as long as Lambda would keep the event.
                RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: maxEventAge },
              }
            : target,
        );
      }

      fn.Properties.DeadLetterConfig = { TargetArn: queueArn };
      template.Resources[`${prefix}EventInvokeConfig`] = {
        Type: 'AWS::Lambda::EventInvokeConfig',
        Properties: {
          FunctionName: { Ref: functionId },
          Qualifier: '$LATEST',
          MaximumRetryAttempts: retries,
          MaximumEventAgeInSeconds: maxEventAge,
          DestinationConfig: { OnFailure: { Destination: queueArn } },
        },
      };
      // Its role may send to its queue (the dead letter and the destination record), and only to it. The
      // role is its kind's (serverless-per-function.cjs), so the functions of that kind all may.
      const roleId = fn.Properties.Role?.['Fn::GetAtt']?.[0];
      const policy = template.Resources[roleId]?.Properties?.Policies?.[0]?.PolicyDocument;
      if (!policy) {
        throw new sls.classes.Error(
          `serverless-async-events.cjs: ${name}'s role has no inline policy to add sqs:SendMessage to`,
        );
      }
      policy.Statement.push({ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [queueArn] });

      this.failedEventsAlarm(name, functionId, queueId, retries + 1);
    }
  }

  /** An encrypted, TLS-only dead-letter queue, with `allow` statements besides. */
  addQueue(queueId, allow) {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const queueArn = { 'Fn::GetAtt': [queueId, 'Arn'] };
    template.Resources[queueId] = {
      Type: 'AWS::SQS::Queue',
      Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: retentionSeconds },
    };
    template.Resources[`${queueId}Policy`] = {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: queueId }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'TlsOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sqs:*',
              Resource: queueArn,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            ...allow,
          ],
        },
      },
    };
  }

  /**
   * A function fed by SQS (`sqs:` events, queues of this template) is
   * invoked synchronously by Lambda's poller: a failed message goes back to
   * its queue and is received again, so the bound is the queue's redrive
   * policy, which SQS follows to a dead-letter queue. A source queue without
   * one gets it, and a visibility timeout of six times the function's
   * timeout (AWS's advice, so that a retry never overlaps a running batch)
   * when it sets none. Returns whether it added a queue.
   */
  redriveSources(entry, fn, queueId) {
    // serverless.yml's own resources join the compiled template after this hook.
    const declared = { ...this.serverless.service.resources?.Resources };
    const sources = (entry.events ?? [])
      .map((event) => (typeof event.sqs === 'object' ? event.sqs.arn : event.sqs))
      .map((arn) => arn?.['Fn::GetAtt']?.[0])
      .filter((id) => declared[id]?.Type === 'AWS::SQS::Queue' && !declared[id].Properties?.RedrivePolicy);
    if (sources.length === 0) return false;
    this.addQueue(queueId, []);
    for (const id of sources) {
      const queue = declared[id];
      queue.Properties = {
        VisibilityTimeout: 6 * Number(fn.Properties.Timeout ?? 6),
        ...queue.Properties,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [queueId, 'Arn'] }, maxReceiveCount: this.maxReceives },
      };
    }
    return true;
  }

  failedEventsAlarm(name, functionId, queueId, attempts) {
    const template = this.serverless.service.provider.compiledCloudFormationTemplate;
    const prefix = functionId.replace(/LambdaFunction$/, '');
    template.Resources[`${prefix}FailedEventsAlarm`] = {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription:
          `An event for ${name} failed ${attempts} times, or could not be delivered. ` +
          `Its dead-letter queue holds each such event (and, for an asynchronous invocation, the error with the ` +
          `request id to look up in the function's log group); fix the cause, then redrive or delete the messages.`,
        Metrics: [
          {
            Id: 'queued',
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/SQS',
                MetricName: 'ApproximateNumberOfMessagesVisible',
                Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
              },
              Period: 300,
              Stat: 'Maximum',
            },
          },
          ...['DeadLetterErrors', 'DestinationDeliveryFailures'].map((metricName, i) => ({
            Id: `lost${i}`,
            ReturnData: false,
            MetricStat: {
              Metric: {
                Namespace: 'AWS/Lambda',
                MetricName: metricName,
                Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
              },
              Period: 300,
              Stat: 'Sum',
            },
          })),
          {
            Id: 'failed',
            Label: 'failed events',
            Expression: 'FILL(queued, 0) + FILL(lost0, 0) + FILL(lost1, 0)',
            ReturnData: true,
          },
        ],
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

module.exports = AsyncEvents;
module.exports.asyncEvents = { isAsync, deadLetterQueueId };
