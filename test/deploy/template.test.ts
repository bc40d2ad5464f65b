/**
 * The CloudFormation template `sls package` produces, checked without an AWS
 * account: what a deploy of each stage (and of each option) would create.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { openApiDocument } from '../../lib/openapi/document.js';
import { allNagFindings, nagFindings } from './cdk-nag.js';
import { validateTemplateFile } from './cfn-validate.js';
import { unexplained } from './cfn-validate-explained.js';
import { activeResources, ofType, type Packaged, packageService, type Resource, root } from './template.js';

/** Every route of the OpenAPI document, e.g. GET /cats/{id}. */
const documentedRoutes = Object.entries(openApiDocument().paths).flatMap(([path, operations]) =>
  Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
);
const existing = {
  existingDbHost: 'cats.abc123.eu-west-1.rds.amazonaws.com',
  existingDbName: 'cats',
  existingDbUser: 'cats_app',
  existingDbSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cats-db-AbCdEf',
  existingSubnetIds: 'subnet-0aaa1111bbbb2222c,subnet-0bbb3333cccc4444d',
  existingSecurityGroupIds: 'sg-0ccc5555dddd6666e',
  // Today's behaviour: the API functions read the secret. existingIam is the other way.
  dbAuth: 'secret',
};
/** An existing instance with IAM database authentication (dbAuth=iam, the default). */
const existingIam = {
  ...existing,
  dbAuth: 'iam',
  existingDbResourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXY0',
};

let dev: Packaged;
/** Logical-id prefixes of the functions with `database: { share }` (the API functions that use the database). */
let apiFunctions: string[];
let prod: Packaged;
let proxied: Packaged;
let existingDb: Packaged;
let existingIamDb: Packaged;
let withNat: Packaged;

beforeAll(async () => {
  // One at a time: two builds at once would only compete for the 2 cores.
  dev = await packageService('dev');
  prod = await packageService('prod');
  proxied = await packageService('dev', { rdsProxy: 'true' });
  existingDb = await packageService('dev', existing);
  existingIamDb = await packageService('dev', existingIam);
  withNat = await packageService('dev', { natGateway: 'true' });
  apiFunctions = dev.functions.filter((fn) => fn.database?.share !== undefined).map((fn) => fn.id);
}, 600000);

afterAll(async () => {
  for (const packaged of [dev, prod, proxied, existingDb, existingIamDb, withNat]) {
    if (packaged) await rm(packaged.dir, { recursive: true, force: true });
  }
});

function environmentOf(fn: Resource | undefined): Record<string, unknown> {
  const environment = fn?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined;
  if (!environment?.Variables) throw new Error('function without environment variables');
  return environment.Variables;
}

function functionEnv(resources: Record<string, Resource>, name: string): Record<string, unknown> {
  return environmentOf(resources[`${name}LambdaFunction`]);
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** The statements of the inline policies of the role `roleId`. */
function statementsOf(resources: Record<string, Resource>, roleId: string): Statement[] {
  const role = resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`no role ${roleId}`);
  const policies = (role.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  return policies.flatMap((policy) => policy.PolicyDocument.Statement);
}

/** The logical id of the role a function runs with. */
function roleOf(resources: Record<string, Resource>, functionId: string): string {
  const role = resources[`${functionId}LambdaFunction`]?.Properties?.Role as { 'Fn::GetAtt': [string, string] };
  return role['Fn::GetAtt'][0];
}

const actionsOf = (statement: Statement) => [statement.Action].flat();

/** An ARN built with Fn::Join, as text: {Ref} and {Resource.Attribute} stand for the values CloudFormation fills in. */
function arnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, unknown>;
  if ('Fn::Join' in node) {
    const [separator, parts] = node['Fn::Join'] as [string, unknown[]];
    return parts.map(arnText).join(separator);
  }
  if ('Ref' in node) return `{${node.Ref}}`;
  if ('Fn::GetAtt' in node) return `{${(node['Fn::GetAtt'] as string[]).join('.')}}`;
  if ('Fn::Select' in node) {
    const [index, list] = node['Fn::Select'] as [number, { 'Fn::Split': [string, unknown] }];
    return `${arnText(list['Fn::Split'][1]).slice(0, -1)}:${index}}`;
  }
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}

/** What the API functions' role may rds-db:connect to. */
function connectResources(resources: Record<string, Resource>): string[] {
  return statementsOf(resources, 'ApiFunctionsRole')
    .filter((s) => actionsOf(s).includes('rds-db:connect'))
    .map((s) => arnText(s.Resource));
}

