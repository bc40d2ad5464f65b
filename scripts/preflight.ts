/**
 * The deploy's preflight (`npm run deploy` runs it between `sls package` and
 * `sls deploy`): asks AWS, read-only, about what makes a first deploy of this
 * stack fail late, after CloudFormation has spent minutes on the VPC and the
 * database and then rolls everything back. Each problem found is printed as
 * one paragraph saying what to do. The checks follow the failures such
 * stacks are known to hit on a first deploy:
 *
 * - no credentials, or a region that is not the one meant (serverless.yml
 *   deploys to --region or us-east-1, whatever AWS_REGION says);
 * - Lambda: "ReservedConcurrentExecutions for function decreases account's
 *   UnreservedConcurrentExecution below its minimum value" (new accounts have
 *   a concurrency quota of 10 or 50: no reservation fits at all);
 * - a stack left in ROLLBACK_COMPLETE by a failed first deploy ("can not be
 *   updated": it must be deleted), or another deploy still running;
 * - RDS: the instance class not offered for the engine version in the region
 *   or in the two availability zones the subnets use;
 * - the VPC quota (5 a region by default), and with natGateway=true the
 *   Elastic IP, internet gateway (5 a region) and NAT gateway (5 an
 *   availability zone) quotas;
 * - RDS's DB instance and DB subnet group quotas (40 and 50 a region);
 * - Cognito: "Domain already associated with another user pool" (a prefix
 *   kept by a user pool an earlier stack left behind), or a prefix Cognito
 *   refuses (upper case, "aws", "amazon", "cognito");
 * - "already exists" for a log group of the template that is there already
 *   and not the stack's (Lambda recreates a function's log group when it runs
 *   after its stack deleted it);
 * - RDS's service-linked role, which the first RDS instance of an account
 *   creates, and which needs iam:CreateServiceLinkedRole (a note).
 *
 * A check that the caller may not run (AccessDenied) is reported as not
 * checked, never as a failure.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  CloudFormationClient,
  DescribeStackResourcesCommand,
  DescribeStacksCommand,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CognitoIdentityProviderClient,
  DescribeUserPoolDomainCommand,
} from '@aws-sdk/client-cognito-identity-provider';
import {
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNatGatewaysCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetAccountSettingsCommand, GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeAccountAttributesCommand,
  paginateDescribeOrderableDBInstanceOptions,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { activeResources, type Resource, type Template } from './cfn-template.js';

/** What `sls package` wrote that the checks need. */
export interface Plan {
  stage: string;
  region: string;
  stackName: string;
  /** The template CloudFormation will get, Fn::If resolved for this stage's parameters. */
  resources: Record<string, Resource>;
  /** Connections the functions may hold together (custom.database.connections). */
  connections: number;
  /** Connections per container (DB_POOL_MAX). */
  poolMax: number;
  /** reservedConcurrency=false: no function reserves concurrency. */
  reservationsDropped: boolean;
}

