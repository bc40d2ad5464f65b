/**
 * The deploy's preflight (scripts/preflight.ts) against stand-ins for AWS's
 * answers (aws-sdk-client-mock): each failure a first deploy of this stack is
 * known to hit is found before CloudFormation starts, with what to do, and a
 * healthy account passes.
 */
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
  DescribeOrderableDBInstanceOptionsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import {
  GetAWSDefaultServiceQuotaCommand,
  GetServiceQuotaCommand,
  ServiceQuotasClient,
} from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import type { Resource } from '../../scripts/cfn-template.js';
import { clientsFor, type Finding, type Plan, preflight, report } from '../../scripts/preflight.js';

const account = '123456789012';
const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
const cloudFormation = mockClient(CloudFormationClient);
const ec2 = mockClient(EC2Client);
const rds = mockClient(RDSClient);
const logs = mockClient(CloudWatchLogsClient);
const cognito = mockClient(CognitoIdentityProviderClient);
const quotas = mockClient(ServiceQuotasClient);
const iam = mockClient(IAMClient);

function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name });
}

/** The dev stack's reservations as `sls package` makes them: 5 API functions of 10, three of 2, migrate 1 (57 in all). */
const devReservations: Record<string, number> = {
  listCats: 10,
  getCat: 10,
  createCat: 10,
  updateCat: 10,
  deleteCat: 10,
  openApi: 2,
  docs: 2,
  unmatched: 2,
  migrate: 1,
};

function plan(overrides: Partial<Plan> = {}, reservations: Record<string, number | undefined> = {}): Plan {
  const resources: Record<string, Resource> = {};
  for (const [name, reserved] of Object.entries({ ...devReservations, ...reservations })) {
    const id = `${name[0]?.toUpperCase()}${name.slice(1)}`;
    resources[`${id}LambdaFunction`] = {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: `cats-api-dev-${name}`,
        ...(reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved }),
      },
    };
    resources[`${id}LogGroup`] = {
      Type: 'AWS::Logs::LogGroup',
      Properties: { LogGroupName: `/aws/lambda/cats-api-dev-${name}` },
    };
  }
  resources.Database = {
    Type: 'AWS::RDS::DBInstance',
    Properties: { DBInstanceClass: 'db.t4g.micro', EngineVersion: '17' },
  };
  resources.DatabaseSubnetGroup = { Type: 'AWS::RDS::DBSubnetGroup' };
  resources.AuthDomain = {
    Type: 'AWS::Cognito::UserPoolDomain',
    Properties: { Domain: { 'Fn::Join': ['-', ['cats-api', 'dev', { Ref: 'AWS::AccountId' }]] } },
  };
  return {
    stage: 'dev',
    region: 'eu-west-1',
    stackName: 'cats-api-dev',
    resources,
    connections: 50,
    poolMax: 1,
    reservationsDropped: false,
    ...overrides,
  };
}

const zones = ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'];