describe.each([
  ['dev', () => dev],
  ['prod', () => prod],
])('the %s stage', (_stage, packaged) => {
  it('has a function for every entry of functions: and an API route for every route the document lists', () => {
    const resources = activeResources(packaged().template);
    const functions = ofType(resources, 'AWS::Lambda::Function').map(([id]) => id.replace(/LambdaFunction$/, ''));
    expect(functions.sort()).toEqual(
      packaged()
        .functions.map((fn) => fn.id)
        .sort(),
    );
    expect(functions).toEqual(expect.arrayContaining(['ListCats', 'GetCat', 'CreateCat', 'Migrate']));
    const routeKeys = ofType(resources, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties?.RouteKey);
    // Besides the documented routes, $default: the catch-all's 404/405 (functions/unmatched.ts).
    expect(routeKeys.filter((key) => key !== '$default').sort()).toEqual([...documentedRoutes].sort());
    expect(routeKeys).toContain('$default');
    expect(routeKeys.sort()).toEqual(
      packaged()
        .functions.flatMap((fn) => fn.routes.map((route) => (route === '*' ? '$default' : route)))
        .sort(),
    );
    const catchAll = packaged().functions.find((fn) => fn.routes.includes('*'));
    const known = String(functionEnv(resources, catchAll?.id ?? 'none').API_ROUTES).split(',');
    expect(known.sort()).toEqual([...documentedRoutes].sort());
  });

  it('gives the deployed database settings to exactly the functions whose entry has database:', () => {
    const resources = activeResources(packaged().template);
    for (const fn of packaged().functions) {
      const env = functionEnv(resources, fn.id);
      const expected = fn.database?.migrations
        ? ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_AUTH', 'DB_SECRET_ARN', 'DB_APP_USER']
        : fn.database
          ? ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_AUTH', 'DB_RECONNECT_WAIT_MS']
          : [];
      expect([fn.name, Object.keys(env).filter((name) => name.startsWith('DB_') && name !== 'DB_POOL_MAX')]).toEqual([
        fn.name,
        expected,
      ]);
      // The plain settings every function shares stay.
      expect([fn.name, env.POWERTOOLS_SERVICE_NAME]).toEqual([fn.name, 'cats-api']);
    }
  });

  it("bounds an API function's wait for a new connection after a lost one by the latency the throttles assume", () => {
    const resources = activeResources(packaged().template);
    const requestMs = /^ {4}apiRequestMs: (\d+)$/m.exec(readFileSync(path.join(root, 'serverless.yml'), 'utf8'))?.[1];
    const waits = packaged()
      .functions.filter((fn) => fn.database && !fn.database.migrations)
      .map((fn) => [fn.name, functionEnv(resources, fn.id).DB_RECONNECT_WAIT_MS]);
    expect(waits.length).toBeGreaterThan(0);
    expect(waits).toEqual(waits.map(([name]) => [name, requestMs]));
  });

  it('creates an encrypted, private PostgreSQL whose password RDS generates and keeps in Secrets Manager', () => {
    const [[, db]] = ofType(activeResources(packaged().template), 'AWS::RDS::DBInstance') as [[string, Resource]];
    expect(db.Properties).toMatchObject({
      Engine: 'postgres',
      StorageEncrypted: true,
      PubliclyAccessible: false,
      ManageMasterUserPassword: true,
    });
    expect(db.Properties?.EngineVersion).toMatch(/^1[5-9]$/);
    expect(db.Properties?.BackupRetentionPeriod).toBeGreaterThanOrEqual(1);
    expect(db.Properties).not.toHaveProperty('MasterUserPassword');
  });

  it('puts no password or connection string anywhere in the template', () => {
    const { text, template } = packaged();
    expect(text).not.toMatch(/"MasterUserPassword"|postgres(ql)?:\/\/|"(DB_PASSWORD|POSTGRES_PASSWORD|DATABASE_URL)"/);
    for (const [, fn] of ofType(activeResources(template), 'AWS::Lambda::Function')) {
      const variables = environmentOf(fn);
      for (const [name, value] of Object.entries(variables)) {
        if (/pass|secret|token|key/i.test(name)) expect([name, typeof value]).toEqual(['DB_SECRET_ARN', 'object']);
      }
    }
  });

  it('runs every function that uses the database inside the private subnets, behind the functions security group', () => {
    const resources = activeResources(packaged().template);
    const inVpc = packaged()
      .functions.filter((fn) => fn.database)
      .map((fn) => `${fn.id}LambdaFunction`);
    expect(inVpc.length).toBeGreaterThan(0);
    for (const [id, fn] of ofType(resources, 'AWS::Lambda::Function').filter(([id]) => inVpc.includes(id))) {
      const vpc = fn.Properties?.VpcConfig as { SubnetIds: unknown; SecurityGroupIds: unknown };
      expect([id, JSON.stringify(vpc.SubnetIds)]).toEqual([
        id,
        expect.stringMatching(/PrivateSubnetA.*PrivateSubnetB/),
      ]);
      expect([id, vpc.SecurityGroupIds]).toEqual([id, { 'Fn::Split': [',', { Ref: 'LambdaSecurityGroup' }] }]);
    }
    const subnets = ofType(resources, 'AWS::EC2::Subnet');
    expect(subnets).toHaveLength(2);
    expect(new Set(subnets.map(([, s]) => JSON.stringify(s.Properties?.AvailabilityZone))).size).toBe(2);
    for (const [, subnet] of subnets) expect(subnet.Properties?.MapPublicIpOnLaunch).toBe(false);
    for (const type of ['AWS::EC2::NatGateway', 'AWS::EC2::InternetGateway', 'AWS::EC2::EIP']) {
      expect(ofType(resources, type)).toEqual([]);
    }
  });

  it('lets only the functions reach the database port and opens no rule to an address range', () => {
    const resources = activeResources(packaged().template);
    const ingress = ofType(resources, 'AWS::EC2::SecurityGroupIngress').map(([, r]) => r.Properties);
    expect(ingress).toEqual([
      expect.objectContaining({
        GroupId: { Ref: 'DatabaseSecurityGroup' },
        FromPort: 5432,
        ToPort: 5432,
        SourceSecurityGroupId: { Ref: 'LambdaSecurityGroup' },
      }),
    ]);
    const egress = ofType(resources, 'AWS::EC2::SecurityGroupEgress').map(([, r]) => r.Properties);
    expect(egress).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ FromPort: 5432, DestinationSecurityGroupId: { Ref: 'DatabaseSecurityGroup' } }),
        expect.objectContaining({ FromPort: 443, DestinationSecurityGroupId: { Ref: 'EndpointSecurityGroup' } }),
      ]),
    );
    expect(egress).toHaveLength(2);
    for (const [id, group] of ofType(resources, 'AWS::EC2::SecurityGroup')) {
      const rules = [
        ...((group.Properties?.SecurityGroupIngress as Record<string, unknown>[]) ?? []),
        ...((group.Properties?.SecurityGroupEgress as Record<string, unknown>[]) ?? []),
      ];
      for (const rule of rules) {
        // The only address rule allowed is the one that matches nothing.
        if (rule.CidrIp !== undefined) expect([id, rule.CidrIp]).toEqual([id, '255.255.255.255/32']);
        expect(rule).not.toHaveProperty('CidrIpv6');
      }
    }
  });

  it('reaches Secrets Manager through an interface endpoint in the VPC, not through a NAT gateway', () => {
    const [[, endpoint]] = ofType(activeResources(packaged().template), 'AWS::EC2::VPCEndpoint') as [
      [string, Resource],
    ];
    expect(endpoint.Properties).toMatchObject({ VpcEndpointType: 'Interface', PrivateDnsEnabled: true });
    expect(JSON.stringify(endpoint.Properties?.ServiceName)).toContain('secretsmanager');
  });

  it('enables IAM database authentication on the instance it creates', () => {
    expect(activeResources(packaged().template).Database?.Properties?.EnableIAMDatabaseAuthentication).toBe(true);
  });

  it('bounds database connections: reserved concurrency x pool size stays under max_connections', () => {
    const resources = activeResources(packaged().template);
    let connections = 0;
    for (const [id, fn] of ofType(resources, 'AWS::Lambda::Function')) {
      const reserved = fn.Properties?.ReservedConcurrentExecutions;
      expect([id, typeof reserved]).toEqual([id, 'number']);
      expect([id, reserved]).toEqual([id, expect.any(Number)]);
      expect(reserved).toBeGreaterThanOrEqual(1); // 0 would switch a function off
      if (environmentOf(fn).DB_HOST === undefined) continue;
      const poolMax = Number(environmentOf(fn).DB_POOL_MAX);
      expect(poolMax).toBeGreaterThanOrEqual(1);
      connections += (reserved as number) * poolMax;
    }
    // RDS: max_connections = DBInstanceClassMemory / 9531392; a db.t4g.micro
    // (1 GiB, less what RDS keeps) gets 81, 3 of them reserved for superusers.
    const db = ofType(resources, 'AWS::RDS::DBInstance')[0]?.[1] as Resource;
    expect(db.Properties?.DBInstanceClass).toBe('db.t4g.micro');
    expect(connections).toBeLessThanOrEqual(81 - 3 - 5); // and room for an operator
    // IAM database authentication suits up to ~200 new connections per
    // second per instance. A container opens its one connection when it
    // starts and again only after DB_IDLE_TIMEOUT_MS idle, so the most that
    // can open in one second is every container at once (a scale-up from none).
    expect(connections).toBeLessThan(200);
  });

  it('throttles the API, keeps access logs, and sets a retention on every log group', () => {
    const resources = activeResources(packaged().template);
    expect(resources.HttpApiStage?.Properties).toMatchObject({
      DefaultRouteSettings: { ThrottlingRateLimit: expect.any(Number), ThrottlingBurstLimit: expect.any(Number) },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': ['HttpApiLogGroup', 'Arn'] } },
    });
    const groups = ofType(resources, 'AWS::Logs::LogGroup');
    expect(groups.map(([id]) => id).sort()).toEqual(
      [
        ...packaged().functions.map((fn) => `${fn.id}LogGroup`),
        'HttpApiLogGroup',
        // The VPC's flow logs, where the stage has them (prod; test/deploy/production-defaults.test.ts).
        ...(resources.VpcFlowLog ? ['VpcFlowLogGroup'] : []),
      ].sort(),
    );
    for (const [id, group] of groups) expect([id, group.Properties?.RetentionInDays]).toEqual([id, expect.any(Number)]);
  });

  it('throttles each route so that API Gateway answers 429 before any function runs out of reserved concurrency', () => {
    const resources = activeResources(packaged().template);
    const stage = resources.HttpApiStage as Resource;
    type Limit = { ThrottlingRateLimit: number; ThrottlingBurstLimit: number };
    const routeSettings = stage.Properties?.RouteSettings as Record<string, Limit>;
    // The latency bound the throttles are derived from, as serverless.yml declares it.
    const requestMs = Number(
      /^ {4}apiRequestMs: (\d+)$/m.exec(readFileSync(path.join(root, 'serverless.yml'), 'utf8'))?.[1],
    );
    expect(requestMs).toBeGreaterThan(0);
    const keyOf = (route: string) => (route === '*' ? '$default' : route);
    const listed: string[] = [];
    for (const fn of packaged().functions) {
      const reserved = resources[`${fn.id}LambdaFunction`]?.Properties?.ReservedConcurrentExecutions as number;
      const limits = fn.routes.map((route) => routeSettings[keyOf(route)] as Limit);
      listed.push(...fn.routes.map(keyOf));
      for (const [i, limit] of limits.entries()) {
        expect([fn.routes[i], limit]).toEqual([
          fn.routes[i],
          expect.objectContaining({ ThrottlingBurstLimit: expect.any(Number) }),
        ]);
        expect(limit.ThrottlingBurstLimit).toBeGreaterThanOrEqual(1);
        expect(limit.ThrottlingRateLimit).toBeGreaterThan(0);
      }
      if (limits.length === 0) continue;
      // Within any requestMs, all of its routes together let in at most
      // burst + rate x requestMs requests: never more than its containers.
      const admitted = limits.reduce(
        (sum, limit) => sum + limit.ThrottlingBurstLimit + (limit.ThrottlingRateLimit * requestMs) / 1000,
        0,
      );
      expect([fn.name, admitted <= reserved]).toEqual([fn.name, true]);
      // And not far less: half the containers for the burst, half for the rate (rounded down per route).
      expect([fn.name, admitted >= reserved / 2]).toEqual([fn.name, true]);
    }
    expect(Object.keys(routeSettings).sort()).toEqual([...listed].sort());
    // A route added outside serverless-per-function.cjs gets the smallest limits.
    const limits = Object.values(routeSettings);
    expect(stage.Properties?.DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: Math.min(...limits.map((limit) => limit.ThrottlingRateLimit)),
      ThrottlingBurstLimit: Math.min(...limits.map((limit) => limit.ThrottlingBurstLimit)),
    });
    // RouteSettings may name only routes that exist: the stage waits for them.
    const routeIds = ofType(resources, 'AWS::ApiGatewayV2::Route').map(([id]) => id);
    expect(stage.DependsOn).toEqual(expect.arrayContaining(routeIds));
  });

  it("alarms on the 5xx rate, on each function's throttles and on database connection errors", () => {
    const resources = activeResources(packaged().template);
    const alarms = ofType(resources, 'AWS::CloudWatch::Alarm');
    const text = JSON.stringify(alarms);
    expect(text).toContain('"MetricName":"5xx"');
    const throttled = alarms
      .filter(([, alarm]) => alarm.Properties?.MetricName === 'Throttles')
      .map(([, alarm]) => (alarm.Properties?.Dimensions as { Value: unknown }[] | undefined)?.[0]?.Value);
    expect(throttled).toEqual(packaged().functions.map((fn) => ({ Ref: `${fn.id}LambdaFunction` })));
    // CloudWatch refuses an alarm on a metric math expression over more than 10 metrics.
    for (const [id, alarm] of alarms) {
      const metrics = (alarm.Properties?.Metrics as { MetricStat?: unknown }[] | undefined) ?? [];
      expect([id, metrics.filter((m) => m.MetricStat).length <= 10]).toEqual([id, true]);
    }
    expect(text).toContain('"MetricName":"DatabaseUnavailable"');
    for (const [id, alarm] of alarms)
      expect([id, alarm.Properties?.AlarmActions]).toEqual([id, [{ Ref: 'AlarmTopic' }]]);
  });

  it('ships source maps and the node_modules-free ESM bundles, without the AWS SDK', async () => {
    const { dir } = packaged();
    const { execFileSync } = await import('node:child_process');
    const listing = execFileSync('unzip', ['-l', path.join(dir, 'listCats.zip')], { encoding: 'utf8' });
    expect(listing).toContain('functions/list-cats.js.map');
    expect(listing).not.toContain('node_modules');
    const env = functionEnv(activeResources(packaged().template), 'ListCats');
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
  });
});