export async function readPlan(packageDir: string): Promise<Plan> {
  const template = JSON.parse(
    await readFile(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  const { service } = JSON.parse(await readFile(path.join(packageDir, 'serverless-state.json'), 'utf8')) as {
    service: {
      service: string;
      provider: { stage: string; region: string; environment?: Record<string, unknown> };
      custom: { database: { connections: unknown; reservedConcurrency?: unknown } };
    };
  };
  return {
    stage: service.provider.stage,
    region: service.provider.region,
    stackName: `${service.service}-${service.provider.stage}`,
    resources: activeResources(template),
    connections: Number(service.custom.database.connections),
    poolMax: Number(service.provider.environment?.DB_POOL_MAX ?? 1),
    reservationsDropped: String(service.custom.database.reservedConcurrency) === 'false',
  };
}

export interface Clients {
  sts: Pick<STSClient, 'send'>;
  lambda: Pick<LambdaClient, 'send'>;
  cloudFormation: Pick<CloudFormationClient, 'send'>;
  ec2: Pick<EC2Client, 'send'>;
  rds: RDSClient;
  logs: Pick<CloudWatchLogsClient, 'send'>;
  cognito: Pick<CognitoIdentityProviderClient, 'send'>;
  quotas: Pick<ServiceQuotasClient, 'send'>;
  iam: Pick<IAMClient, 'send'>;
}

export function clientsFor(region: string): Clients {
  return {
    sts: new STSClient({ region }),
    lambda: new LambdaClient({ region }),
    cloudFormation: new CloudFormationClient({ region }),
    ec2: new EC2Client({ region }),
    rds: new RDSClient({ region }),
    logs: new CloudWatchLogsClient({ region }),
    cognito: new CognitoIdentityProviderClient({ region }),
    quotas: new ServiceQuotasClient({ region }),
    iam: new IAMClient({ region }),
  };
}

export interface Finding {
  /** ok: fine; fail: the deploy would fail, so it does not start; note: worth knowing, deploys anyway. */
  status: 'ok' | 'fail' | 'note';
  check: string;
  /** One line when ok; when not, one paragraph: what is wrong and what to do. */
  text: string;
}

/** Lambda keeps this much of the account's concurrency unreserved (all of it when the quota is smaller). */
export const unreservedMinimum = 100;

const concurrencyQuotaUrl =
  'https://console.aws.amazon.com/servicequotas/home/services/lambda/quotas/L-B99A9384 ("Concurrent executions")';

function errorName(error: unknown): string {
  return (error as { name?: string })?.name ?? 'Error';
}

function denied(error: unknown): boolean {
  return /AccessDenied|UnauthorizedOperation|AuthorizationError|NotAuthorized/i.test(errorName(error));
}

function notChecked(check: string, error: unknown): Finding {
  return {
    status: 'note',
    check,
    text: `not checked: ${errorName(error)} (${(error as Error).message}). The deploy identity may not call it; nothing is assumed.`,
  };
}

interface Stack {
  status?: string;
  outputs: Record<string, string | undefined>;
  /** Its resources' physical ids by logical id. */
  resources: Map<string, string | undefined>;
}

async function describeStack(clients: Clients, stackName: string): Promise<Stack | undefined> {
  try {
    const { Stacks } = await clients.cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks?.[0];
    if (!stack) return undefined;
    const { StackResources = [] } = await clients.cloudFormation.send(
      new DescribeStackResourcesCommand({ StackName: stackName }),
    );
    return {
      ...(stack.StackStatus ? { status: stack.StackStatus } : {}),
      outputs: Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey, o.OutputValue])),
      resources: new Map(StackResources.map((r) => [r.LogicalResourceId as string, r.PhysicalResourceId])),
    };
  } catch (error) {
    if (/does not exist/.test((error as Error).message)) return undefined;
    throw error;
  }
}

function ofType(plan: Plan, type: string): [string, Resource][] {
  return Object.entries(plan.resources).filter(([, resource]) => resource.Type === type);
}

function stackCheck(plan: Plan, stack: Stack | undefined): Finding {
  const check = 'CloudFormation stack';
  if (!stack) return { status: 'ok', check, text: `${plan.stackName} does not exist yet: this is its first deploy` };
  const status = stack.status ?? 'unknown';
  if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED' || status === 'DELETE_FAILED') {
    return {
      status: 'fail',
      check,
      text:
        `${plan.stackName} is in ${status}: its first deploy failed and was rolled back, and CloudFormation ` +
        'cannot update such a stack, only delete it. Read why it failed (the first CREATE_FAILED event: ' +
        `aws cloudformation describe-stack-events --stack-name ${plan.stackName} --region ${plan.region}), ` +
        `fix that, delete the stack (npx sls remove --stage ${plan.stage} --region ${plan.region}, or ` +
        `aws cloudformation delete-stack --stack-name ${plan.stackName} --region ${plan.region}) and deploy again.`,
    };
  }
  if (status === 'UPDATE_ROLLBACK_FAILED') {
    return {
      status: 'fail',
      check,
      text:
        `${plan.stackName} is in UPDATE_ROLLBACK_FAILED: a rollback could not finish. Fix what its events name, ` +
        `then aws cloudformation continue-update-rollback --stack-name ${plan.stackName} --region ${plan.region}, ` +
        'and deploy again once it is UPDATE_ROLLBACK_COMPLETE.',
    };
  }
  if (status.endsWith('_IN_PROGRESS')) {
    return {
      status: 'fail',
      check,
      text:
        `${plan.stackName} is in ${status}: another deploy or removal of this stage is running. Wait for it ` +
        '(the GitHub workflow runs one deploy per stage at a time) and deploy again; do not cancel it halfway.',
    };
  }
  return { status: 'ok', check, text: `${plan.stackName} is ${status}: this deploy updates it` };
}

