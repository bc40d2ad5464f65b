/**
 * The cdk-nag findings (AwsSolutions and Serverless packs) the template keeps,
 * each with its reason (test/deploy/cdk-nag.ts applies them). `resources`:
 * the logical ids it covers; omitted, every resource. `holds`: when the
 * reason rests on a fact of the template (a disposable database, a VPC with
 * no way out), the check of that fact on the packaged template's active
 * resources; the finding is suppressed only where it is true, so a stage or
 * parameter that makes the reason false gets the finding.
 */
import type { Resource } from './template.js';

type Resources = Record<string, Resource>;

export interface NagSuppression {
  rules: string[];
  resources?: RegExp;
  reason: string;
  holds?: (resource: string, resources: Resources) => boolean;
}

/** A database deleted with its stack (DeletionPolicy Delete): a disposable stage's. */
const disposableDatabase = (id: string, resources: Resources) => resources[id]?.DeletionPolicy === 'Delete';

/** No internet or NAT gateway, and no security group rule to an address range but the one that matches nothing. */
function closedNetwork(_id: string, resources: Resources): boolean {
  const ways = Object.values(resources).filter((r) =>
    ['AWS::EC2::InternetGateway', 'AWS::EC2::NatGateway', 'AWS::EC2::EgressOnlyInternetGateway'].includes(r.Type),
  );
  const rules = Object.values(resources).flatMap((r) => {
    if (r.Type === 'AWS::EC2::SecurityGroupEgress' || r.Type === 'AWS::EC2::SecurityGroupIngress')
      return [r.Properties ?? {}];
    if (r.Type !== 'AWS::EC2::SecurityGroup') return [];
    const { SecurityGroupEgress = [], SecurityGroupIngress = [] } = (r.Properties ?? {}) as Record<string, unknown[]>;
    return [...SecurityGroupEgress, ...SecurityGroupIngress] as Record<string, unknown>[];
  });
  const open = rules.filter(
    (rule) => rule.CidrIpv6 !== undefined || (rule.CidrIp !== undefined && rule.CidrIp !== '255.255.255.255/32'),
  );
  return ways.length === 0 && open.length === 0;
}

/**
 * Whether only API Gateway (or an event source mapping's poller, which also
 * waits for the answer) invokes the function: no rule, schedule or other
 * service may hand it an event to run later.
 */
function invokedSynchronouslyOnly(id: string, resources: Resources): boolean {
  const refersToFunction = (value: unknown) => JSON.stringify(value ?? null).includes(`"${id}"`);
  return Object.values(resources).every((r) => {
    if (r.Type === 'AWS::Events::Rule' || r.Type === 'AWS::Scheduler::Schedule') return !refersToFunction(r.Properties);
    if (r.Type === 'AWS::Lambda::Permission' && refersToFunction(r.Properties?.FunctionName))
      return r.Properties?.Principal === 'apigateway.amazonaws.com';
    return true;
  });
}

/** An event source mapping from an SQS queue of the template whose redrive policy bounds its retries. */
function redrivenQueueSource(id: string, resources: Resources): boolean {
  const source = (resources[id]?.Properties?.EventSourceArn as { 'Fn::GetAtt'?: string[] } | undefined)?.[
    'Fn::GetAtt'
  ]?.[0];
  const queue = source === undefined ? undefined : resources[source];
  return queue?.Type === 'AWS::SQS::Queue' && queue.Properties?.RedrivePolicy !== undefined;
}

/** A queue that is a dead-letter target: of a function (DeadLetterConfig) or of another queue (RedrivePolicy). */
function deadLetterQueue(id: string, resources: Resources): boolean {
  return Object.values(resources).some((r) => {
    const target =
      r.Type === 'AWS::Lambda::Function'
        ? (r.Properties?.DeadLetterConfig as { TargetArn?: unknown } | undefined)?.TargetArn
        : r.Type === 'AWS::SQS::Queue'
          ? (r.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)?.deadLetterTargetArn
          : undefined;
    return JSON.stringify(target ?? null) === JSON.stringify({ 'Fn::GetAtt': [id, 'Arn'] });
  });
}

/**
 * The actions whose Resource can only be "*": active tracing's (X-Ray has no
 * resource-level permissions for them), and those Lambda takes with a VPC
 * function's role to attach it (EC2's Describe calls have none; the
 * interfaces are Lambda's to name).
 */
const unscopableActions = new Set([
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
]);

/**
 * Whether every wildcard in the role's policies is one of those: no action
 * names a pattern, and a statement on a resource with a "*" grants only
 * unscopable actions. A "*" on anything else (every secret, every
 * database user to rds-db:connect as) stays a finding.
 */
function starsOnlyWhereUnscopable(id: string, resources: Resources): boolean {
  const policies = (resources[id]?.Properties?.Policies ?? []) as {
    PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
  }[];
  return policies
    .flatMap((policy) => policy.PolicyDocument.Statement)
    .every((statement) => {
      const actions = [statement.Action].flat();
      if (actions.some((action) => action.includes('*'))) return false;
      return (
        !JSON.stringify(statement.Resource ?? null).includes('*') || actions.every((a) => unscopableActions.has(a))
      );
    });
}