it('refuses to package a connection budget too small for every function that uses the database', async () => {
  await expect(packageService('dev', { apiDbConnections: '4' })).rejects.toThrow(
    /custom\.database\.connections \(4\) is too small to give each of the \d+ functions/,
  );
}, 120000);

it('protects the prod database from deletion and keeps a snapshot on removal; dev is disposable', () => {
  const prodDb = activeResources(prod.template).Database as Resource;
  expect(prodDb).toMatchObject({ DeletionPolicy: 'Snapshot', UpdateReplacePolicy: 'Snapshot' });
  expect(prodDb.Properties).toMatchObject({ DeletionProtection: true, BackupRetentionPeriod: 7 });
  const devDb = activeResources(dev.template).Database as Resource;
  expect(devDb).toMatchObject({ DeletionPolicy: 'Delete' });
  expect(devDb.Properties?.DeletionProtection).toBe(false);
});

it('points the API functions at the RDS Proxy when asked, but migrations at the instance', () => {
  const resources = activeResources(proxied.template);
  expect(resources.DatabaseProxy?.Properties).toMatchObject({ RequireTLS: true, EngineFamily: 'POSTGRESQL' });
  for (const name of apiFunctions) {
    expect(functionEnv(resources, name).DB_HOST).toEqual({ 'Fn::GetAtt': ['DatabaseProxy', 'Endpoint'] });
  }
  expect(functionEnv(resources, 'Migrate').DB_HOST).toEqual({ 'Fn::GetAtt': ['Database', 'Endpoint.Address'] });
  // The proxy is the only way in besides migrate's own rule.
  const ingress = ofType(resources, 'AWS::EC2::SecurityGroupIngress').map(
    ([, r]) => r.Properties?.SourceSecurityGroupId,
  );
  expect(ingress).toEqual(expect.arrayContaining([{ Ref: 'LambdaSecurityGroup' }, { Ref: 'ProxySecurityGroup' }]));
  expect(ofType(activeResources(dev.template), 'AWS::RDS::DBProxy')).toEqual([]);
});