/**
 * Whether the account can hold the stack's reservations: Lambda refuses a
 * reservation that leaves less than min(100, quota) unreserved. What this
 * stack reserves today is already counted as reserved, so it is added back.
 */
async function concurrencyCheck(plan: Plan, clients: Clients, stack: Stack | undefined): Promise<Finding[]> {
  const check = 'Lambda concurrency';
  const { AccountLimit } = await clients.lambda.send(new GetAccountSettingsCommand({}));
  const quota = AccountLimit?.ConcurrentExecutions ?? 0;
  const unreserved = AccountLimit?.UnreservedConcurrentExecutions ?? 0;
  const functions = ofType(plan, 'AWS::Lambda::Function').map(([, r]) => ({
    name: String(r.Properties?.FunctionName),
    reserved: Number(r.Properties?.ReservedConcurrentExecutions ?? 0),
  }));
  const wanted = functions.reduce((sum, f) => sum + f.reserved, 0);
  let current = 0;
  if (stack) {
    for (const { name } of functions) {
      try {
        const answer = await clients.lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: name }));
        current += answer.ReservedConcurrentExecutions ?? 0;
      } catch (error) {
        if (errorName(error) !== 'ResourceNotFoundException') throw error;
      }
    }
  }
  const minimum = Math.min(unreservedMinimum, quota);
  const available = unreserved + current - minimum;
  const findings: Finding[] = [];
  if (wanted > available) {
    const others = quota - unreserved - current;
    const why =
      quota - minimum < wanted
        ? `the account's concurrency quota in ${plan.region} is ${quota}, and Lambda keeps ${minimum} of it unreserved, so at most ${Math.max(0, quota - minimum)} can be reserved`
        : `other functions of the account reserve ${others} of its quota of ${quota} and Lambda keeps ${minimum} unreserved, so ${Math.max(0, available)} are left`;
    findings.push({
      status: 'fail',
      check,
      text:
        `This stack reserves ${wanted} concurrent executions (${functions
          .filter((f) => f.reserved > 0)
          .map((f) => `${f.name.replace(`${plan.stackName}-`, '')} ${f.reserved}`)
          .join(', ')}), but ${why}: CloudFormation would fail on the first function ("decreases account's ` +
        'UnreservedConcurrentExecution below its minimum value") after creating the VPC and the database, and roll ' +
        `everything back. Either ask for a quota of at least ${wanted + unreservedMinimum + Math.max(0, others)} ` +
        `(${concurrencyQuotaUrl}; granted in hours to days) and deploy then, or deploy now without reservations: ` +
        `--param="reservedConcurrency=false"${quota * plan.poolMax > plan.connections ? ' --param="rdsProxy=true"' : ''} ` +
        '(docs/deploying.md, "Accounts with a small concurrency quota", says what that gives up).',
    });
  } else {
    findings.push({
      status: 'ok',
      check,
      text: `the stack reserves ${wanted}; the account (quota ${quota}, ${unreserved} unreserved, ${minimum} kept free) has room for ${available}`,
    });
  }
  if (plan.reservationsDropped) findings.push(connectionBound(plan, quota));
  return findings;
}

/**
 * reservedConcurrency=false: nothing but the account's quota bounds how many
 * containers, hence connections, the functions have, unless RDS Proxy pools
 * them.
 */
