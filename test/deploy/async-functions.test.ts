/**
 * A function with an asynchronous event, declared once (issue 21): serverless.yml
 * with a nightly job added as docs/adding-a-resource.md shows (a schedule and
 * the database, like getCat), packaged and checked like the service itself.
 * Its dead-letter queue, retries, alarm and dashboard row come from
 * plugins/serverless-async-events.cjs, with no suppression added for it.
 */
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { allNagFindings, nagFindings } from './cdk-nag.js';
import { validateTemplateFile } from './cfn-validate.js';
import { unexplained } from './cfn-validate-explained.js';
import { activeResources, ofType, type Packaged, packageService, type Resource, root } from './template.js';

const job = `  nightlyJob:
    handler: test/fixtures/nightly-job.handler
    description: Counts the cats every night
    database: { share: 1 }
    events:
      - schedule: rate(1 day)
  importCats:
    handler: test/fixtures/nightly-job.handler
    description: Takes the messages of ImportQueue
    database: { share: 1 }
    events:
      - sqs: { arn: { Fn::GetAtt: [ImportQueue, Arn] }, batchSize: 10 }
`;
/** The queue importCats reads, as its author would declare it: encrypted, TLS only, nothing about failures. */
const importQueue = `    ImportQueue:
      Type: AWS::SQS::Queue
      Properties:
        SqsManagedSseEnabled: true
    ImportQueuePolicy:
      Type: AWS::SQS::QueuePolicy
      Properties:
        Queues: [{ Ref: ImportQueue }]
        PolicyDocument:
          Version: "2012-10-17"
          Statement:
            - Effect: Deny
              Principal: "*"
              Action: "sqs:*"
              Resource: { Fn::GetAtt: [ImportQueue, Arn] }
              Condition: { Bool: { aws:SecureTransport: "false" } }
`;

let withJob: Packaged;
let plain: Packaged;

beforeAll(async () => {
  const config = await readFile(path.join(root, 'serverless.yml'), 'utf8');
  for (const block of ['\nfunctions:\n', '\n  Resources:\n']) {
    if (!config.includes(block)) throw new Error(`serverless.yml has no ${block.trim()} block`);
  }
  const variant = config
    .replace('\nfunctions:\n', `\nfunctions:\n${job}`)
    .replace('\n  Resources:\n', `\n  Resources:\n${importQueue}`);
  withJob = await packageService('dev', {}, { config: variant });
  plain = await packageService('dev');
}, 300000);

afterAll(async () => {
  for (const packaged of [withJob, plain]) if (packaged) await rm(packaged.dir, { recursive: true, force: true });
});

const templateFile = (packaged: Packaged) => path.join(packaged.dir, 'cloudformation-template-update-stack.json');
const variablesOf = (fn: Resource | undefined) =>
  (fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
const statements = (role: Resource | undefined) =>
  ((role?.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Record<string, unknown>[] } }[]).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
const queueArn = { 'Fn::GetAtt': ['NightlyJobDeadLetterQueue', 'Arn'] };