it('authenticates with IAM end to end through the proxy: the functions to the proxy, the proxy to the instance, no secret', () => {
  const resources = activeResources(proxied.template);
  const proxy = resources.DatabaseProxy?.Properties ?? {};
  expect(proxy.DefaultAuthScheme).toBe('IAM_AUTH');
  expect(proxy).not.toHaveProperty('Auth');
  expect(JSON.stringify(resources.DatabaseProxyRole)).not.toContain('secretsmanager');
  expect(JSON.stringify(statementsOf(resources, 'DatabaseProxyRole'))).toContain('"Action":"rds-db:connect"');
  expect(connectResources(resources)).toEqual([
    'arn:{AWS::Partition}:rds-db:{AWS::Region}:{AWS::AccountId}:dbuser:{DatabaseProxy.DBProxyArn:6}/cats_api',
  ]);
});

it('creates no network, database or endpoint when pointed at an existing database, and uses its settings', () => {
  const resources = activeResources(existingDb.template);
  for (const type of [
    'AWS::EC2::VPC',
    'AWS::EC2::Subnet',
    'AWS::EC2::SecurityGroup',
    'AWS::EC2::VPCEndpoint',
    'AWS::RDS::DBInstance',
    'AWS::RDS::DBProxy',
  ]) {
    expect([type, ofType(resources, type)]).toEqual([type, []]);
  }
  const env = functionEnv(resources, 'ListCats');
  expect(env).toMatchObject({
    DB_HOST: existing.existingDbHost,
    DB_NAME: 'cats',
    DB_USER: 'cats_app',
    DB_SECRET_ARN: existing.existingDbSecretArn,
  });
  // TLS is verified by default with DB_HOST; nothing may turn it off.
  expect(env).not.toHaveProperty('DB_SSL');
  expect(functionEnv(resources, 'Migrate').DB_HOST).toBe(existing.existingDbHost);
  expect(resources.ListCatsLambdaFunction?.Properties?.VpcConfig).toEqual({
    SubnetIds: { 'Fn::Split': [',', existing.existingSubnetIds] },
    SecurityGroupIds: { 'Fn::Split': [',', existing.existingSecurityGroupIds] },
  });
  // dbAuth=secret: the API functions log in as existingDbUser with its secret, as before dbAuth existed.
  expect(env.DB_AUTH).toBe('secret');
  expect(statementsOf(resources, 'ApiFunctionsRole')).toEqual(
    expect.arrayContaining([
      { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: existing.existingDbSecretArn },
    ]),
  );
  expect(JSON.stringify(statementsOf(resources, 'ApiFunctionsRole'))).not.toContain('rds-db');
});