function connectionBound(plan: Plan, quota: number): Finding {
  const check = 'database connections without reservations';
  const proxied = plan.resources.DatabaseProxy !== undefined;
  const ownDatabase = plan.resources.Database !== undefined;
  const most = quota * plan.poolMax;
  if (proxied) {
    return {
      status: 'ok',
      check,
      text: `RDS Proxy holds the database connections; up to ${most} function connections wait for one there`,
    };
  }
  if (most <= plan.connections) {
    return {
      status: 'ok',
      check,
      text: `the account's quota (${quota}) x DB_POOL_MAX (${plan.poolMax}) = ${most} connections at most, within apiDbConnections (${plan.connections})`,
    };
  }
  return {
    status: 'fail',
    check,
    text:
      `With reservedConcurrency=false only the account's concurrency quota (${quota}) bounds the containers, so ` +
      `the functions could open ${most} connections, more than apiDbConnections (${plan.connections}) says the ` +
      `database takes: under load it would refuse connections and requests would get 503. ${
        ownDatabase
          ? 'Add --param="rdsProxy=true" (the proxy pools the connections and makes the rest wait)'
          : 'Put a pooler (RDS Proxy, PgBouncer) in front of the existing database and raise apiDbConnections to what it takes'
      }, or deploy with the reservations once the quota allows them.`,
  };
}

async function databaseChecks(plan: Plan, clients: Clients, stack: Stack | undefined): Promise<Finding[]> {
  const database = plan.resources.Database;
  if (!database) return [];
  const findings: Finding[] = [];
  const instanceClass = String(database.Properties?.DBInstanceClass);
  const major = String(database.Properties?.EngineVersion);
  const { AvailabilityZones = [] } = await clients.ec2.send(
    new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'zone-type', Values: ['availability-zone'] }] }),
  );
  // The subnets take the first two zones Fn::GetAZs lists: the available ones, in name order.
  const zones = AvailabilityZones.filter((z) => z.State === 'available')
    .map((z) => z.ZoneName as string)
    .sort()
    .slice(0, 2);
  const offered = new Set<string>();
  for await (const page of paginateDescribeOrderableDBInstanceOptions(
    { client: clients.rds },
    { Engine: 'postgres', DBInstanceClass: instanceClass },
  )) {
    for (const option of page.OrderableDBInstanceOptions ?? []) {
      if (!option.EngineVersion?.startsWith(`${major}.`) && option.EngineVersion !== major) continue;
      for (const zone of option.AvailabilityZones ?? []) if (zone.Name) offered.add(zone.Name);
    }
  }
  const missing = zones.filter((zone) => !offered.has(zone));
  if (offered.size === 0 || missing.length > 0) {
    findings.push({
      status: 'fail',
      check: 'RDS instance class',
      text:
        `RDS offers ${instanceClass} for PostgreSQL ${major} ${
          offered.size === 0
            ? `nowhere in ${plan.region}`
            : `in ${[...offered].sort().join(', ')} but not in ${missing.join(', ')}`
        }, where the stack puts its subnets (the region's first two zones): creating the database would fail. Deploy ` +
        `with another class (--param="dbInstanceClass=db.t3.micro", or see aws rds describe-orderable-db-instance-options ` +
        `--engine postgres --engine-version ${major} --region ${plan.region}) or in another region.`,
    });
  } else {
    findings.push({
      status: 'ok',
      check: 'RDS instance class',
      text: `${instanceClass} for PostgreSQL ${major} is offered in ${zones.join(' and ')}`,
    });
  }
  if (zones.length < 2) {
    findings.push({
      status: 'fail',
      check: 'availability zones',
      text: `${plan.region} has ${zones.length} availability zone(s) available to this account; the database's subnet group needs two. Deploy in another region.`,
    });
  }
  if (!stack) {
    findings.push(
      await quotaCheck(clients, {
        check: 'VPC quota',
        serviceCode: 'vpc',
        quotaCode: 'L-F678F1CE',
        fallback: 5,
        used: async () => (await clients.ec2.send(new DescribeVpcsCommand({}))).Vpcs?.length ?? 0,
        what: 'VPCs',
        region: plan.region,
        alternative: 'or deploy into an existing database and subnets (existingDbHost and the rest, docs/deploying.md)',
      }),
    );
    findings.push(await serviceLinkedRole(clients));
  }
  findings.push(...(await rdsQuotas(plan, clients, stack)));
  const added = (id: string) => plan.resources[id] !== undefined && !stack?.resources.has(id);
  if (added('NatAddress')) {
    findings.push(
      await quotaCheck(clients, {
        check: 'Elastic IP quota',
        serviceCode: 'ec2',
        quotaCode: 'L-0263D0A3',
        fallback: 5,
        used: async () => (await clients.ec2.send(new DescribeAddressesCommand({}))).Addresses?.length ?? 0,
        what: 'Elastic IP addresses (natGateway=true takes one)',
        region: plan.region,
        alternative: 'or deploy without natGateway',
      }),
    );
  }
  if (added('InternetGateway')) {
    findings.push(
      await quotaCheck(clients, {
        check: 'internet gateway quota',
        serviceCode: 'vpc',
        quotaCode: 'L-A4707A72',
        fallback: 5,
        used: async () =>
          (await clients.ec2.send(new DescribeInternetGatewaysCommand({}))).InternetGateways?.length ?? 0,
        what: 'internet gateways (natGateway=true takes one)',
        region: plan.region,
        alternative: 'or deploy without natGateway',
      }),
    );
  }
  const publicZone = zones[0];
  if (added('NatGateway') && publicZone) {
    findings.push(
      await quotaCheck(clients, {
        check: 'NAT gateway quota',
        serviceCode: 'vpc',
        quotaCode: 'L-FE5A380F',
        fallback: 5,
        used: () => natGatewaysIn(clients, publicZone),
        what: 'NAT gateways (natGateway=true puts one in the public subnet there)',
        region: publicZone,
        alternative: 'or deploy without natGateway',
      }),
    );
  }
  return findings;
}