describe('a nightly job declared with a schedule and the database', () => {
  it('leaves cdk-nag with no finding, under the same suppressions as the service without it', () => {
    expect(nagFindings(templateFile(withJob))).toEqual([]);
    // What the job brings is clean by itself: only the queue's own redrive rule is excused, as a dead-letter queue.
    const jobFindings = allNagFindings(templateFile(withJob)).filter((f) => /^NightlyJob/.test(f.resource));
    expect(jobFindings.map((f) => `${f.rule} ${f.resource}`)).toEqual([
      'Serverless-SQSRedrivePolicy NightlyJobDeadLetterQueue',
    ]);
  });

  it("passes AWS's CloudFormation validator with no error and only the explained warnings", () => {
    const diagnostics = validateTemplateFile(templateFile(withJob));
    expect(diagnostics.filter((d) => d.severity !== 'WARN')).toEqual([]);
    expect(unexplained(diagnostics)).toEqual([]);
  });

  it('gets the database settings and a share of the connections, as an HTTP function does', () => {
    const resources = activeResources(withJob.template);
    const fn = resources.NightlyJobLambdaFunction as Resource;
    const variables = variablesOf(fn);
    expect(variables).toMatchObject({ DB_AUTH: 'iam', DB_USER: expect.anything() });
    expect(Object.keys(variables)).toEqual(expect.arrayContaining(['DB_HOST', 'DB_NAME']));
    expect(fn.Properties?.ReservedConcurrentExecutions).toBeGreaterThanOrEqual(1);
    // The connection budget is shared, not grown: the job takes part of it.
    const reserved = (packaged: Packaged) =>
      ofType(activeResources(packaged.template), 'AWS::Lambda::Function')
        .filter(([, f]) => variablesOf(f).DB_HOST !== undefined)
        .reduce((sum, [, f]) => sum + (f.Properties?.ReservedConcurrentExecutions as number), 0);
    expect(reserved(withJob)).toBeLessThanOrEqual(reserved(plain));
    expect(resources.NightlyJobThrottlesAlarm).toBeDefined();
    expect(resources.NightlyJobLogGroup?.Properties?.RetentionInDays).toEqual(expect.any(Number));
  });

  it('sends the events it failed on, after bounded retries, to an encrypted, TLS-only dead-letter queue', () => {
    const resources = activeResources(withJob.template);
    expect(resources.NightlyJobDeadLetterQueue?.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    expect(resources.NightlyJobLambdaFunction?.Properties?.DeadLetterConfig).toEqual({ TargetArn: queueArn });
    expect(resources.NightlyJobEventInvokeConfig?.Properties).toEqual({
      FunctionName: { Ref: 'NightlyJobLambdaFunction' },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: queueArn } },
    });
    const policy = resources.NightlyJobDeadLetterQueuePolicy?.Properties?.PolicyDocument as {
      Statement: Record<string, unknown>[];
    };
    expect(policy.Statement).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]),
    );
  });

  it('bounds the schedule rule delivery too, and lets only that rule put undelivered events in the queue', () => {
    const resources = activeResources(withJob.template);
    const rules = ofType(resources, 'AWS::Events::Rule');
    expect(rules).toHaveLength(1);
    const [[ruleId, rule]] = rules as [[string, Resource]];
    expect(rule.Properties?.ScheduleExpression).toBe('rate(1 day)');
    expect(rule.Properties?.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': ['NightlyJobLambdaFunction', 'Arn'] },
        DeadLetterConfig: { Arn: queueArn },
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 3600 },
      }),
    ]);
    const policy = resources.NightlyJobDeadLetterQueuePolicy?.Properties?.PolicyDocument as {
      Statement: Record<string, unknown>[];
    };
    expect(policy.Statement.filter((s) => s.Effect === 'Allow')).toEqual([
      {
        Sid: 'UndeliveredEvents',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': [{ 'Fn::GetAtt': [ruleId, 'Arn'] }] } },
      },
    ]);
  });

  it("lets the function's role send to its queue and to no other", () => {
    // (The framework's receive permissions on ImportQueue, for the SQS function below, are another matter.)
    // Its role is its kind's (serverless-per-function.cjs): the API functions', which the job shares.
    const roleOf = (packaged: Packaged) => {
      const resources = activeResources(packaged.template);
      const fn = (resources.NightlyJobLambdaFunction ?? resources.GetCatLambdaFunction) as Resource;
      const { Role } = fn.Properties as { Role: { 'Fn::GetAtt': [string, string] } };
      const role = Role['Fn::GetAtt'][0];
      return resources[role];
    };
    const sends = statements(roleOf(withJob)).filter((s) => JSON.stringify(s.Action).includes('sqs:SendMessage'));
    expect(sends).toEqual([{ Effect: 'Allow', Action: ['sqs:SendMessage'], Resource: [queueArn] }]);
    expect(statements(roleOf(plain)).filter((s) => JSON.stringify(s.Action).includes('sqs:'))).toEqual([]);
  });

  it('alarms to the alarm topic on the first failed or undeliverable event', () => {
    const alarm = activeResources(withJob.template).NightlyJobFailedEventsAlarm as Resource;
    expect(alarm.Properties).toMatchObject({
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [{ Ref: 'AlarmTopic' }],
    });
    const metrics = ((alarm.Properties?.Metrics ?? []) as { MetricStat?: { Metric: { MetricName: string } } }[])
      .flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric.MetricName] : []))
      .sort();
    expect(metrics).toEqual(['ApproximateNumberOfMessagesVisible', 'DeadLetterErrors', 'DestinationDeliveryFailures']);
  });

  it('has its row on the dashboard, and the service without it has none', () => {
    const body = (packaged: Packaged) => JSON.stringify(activeResources(packaged.template).Dashboard?.Properties);
    expect(body(withJob)).toContain('Asynchronous functions');
    expect(body(withJob)).toContain('nightlyJob failed events waiting');
    expect(body(withJob)).toContain('{"Fn::GetAtt":["NightlyJobDeadLetterQueue","QueueName"]}');
    expect(body(plain)).not.toContain('Asynchronous functions');
  });

  it('gives no queue, retry setting or alarm to the HTTP functions, which their callers answer for', () => {
    const resources = activeResources(plain.template);
    expect(ofType(resources, 'AWS::SQS::Queue')).toEqual([]);
    expect(ofType(resources, 'AWS::Lambda::EventInvokeConfig')).toEqual([]);
    for (const [id, fn] of ofType(resources, 'AWS::Lambda::Function')) {
      expect([id, fn.Properties?.DeadLetterConfig]).toEqual([id, undefined]);
    }
  });
});