it('with an existing database and dbAuth=iam, lets the API functions connect to its id as the application user only', () => {
  const resources = activeResources(existingIamDb.template);
  const env = functionEnv(resources, 'ListCats');
  expect(env).toMatchObject({ DB_HOST: existing.existingDbHost, DB_USER: 'cats_api', DB_AUTH: 'iam' });
  expect(env).not.toHaveProperty('DB_SECRET_ARN');
  expect(connectResources(resources)).toEqual([
    `arn:{AWS::Partition}:rds-db:{AWS::Region}:{AWS::AccountId}:dbuser:${existingIam.existingDbResourceId}/cats_api`,
  ]);
  // Migrate keeps the owner's secret and user.
  expect(functionEnv(resources, 'Migrate')).toMatchObject({
    DB_USER: existing.existingDbUser,
    DB_AUTH: 'secret',
    DB_SECRET_ARN: existing.existingDbSecretArn,
    DB_APP_USER: 'cats_api',
  });
});

it.each([
  [{ ...existing, dbAuth: 'iam' }, /dbAuth=iam with existingDbHost needs existingDbResourceId/],
  [{ dbAuth: 'password' }, /dbAuth must be "iam" or "secret", got "password"/],
])('refuses to package a database login it cannot grant (%p)', async (params, message) => {
  await expect(packageService('dev', params)).rejects.toThrow(message);
});