/** NAT gateways count toward the quota of their subnet's zone while pending, available or deleting. */
async function natGatewaysIn(clients: Clients, zone: string): Promise<number> {
  const subnetIds: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await clients.ec2.send(
      new DescribeNatGatewaysCommand({
        Filter: [{ Name: 'state', Values: ['pending', 'available', 'deleting'] }],
        ...(NextToken ? { NextToken } : {}),
      }),
    );
    for (const gateway of page.NatGateways ?? []) if (gateway.SubnetId) subnetIds.push(gateway.SubnetId);
    NextToken = page.NextToken;
  } while (NextToken);
  if (subnetIds.length === 0) return 0;
  const { Subnets = [] } = await clients.ec2.send(new DescribeSubnetsCommand({ SubnetIds: [...new Set(subnetIds)] }));
  const zoneOf = new Map(Subnets.map((subnet) => [subnet.SubnetId, subnet.AvailabilityZone]));
  return subnetIds.filter((id) => zoneOf.get(id) === zone).length;
}

/**
 * RDS's own quotas (DescribeAccountAttributes gives each with what is used):
 * one more DB instance and DB subnet group for each the stack adds.
 */
async function rdsQuotas(plan: Plan, clients: Clients, stack: Stack | undefined): Promise<Finding[]> {
  const wanted = new Map<string, { count: number; what: string }>([
    ['DBInstances', { count: 0, what: 'DB instances' }],
    ['DBSubnetGroups', { count: 0, what: 'DB subnet groups' }],
  ]);
  const quotaOf: Record<string, string> = {
    'AWS::RDS::DBInstance': 'DBInstances',
    'AWS::RDS::DBSubnetGroup': 'DBSubnetGroups',
  };
  for (const [id, resource] of Object.entries(plan.resources)) {
    const quota = wanted.get(quotaOf[resource.Type] ?? '');
    if (quota && !stack?.resources.has(id)) quota.count += 1;
  }
  if ([...wanted.values()].every((quota) => quota.count === 0)) return [];
  const { AccountQuotas = [] } = await clients.rds.send(new DescribeAccountAttributesCommand({}));
  const short: string[] = [];
  const room: string[] = [];
  for (const [name, { count, what }] of wanted) {
    const quota = AccountQuotas.find((q) => q.AccountQuotaName === name);
    if (count === 0 || quota?.Max === undefined) continue;
    const used = quota.Used ?? 0;
    if (used + count > quota.Max) short.push(`${used} ${what} of a quota of ${quota.Max}`);
    else room.push(`${used} of ${quota.Max} ${what}`);
  }
  const check = 'RDS quotas';
  if (short.length > 0) {
    return [
      {
        status: 'fail',
        check,
        text:
          `The account has ${short.join(' and ')} in ${plan.region}: the stack needs one more, and CloudFormation ` +
          'would fail there after creating the VPC. Delete one you no longer use, ask for a higher quota ' +
          '(Service Quotas, Amazon RDS), or deploy into an existing database (existingDbHost and the rest, ' +
          'docs/deploying.md).',
      },
    ];
  }
  return room.length > 0 ? [{ status: 'ok', check, text: `${room.join(', ')} in use` }] : [];
}