/** A healthy account with a quota of 1000 and nothing of this stack yet. */
beforeEach(() => {
  for (const mock of [sts, lambda, cloudFormation, ec2, rds, logs, cognito, quotas, iam]) mock.reset();
  sts.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:iam::${account}:user/dev` });
  lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 1000 } });
  lambda.on(GetFunctionConcurrencyCommand).rejects(awsError('ResourceNotFoundException'));
  cloudFormation
    .on(DescribeStacksCommand)
    .rejects(awsError('ValidationError', 'Stack with id cats-api-dev does not exist'));
  ec2.on(DescribeAvailabilityZonesCommand).resolves({
    AvailabilityZones: zones.map((ZoneName) => ({ ZoneName, State: 'available' })),
  });
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'vpc-default' }] });
  ec2.on(DescribeAddressesCommand).resolves({ Addresses: [] });
  ec2.on(DescribeInternetGatewaysCommand).resolves({ InternetGateways: [{ InternetGatewayId: 'igw-default' }] });
  ec2.on(DescribeNatGatewaysCommand).resolves({ NatGateways: [] });
  rds.on(DescribeAccountAttributesCommand).resolves({
    AccountQuotas: [
      { AccountQuotaName: 'DBInstances', Used: 0, Max: 40 },
      { AccountQuotaName: 'DBSubnetGroups', Used: 1, Max: 50 },
      { AccountQuotaName: 'ManualSnapshots', Used: 0, Max: 100 },
    ],
  });
  rds.on(DescribeOrderableDBInstanceOptionsCommand).resolves({
    OrderableDBInstanceOptions: [
      { EngineVersion: '16.4', AvailabilityZones: [{ Name: 'eu-west-1c' }] },
      { EngineVersion: '17.2', AvailabilityZones: zones.map((Name) => ({ Name })) },
    ],
  });
  logs.on(DescribeLogGroupsCommand).resolves({ logGroups: [] });
  cognito.on(DescribeUserPoolDomainCommand).resolves({ DomainDescription: {} });
  quotas.on(GetServiceQuotaCommand).resolves({ Quota: { Value: 5 } });
  iam.on(GetRoleCommand).resolves({});
});

const clients = () => clientsFor('eu-west-1');
const failures = (findings: Finding[]) => findings.filter((f) => f.status === 'fail');
const finding = (findings: Finding[], check: string) => findings.find((f) => f.check === check);

/** An existing stack of this stage, with its resources and outputs. */
function existingStack(status = 'UPDATE_COMPLETE', outputs: Record<string, string> = {}) {
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'cats-api-dev',
        StackStatus: status as never,
        CreationTime: new Date(),
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  cloudFormation.on(DescribeStackResourcesCommand).resolves({
    StackResources: ['listCats', 'migrate'].map((name) => ({
      LogicalResourceId: `${name[0]?.toUpperCase()}${name.slice(1)}LogGroup`,
      PhysicalResourceId: `/aws/lambda/cats-api-dev-${name}`,
      ResourceType: 'AWS::Logs::LogGroup',
      ResourceStatus: 'CREATE_COMPLETE',
      Timestamp: new Date(),
    })),
  });
}

it('passes a first deploy on an account with the default quota, one line per check', async () => {
  const findings = await preflight(plan(), clients(), {});
  expect(failures(findings)).toEqual([]);
  expect(findings.map((f) => f.check)).toEqual([
    'credentials',
    'region',
    'CloudFormation stack',
    'Lambda concurrency',
    'RDS instance class',
    'VPC quota',
    "RDS's service-linked role",
    'RDS quotas',
    'Cognito domain',
    'log groups',
  ]);
  expect(finding(findings, 'Lambda concurrency')?.text).toContain('reserves 57');
  expect(finding(findings, 'RDS quotas')?.text).toBe('0 of 40 DB instances, 1 of 50 DB subnet groups in use');
  expect(report(plan(), findings)).not.toContain('FAIL');
});

it('stops at once without credentials, and says how to give some', async () => {
  sts
    .on(GetCallerIdentityCommand)
    .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
  const findings = await preflight(plan(), clients(), {});
  expect(findings).toEqual([
    expect.objectContaining({ status: 'fail', check: 'credentials', text: expect.stringContaining('aws configure') }),
  ]);
  expect(lambda.calls()).toHaveLength(0);
});

it('fails a new account whose quota of 10 holds no reservation, and suggests reservedConcurrency=false', async () => {
  lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
  const findings = await preflight(plan(), clients(), {});
  const [failure] = failures(findings);
  expect(failure?.check).toBe('Lambda concurrency');
  expect(failure?.text).toContain('This stack reserves 57');
  expect(failure?.text).toContain('quota in eu-west-1 is 10');
  // 10 x DB_POOL_MAX 1 stays within 50 connections: no proxy needed.
  expect(failure?.text).toContain('--param="reservedConcurrency=false" (docs');
  expect(failure?.text).toContain('at least 157');
});

it("names other functions' reservations when they leave too little of a large quota", async () => {
  lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 1000, UnreservedConcurrentExecutions: 120 } });
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.text).toContain('other functions of the account reserve 880');
  expect(failure?.text).toContain('rdsProxy=true');
});

it('counts what the stack reserves today as its own when it updates it', async () => {
  existingStack();
  // Quota 200: this stack holds 57 and another function 43, so 100 are unreserved, Lambda's minimum.
  lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 200, UnreservedConcurrentExecutions: 100 } });
  for (const [name, value] of Object.entries(devReservations)) {
    lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: `cats-api-dev-${name}` })
      .resolves({ ReservedConcurrentExecutions: value });
  }
  const findings = await preflight(plan(), clients(), {});
  expect(failures(findings)).toEqual([]);
  // One more reserved than today does not fit.
  const [failure] = failures(await preflight(plan({}, { listCats: 11 }), clients(), {}));
  expect(failure?.text).toContain('This stack reserves 58');
});

describe('reservedConcurrency=false', () => {
  const dropped = (overrides: Partial<Plan> = {}) =>
    plan(
      { reservationsDropped: true, ...overrides },
      Object.fromEntries(Object.keys(devReservations).map((n) => [n, undefined])),
    );

  it('passes on a quota of 10, whose 10 containers cannot exceed the connection budget', async () => {
    lambda
      .on(GetAccountSettingsCommand)
      .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
    const findings = await preflight(dropped(), clients(), {});
    expect(failures(findings)).toEqual([]);
    expect(finding(findings, 'database connections without reservations')?.text).toContain('= 10 connections at most');
  });

  it('fails when the quota lets the functions open more connections than the database takes, and asks for RDS Proxy', async () => {
    const [failure] = failures(await preflight(dropped(), clients(), {}));
    expect(failure?.check).toBe('database connections without reservations');
    expect(failure?.text).toContain('could open 1000 connections');
    expect(failure?.text).toContain('rdsProxy=true');
  });

  it('passes a large quota when RDS Proxy holds the connections', async () => {
    const proxied = dropped();
    proxied.resources.DatabaseProxy = { Type: 'AWS::RDS::DBProxy' };
    expect(failures(await preflight(proxied, clients(), {}))).toEqual([]);
  });
});

it('asks to delete a stack that a failed first deploy left in ROLLBACK_COMPLETE', async () => {
  existingStack('ROLLBACK_COMPLETE');
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.check).toBe('CloudFormation stack');
  expect(failure?.text).toContain('npx sls remove --stage dev --region eu-west-1');
});

it('refuses to start while another deploy of the stage runs', async () => {
  existingStack('UPDATE_IN_PROGRESS');
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.text).toContain('another deploy or removal of this stage is running');
});

it('fails when the instance class is not offered in a zone the subnets use', async () => {
  rds.on(DescribeOrderableDBInstanceOptionsCommand).resolves({
    OrderableDBInstanceOptions: [
      { EngineVersion: '17.2', AvailabilityZones: [{ Name: 'eu-west-1a' }, { Name: 'eu-west-1c' }] },
    ],
  });
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.check).toBe('RDS instance class');
  expect(failure?.text).toContain('not in eu-west-1b');
  expect(failure?.text).toContain('dbInstanceClass=');
});

it('fails when the class is not offered for the engine version at all', async () => {
  rds.on(DescribeOrderableDBInstanceOptionsCommand).resolves({
    OrderableDBInstanceOptions: [{ EngineVersion: '16.4', AvailabilityZones: zones.map((Name) => ({ Name })) }],
  });
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.text).toContain('nowhere in eu-west-1');
});

it('fails a first deploy when the account has as many VPCs as its quota allows', async () => {
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: Array.from({ length: 5 }, (_, i) => ({ VpcId: `vpc-${i}` })) });
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.check).toBe('VPC quota');
  expect(failure?.text).toContain('5 VPCs in eu-west-1 and its quota is 5');
});

it("uses AWS's default quota when the applied one has no entry", async () => {
  quotas.on(GetServiceQuotaCommand).rejects(awsError('NoSuchResourceException'));
  quotas.on(GetAWSDefaultServiceQuotaCommand).resolves({ Quota: { Value: 2 } });
  ec2.on(DescribeVpcsCommand).resolves({ Vpcs: [{ VpcId: 'a' }, { VpcId: 'b' }] });
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.text).toContain('its quota is 2');
});

it('checks the Elastic IP quota when natGateway=true adds an address', async () => {
  const withNat = plan();
  withNat.resources.NatAddress = { Type: 'AWS::EC2::EIP' };
  ec2.on(DescribeAddressesCommand).resolves({ Addresses: Array.from({ length: 5 }, () => ({})) });
  const [failure] = failures(await preflight(withNat, clients(), {}));
  expect(failure?.check).toBe('Elastic IP quota');
});

describe('natGateway=true', () => {
  const withNat = () => {
    const nat = plan();
    nat.resources.NatAddress = { Type: 'AWS::EC2::EIP' };
    nat.resources.InternetGateway = { Type: 'AWS::EC2::InternetGateway' };
    nat.resources.NatGateway = { Type: 'AWS::EC2::NatGateway' };
    return nat;
  };

  it('checks the internet gateway quota of the region', async () => {
    ec2.on(DescribeInternetGatewaysCommand).resolves({
      InternetGateways: Array.from({ length: 5 }, (_, i) => ({ InternetGatewayId: `igw-${i}` })),
    });
    const [failure] = failures(await preflight(withNat(), clients(), {}));
    expect(failure?.check).toBe('internet gateway quota');
    expect(failure?.text).toContain('5 internet gateways (natGateway=true takes one) in eu-west-1 and its quota is 5');
  });

  it('counts the NAT gateways of the zone the public subnet goes to, not those of other zones', async () => {
    // Five in the first zone (the public subnet's), one being deleted still counting; two in another zone.
    const gateways = [
      ...['a1', 'a2', 'a3', 'a4', 'a5'].map((id, i) => ({
        NatGatewayId: `nat-${id}`,
        SubnetId: `subnet-${id}`,
        ...(i === 0 ? { State: 'deleting' as const } : {}),
      })),
      { NatGatewayId: 'nat-b1', SubnetId: 'subnet-b1' },
      { NatGatewayId: 'nat-b2', SubnetId: 'subnet-b1' },
    ];
    ec2.on(DescribeNatGatewaysCommand).resolves({ NatGateways: gateways });
    ec2.on(DescribeSubnetsCommand).resolves({
      Subnets: [
        ...['a1', 'a2', 'a3', 'a4', 'a5'].map((id) => ({ SubnetId: `subnet-${id}`, AvailabilityZone: 'eu-west-1a' })),
        { SubnetId: 'subnet-b1', AvailabilityZone: 'eu-west-1b' },
      ],
    });
    const [failure] = failures(await preflight(withNat(), clients(), {}));
    expect(failure?.check).toBe('NAT gateway quota');
    expect(failure?.text).toContain(
      '5 NAT gateways (natGateway=true puts one in the public subnet there) in eu-west-1a',
    );
    expect(ec2.commandCalls(DescribeNatGatewaysCommand)[0]?.args[0].input.Filter).toEqual([
      { Name: 'state', Values: ['pending', 'available', 'deleting'] },
    ]);

    // The same seven with only four in the first zone: room for one more.
    ec2.on(DescribeSubnetsCommand).resolves({
      Subnets: [
        ...['a1', 'a2', 'a3', 'a4'].map((id) => ({ SubnetId: `subnet-${id}`, AvailabilityZone: 'eu-west-1a' })),
        { SubnetId: 'subnet-a5', AvailabilityZone: 'eu-west-1c' },
        { SubnetId: 'subnet-b1', AvailabilityZone: 'eu-west-1b' },
      ],
    });
    const findings = await preflight(withNat(), clients(), {});
    expect(failures(findings)).toEqual([]);
    expect(finding(findings, 'NAT gateway quota')?.text).toBe('4 of 5 NAT gateways in use');
  });

  it('does not count the NAT gateway, address or internet gateway a stack has already', async () => {
    existingStack();
    cloudFormation.on(DescribeStackResourcesCommand).resolves({
      StackResources: Object.entries(withNat().resources)
        .filter(([id]) => /^(NatAddress|InternetGateway|NatGateway|Database|DatabaseSubnetGroup)$/.test(id))
        .map(([id, resource]) => ({
          LogicalResourceId: id,
          PhysicalResourceId: `${id}-1`,
          ResourceType: resource.Type,
          ResourceStatus: 'CREATE_COMPLETE',
          Timestamp: new Date(),
        })),
    });
    ec2.on(DescribeInternetGatewaysCommand).resolves({
      InternetGateways: Array.from({ length: 5 }, (_, i) => ({ InternetGatewayId: `igw-${i}` })),
    });
    const findings = await preflight(withNat(), clients(), {});
    expect(failures(findings)).toEqual([]);
    expect(findings.map((f) => f.check)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/Elastic IP|internet gateway|NAT gateway|RDS quotas/)]),
    );
  });
});

it("fails a first deploy when RDS's DB instance quota is used up, and names the quota", async () => {
  rds.on(DescribeAccountAttributesCommand).resolves({
    AccountQuotas: [
      { AccountQuotaName: 'DBInstances', Used: 40, Max: 40 },
      { AccountQuotaName: 'DBSubnetGroups', Used: 3, Max: 50 },
    ],
  });
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.check).toBe('RDS quotas');
  expect(failure?.text).toContain('The account has 40 DB instances of a quota of 40 in eu-west-1');
  expect(failure?.text).toContain('existingDbHost');
});

it('asks RDS nothing about its quotas when the stage uses an existing database', async () => {
  const existing = plan();
  delete existing.resources.Database;
  delete existing.resources.DatabaseSubnetGroup;
  const findings = await preflight(existing, clients(), {});
  expect(finding(findings, 'RDS quotas')).toBeUndefined();
  expect(rds.commandCalls(DescribeAccountAttributesCommand)).toHaveLength(0);
});

it('fails when the Cognito domain prefix is held by a user pool an earlier stack left behind', async () => {
  cognito.on(DescribeUserPoolDomainCommand, { Domain: `cats-api-dev-${account}` }).resolves({
    DomainDescription: { UserPoolId: 'eu-west-1_Old', Domain: `cats-api-dev-${account}` },
  });
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.check).toBe('Cognito domain');
  expect(failure?.text).toContain(
    `delete-user-pool-domain --domain cats-api-dev-${account} --user-pool-id eu-west-1_Old`,
  );
});

it("accepts the prefix when the stack's own user pool holds it", async () => {
  existingStack('UPDATE_COMPLETE', { AuthUserPoolId: 'eu-west-1_Mine' });
  cognito.on(DescribeUserPoolDomainCommand).resolves({ DomainDescription: { UserPoolId: 'eu-west-1_Mine' } });
  expect(failures(await preflight(plan(), clients(), {}))).toEqual([]);
});

it('refuses a stage name that makes a domain prefix Cognito rejects, without asking Cognito', async () => {
  const upper = plan({ stage: 'Prod', stackName: 'cats-api-Prod' });
  upper.resources.AuthDomain = {
    Type: 'AWS::Cognito::UserPoolDomain',
    Properties: { Domain: { 'Fn::Join': ['-', ['cats-api', 'Prod', { Ref: 'AWS::AccountId' }]] } },
  };
  const [failure] = failures(await preflight(upper, clients(), {}));
  expect(failure?.text).toContain('lower-case letters');
  expect(cognito.calls()).toHaveLength(0);
});

it('fails when a log group of the template exists outside the stack, but not for the stack own ones', async () => {
  existingStack();
  logs.on(DescribeLogGroupsCommand).callsFake(({ logGroupNamePrefix }) => ({
    logGroups: [{ logGroupName: logGroupNamePrefix }],
  }));
  const [failure] = failures(await preflight(plan(), clients(), {}));
  expect(failure?.check).toBe('log groups');
  expect(failure?.text).toContain('/aws/lambda/cats-api-dev-getCat');
  // listCats and migrate are the stack's own (DescribeStackResources).
  expect(failure?.text).not.toContain('/aws/lambda/cats-api-dev-listCats');
  expect(failure?.text).not.toContain('/aws/lambda/cats-api-dev-migrate,');
});

it('notes a missing RDS service-linked role without failing', async () => {
  iam.on(GetRoleCommand).rejects(awsError('NoSuchEntityException'));
  const findings = await preflight(plan(), clients(), {});
  expect(failures(findings)).toEqual([]);
  expect(finding(findings, "RDS's service-linked role")).toEqual(
    expect.objectContaining({ status: 'note', text: expect.stringContaining('create-service-linked-role') }),
  );
});

it('reports a check the caller may not run as not checked, and goes on', async () => {
  lambda
    .on(GetAccountSettingsCommand)
    .rejects(awsError('AccessDeniedException', 'not authorized to perform lambda:GetAccountSettings'));
  const findings = await preflight(plan(), clients(), {});
  expect(failures(findings)).toEqual([]);
  expect(finding(findings, 'Lambda concurrency')).toEqual(
    expect.objectContaining({ status: 'note', text: expect.stringContaining('not checked') }),
  );
  expect(finding(findings, 'log groups')?.status).toBe('ok');
});

it('notes a region that differs from AWS_REGION', async () => {
  const findings = await preflight(plan(), clients(), { AWS_REGION: 'us-west-2' });
  expect(finding(findings, 'region')).toEqual(
    expect.objectContaining({ status: 'note', text: expect.stringContaining('add --region us-west-2') }),
  );
});

it('prints a line per check, then a paragraph per problem, and says nothing was deployed', async () => {
  existingStack('ROLLBACK_COMPLETE');
  lambda
    .on(GetAccountSettingsCommand)
    .resolves({ AccountLimit: { ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 } });
  const text = report(plan(), await preflight(plan(), clients(), {}));
  expect(text).toMatch(/^Preflight for cats-api-dev in eu-west-1:\n {2}ok {4}credentials: /);
  expect(text).toContain(
    '  FAIL  CloudFormation stack\n  FAIL  Lambda concurrency\n\nCloudFormation stack: cats-api-dev is in ROLLBACK_COMPLETE',
  );
  expect(text).toMatch(/\n\nLambda concurrency: This stack reserves 57 .*\n\nNothing was deployed/);
});