it('adds a NAT gateway only when asked, routes the private subnets through it and opens only HTTPS out', () => {
  const resources = activeResources(withNat.template);
  expect(ofType(resources, 'AWS::EC2::NatGateway')).toHaveLength(1);
  const routes = ofType(resources, 'AWS::EC2::Route').map(([, r]) => r.Properties);
  expect(routes).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: { Ref: 'NatGateway' } }),
    ]),
  );
  const privateAssociations = ofType(resources, 'AWS::EC2::SubnetRouteTableAssociation')
    .filter(([, a]) => JSON.stringify(a.Properties?.RouteTableId) === '{"Ref":"PrivateRouteTable"}')
    .map(([, a]) => a.Properties?.SubnetId);
  expect(privateAssociations).toEqual([{ Ref: 'PrivateSubnetA' }, { Ref: 'PrivateSubnetB' }]);
  const open = ofType(resources, 'AWS::EC2::SecurityGroupEgress')
    .map(([, r]) => r.Properties)
    .filter((rule) => rule?.CidrIp !== undefined);
  expect(open).toEqual([
    expect.objectContaining({ CidrIp: '0.0.0.0/0', FromPort: 443, ToPort: 443, IpProtocol: 'tcp' }),
  ]);
  // The database stays reachable only from the functions.
  expect(ofType(resources, 'AWS::EC2::SecurityGroupIngress')).toHaveLength(1);
});