async function quotaCheck(
  clients: Clients,
  q: {
    check: string;
    serviceCode: string;
    quotaCode: string;
    fallback: number;
    used: () => Promise<number>;
    what: string;
    region: string;
    alternative: string;
  },
): Promise<Finding> {
  let quota = q.fallback;
  try {
    const answer = await clients.quotas.send(
      new GetServiceQuotaCommand({ ServiceCode: q.serviceCode, QuotaCode: q.quotaCode }),
    );
    quota = answer.Quota?.Value ?? quota;
  } catch {
    // Never raised: the applied quota has no entry and the default applies.
    try {
      const answer = await clients.quotas.send(
        new GetAWSDefaultServiceQuotaCommand({ ServiceCode: q.serviceCode, QuotaCode: q.quotaCode }),
      );
      quota = answer.Quota?.Value ?? quota;
    } catch {
      // Service Quotas not allowed: AWS's documented default.
    }
  }
  const used = await q.used();
  if (used + 1 > quota) {
    return {
      status: 'fail',
      check: q.check,
      text:
        `The account has ${used} ${q.what} in ${q.region} and its quota is ${quota}: the stack needs one more, and ` +
        `CloudFormation would fail there after creating what came before. Delete one you no longer use, ask for ` +
        `a higher quota (Service Quotas, ${q.serviceCode} ${q.quotaCode}), ${q.alternative}.`,
    };
  }
  return { status: 'ok', check: q.check, text: `${used} of ${quota} ${q.what.replace(/ \(.*/, '')} in use` };
}

async function serviceLinkedRole(clients: Clients): Promise<Finding> {
  const check = "RDS's service-linked role";
  try {
    await clients.iam.send(new GetRoleCommand({ RoleName: 'AWSServiceRoleForRDS' }));
    return { status: 'ok', check, text: 'AWSServiceRoleForRDS exists' };
  } catch (error) {
    if (errorName(error) !== 'NoSuchEntityException') throw error;
    return {
      status: 'note',
      check,
      text:
        "AWSServiceRoleForRDS does not exist yet: this account's first RDS instance creates it, which needs " +
        'iam:CreateServiceLinkedRole for rds.amazonaws.com (the GitHub deploy role has it). If the deploy identity ' +
        'lacks it, create the role once: aws iam create-service-linked-role --aws-service-name rds.amazonaws.com',
    };
  }
}

async function cognitoCheck(
  plan: Plan,
  clients: Clients,
  account: string,
  stack: Stack | undefined,
): Promise<Finding[]> {
  const domainResource = plan.resources.AuthDomain;
  if (!domainResource) return [];
  const check = 'Cognito domain';
  // The template joins cats-api, the stage and the account id: resolve it for this account.
  const joined = domainResource.Properties?.Domain as { 'Fn::Join'?: [string, unknown[]] } | string;
  const domain =
    typeof joined === 'string'
      ? joined
      : (joined['Fn::Join']?.[1] ?? [])
          .map((part) => ((part as { Ref?: string }).Ref === 'AWS::AccountId' ? account : String(part)))
          .join(joined['Fn::Join']?.[0] ?? '');
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domain) || /aws|amazon|cognito/.test(domain)) {
    return [
      {
        status: 'fail',
        check,
        text:
          `The stack's Cognito domain prefix would be "${domain}", which Cognito refuses: lower-case letters, digits ` +
          'and hyphens only, at most 63, and none of "aws", "amazon" or "cognito". Deploy under a stage name that ' +
          'fits (lower case, short).',
      },
    ];
  }
  const { DomainDescription } = await clients.cognito.send(new DescribeUserPoolDomainCommand({ Domain: domain }));
  const holder = DomainDescription?.UserPoolId;
  if (holder && holder !== stack?.outputs.AuthUserPoolId) {
    return [
      {
        status: 'fail',
        check,
        text:
          `The Cognito domain prefix ${domain} is held by the user pool ${holder}, not by this stack's pool (an ` +
          'earlier stack of this stage left it behind): CloudFormation would fail with "Domain already associated ' +
          'with another user pool". If that pool is no longer used, free the prefix: aws cognito-idp ' +
          `delete-user-pool-domain --domain ${domain} --user-pool-id ${holder} --region ${plan.region}`,
      },
    ];
  }
  return [{ status: 'ok', check, text: `${domain} is free or this stack's` }];
}