describe('a function fed by an SQS queue', () => {
  it('gives the source queue a redrive policy to an encrypted, TLS-only dead-letter queue, after 3 receives', () => {
    const resources = activeResources(withJob.template);
    expect(resources.ImportQueue?.Properties).toEqual({
      SqsManagedSseEnabled: true,
      // Six times the function's timeout (15 s), so that a retry never overlaps a running batch.
      VisibilityTimeout: 90,
      RedrivePolicy: {
        deadLetterTargetArn: { 'Fn::GetAtt': ['ImportCatsDeadLetterQueue', 'Arn'] },
        maxReceiveCount: 3,
      },
    });
    expect(resources.ImportCatsDeadLetterQueue?.Properties).toEqual({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1209600,
    });
    // Lambda's poller waits for the answer: no asynchronous retry settings, no function dead-letter config.
    expect(resources.ImportCatsEventInvokeConfig).toBeUndefined();
    expect(resources.ImportCatsLambdaFunction?.Properties?.DeadLetterConfig).toBeUndefined();
  });

  it('alarms on the first message in that queue and has its row on the dashboard', () => {
    const resources = activeResources(withJob.template);
    expect(JSON.stringify(resources.ImportCatsFailedEventsAlarm?.Properties?.Metrics)).toContain(
      '{"Fn::GetAtt":["ImportCatsDeadLetterQueue","QueueName"]}',
    );
    expect(JSON.stringify(resources.Dashboard?.Properties)).toContain('importCats failed events waiting');
  });

  it('leaves cdk-nag with no finding of its own but those a redriven SQS source cannot meet, each excused where its reason holds', () => {
    const findings = allNagFindings(templateFile(withJob))
      .filter((f) => /^(ImportCats|ImportQueue)/.test(f.resource))
      .map((f) => f.rule)
      .sort();
    // The poller waits for the answer (no dead-letter config to have), SQS sources take no on-failure
    // destination, and the dead-letter queue has none of its own.
    expect(findings).toEqual([
      'Serverless-LambdaDLQ',
      'Serverless-LambdaEventSourceMappingDestination',
      'Serverless-SQSRedrivePolicy',
    ]);
    expect(nagFindings(templateFile(withJob))).toEqual([]);
  });
});
