/**
 * deploy/github-oidc.yml, the GitHub OIDC provider and deploy role: it passes
 * AWS's CloudFormation validator and cdk-nag like the service's template, the
 * role trusts only this repository's main branch and its dev/prod
 * environments, every role it may create carries the permissions boundary,
 * and the roles the packaged service creates are ones it may create.
 */
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: Fn::Sub strings: CloudFormation, not JavaScript, fills ${...} in
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template as Assertions } from 'aws-cdk-lib/assertions';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { nagFindings } from './cdk-nag.js';
import { validateTemplateFile } from './cfn-validate.js';
import type { NagSuppression } from './nag-suppressions.js';
import { activeResources, ofType, type Packaged, packageService, root } from './template.js';

const file = path.join(root, 'deploy/github-oidc.yml');

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

let resources: Record<string, any>;
let statements: Statement[];

beforeAll(() => {
  const stack = new Stack(new App(), 'GitHubDeploy');
  new CfnInclude(stack, 'Template', { templateFile: file });
  resources = Assertions.fromStack(stack).toJSON().Resources;
  statements = resources.DeployRole.Properties.Policies[0].PolicyDocument.Statement;
});

const actions = (s: Statement) => [s.Action].flat();

/** The cdk-nag findings the role keeps, with why. */
const suppressions: NagSuppression[] = [
  {
    rules: ['AwsSolutions-IAM5'],
    resources: /^DeployRole$/,
    reason:
      'Each wildcard is one of: a name pattern <service>-* of what the stacks name (stacks, functions, roles, ' +
      "log groups, alarms, the framework's deployment bucket); an id AWS generates (RDS proxies and target " +
      'groups, user pools, KMS keys used only through Secrets Manager or RDS, the rds! secrets RDS creates); ' +
      'or actions without resource-level permissions (Describe reads, ValidateTemplate, CreateUserPool, the ' +
      'EC2 network whose ids are generated). The test below pins which statements may use "*".',
  },
  {
    rules: ['AwsSolutions-IAM5'],
    resources: /^PermissionsBoundary$/,
    reason:
      "A boundary is a ceiling, not a grant: it caps the functions', the proxy's and the flow logs' roles at " +
      'the log groups /aws/lambda/<service>-* and /vpc/<service>-*, network interfaces and X-Ray (no ' +
      "resource-level permissions), the stack's queues <service>-*, IAM database logins (dbuser ids are " +
      'generated) and reading a secret of the account (the RDS-generated rds! secret, or an existing ' +
      "database's, whose name is the user's); each role's own policy names its one user, secret or queue.",
  },
];

it("passes AWS's CloudFormation validator with no error or warning", () => {
  expect(validateTemplateFile(file)).toEqual([]);
});

it('passes cdk-nag (AwsSolutions and Serverless packs) but for the findings explained', () => {
  expect(nagFindings(file, suppressions)).toEqual([]);
});

it("trusts only GitHub's OIDC tokens for sts.amazonaws.com from main and the dev and prod environments", () => {
  const trust = resources.DeployRole.Properties.AssumeRolePolicyDocument.Statement;
  expect(trust).toHaveLength(1);
  expect(trust[0].Action).toBe('sts:AssumeRoleWithWebIdentity');
  expect(trust[0].Condition).toEqual({
    StringEquals: {
      'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
      'token.actions.githubusercontent.com:sub': [
        { 'Fn::Sub': 'repo:${GitHubRepository}:ref:refs/heads/main' },
        { 'Fn::Sub': 'repo:${GitHubRepository}:environment:dev' },
        { 'Fn::Sub': 'repo:${GitHubRepository}:environment:prod' },
      ],
    },
  });
  expect(resources.GitHubOidcProvider.Properties).toEqual(
    expect.objectContaining({
      Url: 'https://token.actions.githubusercontent.com',
      ClientIdList: ['sts.amazonaws.com'],
    }),
  );
});