async function logGroupCheck(plan: Plan, clients: Clients, stack: Stack | undefined): Promise<Finding> {
  const check = 'log groups';
  const names = ofType(plan, 'AWS::Logs::LogGroup')
    .map(([, r]) => r.Properties?.LogGroupName)
    .filter((name): name is string => typeof name === 'string');
  const owned = new Set(stack?.resources.values());
  const taken: string[] = [];
  for (const name of names.filter((n) => !owned.has(n))) {
    const { logGroups = [] } = await clients.logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: name }));
    if (logGroups.some((group) => group.logGroupName === name)) taken.push(name);
  }
  if (taken.length > 0) {
    return {
      status: 'fail',
      check,
      text:
        `The log group(s) ${taken.join(', ')} exist outside the stack (left by an earlier stack of this stage, or ` +
        'recreated by Lambda when its function ran after that stack removed them): CloudFormation would fail ' +
        'with "already exists". Keep what you need from them, then delete them (aws logs delete-log-group ' +
        `--log-group-name <name> --region ${plan.region}) and deploy again.`,
    };
  }
  return { status: 'ok', check, text: `none of the stack's ${names.length} log groups exists outside it` };
}

/** Runs every check; a failed credential check stops the others (they could only fail the same way). */
export async function preflight(
  plan: Plan,
  clients: Clients,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  let account: string;
  try {
    const identity = await clients.sts.send(new GetCallerIdentityCommand({}));
    account = identity.Account ?? '';
    findings.push({ status: 'ok', check: 'credentials', text: `${identity.Arn} (account ${account})` });
  } catch (error) {
    findings.push({
      status: 'fail',
      check: 'credentials',
      text:
        `No usable AWS credentials (${errorName(error)}: ${(error as Error).message}). Give the shell some: aws ` +
        'configure, AWS_PROFILE=<profile> (after aws sso login for SSO), or in GitHub Actions the deploy role ' +
        '(docs/github-actions.md). Nothing was deployed.',
    });
    return findings;
  }
  const configured = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  findings.push(
    configured && configured !== plan.region
      ? {
          status: 'note',
          check: 'region',
          text: `deploying to ${plan.region} (--region, or serverless.yml's default), not to AWS_REGION=${configured}: add --region ${configured} if that is the one you meant`,
        }
      : { status: 'ok', check: 'region', text: plan.region },
  );
  const stack = await describeStack(clients, plan.stackName);
  findings.push(stackCheck(plan, stack));
  const checks: [string, () => Promise<Finding[]>][] = [
    ['Lambda concurrency', () => concurrencyCheck(plan, clients, stack)],
    ['database', () => databaseChecks(plan, clients, stack)],
    ['Cognito domain', () => cognitoCheck(plan, clients, account, stack)],
    ['log groups', async () => [await logGroupCheck(plan, clients, stack)]],
  ];
  for (const [check, run] of checks) {
    try {
      findings.push(...(await run()));
    } catch (error) {
      if (!denied(error)) throw error;
      findings.push(notChecked(check, error));
    }
  }
  return findings;
}

/** The report: a line per check, then a paragraph per problem. */
export function report(plan: Plan, findings: Finding[]): string {
  const mark = { ok: 'ok  ', fail: 'FAIL', note: 'note' } as const;
  const lines = [`Preflight for ${plan.stackName} in ${plan.region}:`];
  for (const f of findings) if (f.status !== 'fail') lines.push(`  ${mark[f.status]}  ${f.check}: ${f.text}`);
  const failed = findings.filter((f) => f.status === 'fail');
  for (const f of failed) lines.push(`  ${mark.fail}  ${f.check}`);
  for (const f of failed) lines.push('', `${f.check}: ${f.text}`);
  if (failed.length > 0) {
    lines.push(
      '',
      `Nothing was deployed. (--skip-preflight deploys anyway, for a check that is wrong about your account.)`,
    );
  }
  return lines.join('\n');
}