describe.each([
  ['dev', () => dev, 'Database.DbiResourceId'],
  ['prod', () => prod, 'Database.DbiResourceId'],
  ['dev with rdsProxy=true', () => proxied, 'DatabaseProxy.DBProxyArn:6'],
  ['dev with an existing database and dbAuth=iam', () => existingIamDb, existingIam.existingDbResourceId],
])('least privilege, %s', (_name, packaged, databaseId) => {
  const api = () => packaged().functions.filter((fn) => fn.database?.share !== undefined);
  const withoutDatabase = () => packaged().functions.filter((fn) => !fn.database);

  it("logs the API functions in as the application role with IAM tokens, never as the database's master user", () => {
    const resources = activeResources(packaged().template);
    const master = (resources.Database?.Properties?.MasterUsername as string | undefined) ?? existing.existingDbUser;
    for (const fn of api()) {
      const env = functionEnv(resources, fn.id);
      expect([fn.name, env.DB_USER, env.DB_AUTH]).toEqual([fn.name, 'cats_api', 'iam']);
      expect(env.DB_USER).not.toBe(master);
      expect([fn.name, env.DB_SECRET_ARN]).toEqual([fn.name, undefined]);
    }
  });

  it('gives every API function one role that can read no secret and may rds-db:connect as exactly the application user', () => {
    const resources = activeResources(packaged().template);
    expect(new Set(api().map((fn) => roleOf(resources, fn.id)))).toEqual(new Set(['ApiFunctionsRole']));
    const statements = statementsOf(resources, 'ApiFunctionsRole');
    expect(statements.flatMap(actionsOf).filter((action) => /secretsmanager|kms|ssm/.test(action))).toEqual([]);
    expect(connectResources(resources)).toEqual([
      `arn:{AWS::Partition}:rds-db:{AWS::Region}:{AWS::AccountId}:dbuser:${/^(db|prx)-/.test(databaseId) ? databaseId : `{${databaseId}}`}/cats_api`,
    ]);
  });

  it('lets the migrate function alone read the master secret', () => {
    const resources = activeResources(packaged().template);
    const readers = ofType(resources, 'AWS::IAM::Role').filter(([id]) =>
      statementsOf(resources, id).some((s) => actionsOf(s).some((action) => action.startsWith('secretsmanager:'))),
    );
    expect(readers.map(([id]) => id)).toEqual(['MigrationsFunctionRole']);
    const migrate = packaged().functions.filter((fn) => fn.database?.migrations);
    expect(migrate.map((fn) => roleOf(resources, fn.id))).toEqual(['MigrationsFunctionRole']);
    const secret = statementsOf(resources, 'MigrationsFunctionRole').filter((s) =>
      actionsOf(s).some((action) => action.startsWith('secretsmanager:')),
    );
    expect(secret).toEqual([
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: resources.Database
          ? { 'Fn::GetAtt': ['Database', 'MasterUserSecret.SecretArn'] }
          : existing.existingDbSecretArn,
      },
    ]);
    expect(JSON.stringify(statementsOf(resources, 'MigrationsFunctionRole'))).not.toContain('rds-db');
  });

  it('gives the functions without a database no VPC and nothing but their logs and traces', () => {
    const resources = activeResources(packaged().template);
    expect(withoutDatabase().length).toBeGreaterThan(0);
    for (const fn of withoutDatabase()) {
      const properties = resources[`${fn.id}LambdaFunction`]?.Properties ?? {};
      expect([fn.name, properties.VpcConfig]).toEqual([fn.name, undefined]);
      expect(Object.keys(functionEnv(resources, fn.id)).filter((name) => /^DB_(?!POOL_MAX)/.test(name))).toEqual([]);
      const actions = statementsOf(resources, roleOf(resources, fn.id)).flatMap(actionsOf);
      expect([
        fn.name,
        actions.filter((action) => !/^(logs:(CreateLogStream|PutLogEvents)|xray:Put\w+)$/.test(action)),
      ]).toEqual([fn.name, []]);
    }
  });

  it("lets each role write only to its own functions' log groups, named exactly, so no other stage's", () => {
    const resources = activeResources(packaged().template);
    const stage = packaged() === prod ? 'prod' : 'dev';
    // The functions' roles: those Lambda assumes (not the proxy's or the flow logs' role).
    const roles = ofType(resources, 'AWS::IAM::Role').filter(([, role]) =>
      JSON.stringify(role.Properties?.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    );
    expect(roles.map(([id]) => id).sort()).toEqual([
      'ApiFunctionsRole',
      'MigrationsFunctionRole',
      'NoDatabaseFunctionsRole',
    ]);
    for (const [role] of roles) {
      const logs = statementsOf(resources, role).filter((s) =>
        actionsOf(s).some((action) => action.startsWith('logs:')),
      );
      expect(logs.flatMap(actionsOf).sort()).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
      const groups = logs
        .flatMap((s) => s.Resource as { 'Fn::GetAtt': [string, string] }[])
        .map((r) => {
          expect(r['Fn::GetAtt'][1]).toBe('Arn');
          return resources[r['Fn::GetAtt'][0]]?.Properties?.LogGroupName;
        });
      const own = packaged()
        .functions.filter((fn) => roleOf(resources, fn.id) === role)
        .map((fn) => `/aws/lambda/cats-api-${stage}-${fn.name}`);
      expect([role, groups.sort()]).toEqual([role, own.sort()]);
    }
  });
});

it('keeps the example settings in serverless.yml free of credentials', async () => {
  const config = await readFile(path.join(root, 'serverless.yml'), 'utf8');
  expect(config).not.toMatch(/\bpassword\s*:/i);
  expect(config).not.toMatch(/postgres(ql)?:\/\/[^\s]*:[^\s]*@/);
});

const variants: Array<[string, () => Packaged]> = [
  ['dev', () => dev],
  ['prod', () => prod],
  ['dev with rdsProxy=true', () => proxied],
  ['dev with an existing database', () => existingDb],
  ['dev with an existing database and dbAuth=iam', () => existingIamDb],
  ['dev with natGateway=true', () => withNat],
];
const templateFile = (packaged: Packaged) => path.join(packaged.dir, 'cloudformation-template-update-stack.json');