it('lets the role create a role or change its policies only with the permissions boundary, and never change a boundary', () => {
  const roleWrites = /^iam:(CreateRole|PutRolePolicy|AttachRolePolicy|DetachRolePolicy|DeleteRolePolicy)$/;
  const writing = statements.filter((s) => actions(s).some((a) => roleWrites.test(a)));
  expect(writing.map((s) => s.Sid)).toEqual(['StackRoles']);
  expect(writing[0]?.Condition).toEqual({
    StringEquals: { 'iam:PermissionsBoundary': { Ref: 'PermissionsBoundary' } },
  });
  // IAM's request context for TagRole, UntagRole, UpdateAssumeRolePolicy and DeleteRole has no
  // iam:PermissionsBoundary (Service Authorization Reference), so a statement that requires it never allows
  // them: CloudFormation's tagging of the roles it creates with the stack's tags (STAGE, set by the
  // framework), and its deleting or re-trusting a stack role, would be denied. They stand apart, on the
  // stack's role names only, next to no permission-changing action.
  const upkeep = statements.filter((s) =>
    actions(s).some((a) => /^iam:(TagRole|UntagRole|UpdateAssumeRolePolicy|DeleteRole)$/.test(a)),
  );
  expect(upkeep).toEqual([
    {
      Sid: 'StackRoleUpkeep',
      Effect: 'Allow',
      Action: ['iam:TagRole', 'iam:UntagRole', 'iam:ListRoleTags', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole'],
      Resource: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ServiceName}-*' },
    },
  ]);
  const all = statements.flatMap(actions);
  expect(
    all.filter((a) => /PermissionsBoundary|^iam:\*|^iam:CreatePolicy|^iam:CreateUser|^iam:CreateAccessKey/.test(a)),
  ).toEqual([]);
  const pass = statements.find((s) => actions(s).includes('iam:PassRole'));
  expect(pass?.Condition).toEqual({
    StringEquals: {
      'iam:PassedToService': ['lambda.amazonaws.com', 'rds.amazonaws.com', 'vpc-flow-logs.amazonaws.com'],
    },
  });
});

it('uses "*" only where AWS has no resource-level permission, and action wildcards only for Describe reads', () => {
  const starred = statements.filter((s) => s.Resource === '*').map((s) => s.Sid);
  expect(starred.sort()).toEqual(['AccountReads', 'CreateIssuer', 'Network', 'TemplateValidation']);
  expect(statements.flatMap(actions).filter((a) => a.includes('*'))).toEqual(['ec2:Describe*', 'rds:Describe*']);
  expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
});

describe('the packaged service, with the boundary the deploy workflow passes', () => {
  const boundary = 'arn:aws:iam::123456789012:policy/cats-api-deploy-boundary';
  let bounded: Packaged;
  let plain: Packaged;

  beforeAll(async () => {
    [bounded, plain] = await Promise.all([
      packageService('dev', { permissionsBoundary: boundary, rdsProxy: 'true', natGateway: 'true' }),
      packageService('dev'),
    ]);
  }, 240000);

  it('gives every role it creates the boundary, under a name the deploy role may create', () => {
    const roles = ofType(activeResources(bounded.template), 'AWS::IAM::Role');
    // One role per kind of function (serverless-per-function.cjs), the proxy's and, with a NAT gateway, the flow logs'.
    expect(roles.map(([id]) => id).sort()).toEqual([
      'ApiFunctionsRole',
      'DatabaseProxyRole',
      'MigrationsFunctionRole',
      'NoDatabaseFunctionsRole',
      'VpcFlowLogRole',
    ]);
    for (const [, role] of roles) {
      expect(role.Properties?.PermissionsBoundary).toBe(boundary);
      // A generated name starts with the stack's name; a given one must too.
      const name = role.Properties?.RoleName as { 'Fn::Join'?: [string, unknown[]] } | undefined;
      if (name) expect(name['Fn::Join']?.[1]?.[0]).toBe('cats-api');
    }
    for (const [, role] of ofType(activeResources(plain.template), 'AWS::IAM::Role')) {
      expect(role.Properties?.PermissionsBoundary).toBeUndefined();
    }
  });

  it('creates only resource types of services the deploy role has permissions for', () => {
    const services = new Set(statements.flatMap(actions).map((a) => a.split(':')[0]));
    const alias: Record<string, string> = {
      apigatewayv2: 'apigateway',
      cognito: 'cognito-idp',
      serverless: 's3',
    };
    const types = new Set(Object.values(activeResources(bounded.template)).map((r) => r.Type));
    const missing = [...types].filter((type) => {
      const service = type.split('::')[1]?.toLowerCase() ?? '';
      return !services.has(alias[service] ?? service);
    });
    expect(missing).toEqual([]);
  });
});