export const nagSuppressions: NagSuppression[] = [
  {
    rules: ['AwsSolutions-APIG4'],
    resources: /^HttpApiRoute/,
    reason:
      'Reads, the docs and the catch-all ($default: 404/405 problems) are public by design (issue 13: writes need ' +
      'a token with cats/write; authReads=true makes reads need cats/read; authOpen=true opens a stage).',
  },
  {
    // The functions' roles, one per kind (plugins/serverless-per-function.cjs). Their log permissions name each
    // log group of the stage exactly (its Arn), so only these two "*" remain; any other is a finding.
    rules: ['Serverless-LambdaStarPermissions', 'AwsSolutions-IAM5'],
    resources: /^(ApiFunctionsRole|MigrationsFunctionRole|NoDatabaseFunctionsRole)$/,
    reason:
      'Every role: xray:PutTraceSegments and xray:PutTelemetryRecords, which active tracing (issue 15) needs: ' +
      'X-Ray has no resource-level permissions for them. The two roles of functions in the VPC (API, migrate): the ' +
      'EC2 network-interface actions Lambda takes with the role to attach them, whose Describe calls have no ' +
      'resource-level permissions and whose interfaces Lambda names. Resource is "*" by necessity in both.',
    holds: starsOnlyWhereUnscopable,
  },
  {
    rules: ['AwsSolutions-COG8'],
    resources: /^AuthUserPool$/,
    reason:
      "The user pool only issues client-credentials tokens to the stack's app client (issue 13): no user signs " +
      'in, so the Plus plan (threat protection for sign-ins) would cost per user for nothing.',
  },
  {
    rules: ['Serverless-LambdaDLQ'],
    resources: /LambdaFunction$/,
    reason:
      'A function invoked only synchronously (by API Gateway, or migrate by `npm run deploy`): the caller gets ' +
      'the error, and a dead-letter queue only ever receives failed asynchronous invocations. A function with ' +
      'an asynchronous event gets its queue (plugins/serverless-async-events.cjs).',
    holds: invokedSynchronouslyOnly,
  },
  {
    rules: ['AwsSolutions-S1'],
    resources: /^ServerlessDeploymentBucket$/,
    reason:
      "The framework's deployment bucket holds only the packaged zips and templates; CloudTrail records who " +
      'changes them, and access logs would need another bucket for little.',
  },
  {
    rules: ['AwsSolutions-VPC7'],
    resources: /^Vpc$/,
    reason:
      'A VPC with no way to the internet (no internet or NAT gateway, no security group rule to an address ' +
      'range): its only traffic is the functions to the database and Secrets Manager, inside security groups ' +
      'that open one port each. Flow logs cost per GB; natGateway=true, vpcFlowLogs=true and prod have them.',
    holds: closedNetwork,
  },
  {
    rules: ['AwsSolutions-RDS3'],
    resources: /^Database$/,
    reason:
      "A disposable stage's database (DeletionPolicy Delete, as dev's) runs in one zone, for half the cost; a " +
      'stage whose database outlives the stack (prod) is Multi-AZ by default (params.prod.dbMultiAz).',
    holds: (id, resources) => disposableDatabase(id, resources) && resources[id]?.Properties?.MultiAZ === false,
  },
  {
    rules: ['AwsSolutions-RDS10'],
    resources: /^Database$/,
    reason:
      "A disposable stage's database (DeletionPolicy Delete, as dev's) needs no deletion protection; prod's " +
      'has it (params.prod.dbDeletionProtection) and keeps a snapshot.',
    holds: disposableDatabase,
  },
  {
    rules: ['AwsSolutions-RDS11'],
    resources: /^Database$/,
    reason:
      'The default port is not reachable from anywhere but the functions (and the proxy) security groups; ' +
      'another port would hide nothing from them and surprise every client.',
  },
  {
    rules: ['Serverless-SQSRedrivePolicy'],
    resources: /DeadLetterQueue$/,
    reason:
      'A dead-letter queue is where failed events end: kept 14 days for a look and a redrive, and alarmed on ' +
      'from its first message; a dead-letter queue of its own would only move them once more.',
    holds: deadLetterQueue,
  },
  {
    rules: ['Serverless-LambdaEventSourceMappingDestination'],
    reason:
      'An SQS source takes no on-failure destination (Lambda has them for streams and Kafka): a failed message ' +
      "returns to its queue and, after the redrive policy's maxReceiveCount, goes to the queue's dead-letter " +
      'queue (plugins/serverless-async-events.cjs gives a source queue one).',
    holds: redrivenQueueSource,
  },
  {
    rules: ['AwsSolutions-SNS3', 'Serverless-SNSRedrivePolicy'],
    resources: /^(AlarmTopic|AlarmEmailSubscription)$/,
    reason:
      'The alarm topic carries only CloudWatch alarm notifications (no data) to an email address; CloudWatch ' +
      'publishes over TLS, and an email that cannot be delivered has nothing to redrive to.',
  },
];