describe("AWS's CloudFormation validator (@aws/cloudformation-validate)", () => {
  it.each(variants)('finds no error in the %s template, and only the warnings explained', (_name, packaged) => {
    const diagnostics = validateTemplateFile(templateFile(packaged()));
    expect(diagnostics.filter((d) => d.severity !== 'WARN')).toEqual([]);
    expect(unexplained(diagnostics)).toEqual([]);
  });

  it('finds a misspelt property and a missing required one', async () => {
    const broken = structuredClone(dev.template);
    const db = broken.Resources.Database as Resource;
    db.Properties = { ...db.Properties, StorageEncripted: true };
    delete (broken.Resources.PrivateSubnetA as Resource).Properties?.VpcId;
    const file = path.join(dev.dir, 'broken.json');
    await writeFile(file, JSON.stringify(broken));
    const errors = validateTemplateFile(file).filter((d) => d.severity !== 'WARN');
    expect(errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ entity: 'Database', message: expect.stringContaining('StorageEncripted') }),
        expect.objectContaining({ entity: 'PrivateSubnetA', message: expect.stringContaining('VpcId') }),
      ]),
    );
  });
});

describe("cdk-nag's AwsSolutions and Serverless rule packs", () => {
  it.each(variants)('leave no finding in the %s template but those suppressed with a reason', (_name, packaged) => {
    expect(nagFindings(templateFile(packaged()))).toEqual([]);
  });

  it('find what they are there to find: an unencrypted database', async () => {
    const broken = structuredClone(dev.template);
    (broken.Resources.Database as Resource).Properties = {
      ...(broken.Resources.Database as Resource).Properties,
      StorageEncrypted: false,
    };
    const file = path.join(dev.dir, 'broken-nag.json');
    await writeFile(file, JSON.stringify(broken));
    expect(allNagFindings(file)).toEqual(
      expect.arrayContaining([expect.objectContaining({ rule: 'AwsSolutions-RDS2', resource: 'Database' })]),
    );
  });

  it('excuse a function role\'s "*" only for tracing and network interfaces: one on a secret or a database user is a finding', async () => {
    const broken = structuredClone(dev.template);
    const grant = (role: string, statement: Statement) => {
      const policies = (broken.Resources[role] as Resource).Properties?.Policies as {
        PolicyDocument: { Statement: Statement[] };
      }[];
      policies[0]?.PolicyDocument.Statement.push(statement);
    };
    grant('ApiFunctionsRole', { Effect: 'Allow', Action: 'rds-db:connect', Resource: '*' });
    grant('NoDatabaseFunctionsRole', { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' });
    grant('MigrationsFunctionRole', { Effect: 'Allow', Action: 'secretsmanager:*', Resource: 'arn:aws:x:y' });
    const file = path.join(dev.dir, 'broken-roles.json');
    await writeFile(file, JSON.stringify(broken));
    const findings = nagFindings(file).map(({ rule, resource }) => `${resource} ${rule.replace(/\[.*$/, '')}`);
    expect(new Set(findings)).toEqual(
      new Set(
        ['ApiFunctionsRole', 'NoDatabaseFunctionsRole', 'MigrationsFunctionRole'].flatMap((role) => [
          `${role} AwsSolutions-IAM5`,
          `${role} Serverless-LambdaStarPermissions`,
        ]),
      ),
    );
  });
});

describe('CORS', () => {
  let withOrigins: Packaged;
  beforeAll(async () => {
    withOrigins = await packageService('dev', {
      corsAllowedOrigins: 'https://app.example.com,https://admin.example.com',
    });
  }, 120000);
  afterAll(async () => {
    if (withOrigins) await rm(withOrigins.dir, { recursive: true, force: true });
  });

  it.each([
    ['dev', () => dev],
    ['prod', () => prod],
  ])('is closed on %s by default: the HTTP API has no CORS configuration', (_stage, packaged) => {
    expect(activeResources(packaged().template).HttpApi?.Properties?.CorsConfiguration).toBeUndefined();
  });

  it('allows exactly the origins given, with the headers the API reads and the ones clients need to see', () => {
    expect(activeResources(withOrigins.template).HttpApi?.Properties?.CorsConfiguration).toEqual({
      AllowOrigins: { 'Fn::Split': [',', 'https://app.example.com,https://admin.example.com'] },
      AllowMethods: ['GET', 'POST', 'PATCH', 'DELETE'],
      AllowHeaders: ['authorization', 'content-type', 'idempotency-key', 'if-match', 'if-none-match'],
      ExposeHeaders: ['etag', 'location', 'link', 'retry-after', 'x-request-id', 'idempotent-replayed'],
      MaxAge: 600,
    });
  });
});
