/**
 * What prod gets by default and dev does not (issue 20): a Multi-AZ database,
 * a Cognito issuer that outlives a removal of the stack, VPC flow logs; and
 * cdk-nag suppressions that apply only where the template fact their reason
 * states is true, so a stage or parameter that makes it false gets the finding.
 */
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { allNagFindings, type NagFinding, nagFindings } from './cdk-nag.js';
import { activeResources, ofType, type Packaged, packageService, type Resource } from './template.js';

let dev: Packaged;
let prod: Packaged;
let withNat: Packaged;
let prodSingleAz: Packaged;

beforeAll(async () => {
  dev = await packageService('dev');
  prod = await packageService('prod');
  withNat = await packageService('dev', { natGateway: 'true' });
  prodSingleAz = await packageService('prod', { dbMultiAz: 'false' });
}, 300000);

afterAll(async () => {
  for (const packaged of [dev, prod, withNat, prodSingleAz]) {
    if (packaged) await rm(packaged.dir, { recursive: true, force: true });
  }
});

const templateFile = (packaged: Packaged) => path.join(packaged.dir, 'cloudformation-template-update-stack.json');
const rulesOn = (findings: NagFinding[], resource: string) =>
  findings.filter((f) => f.resource === resource).map((f) => f.rule.replace(/\[.*$/, ''));

describe('the database', () => {
  it('runs Multi-AZ in prod and in one zone in dev', () => {
    expect(activeResources(prod.template).Database?.Properties?.MultiAZ).toBe(true);
    expect(activeResources(dev.template).Database?.Properties?.MultiAZ).toBe(false);
  });

  it('gets no RDS3 or RDS10 finding in prod, whose database is Multi-AZ and protected', () => {
    expect(rulesOn(allNagFindings(templateFile(prod)), 'Database')).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/RDS3|RDS10/)]),
    );
  });

  it('keeps the RDS3 finding when prod is packaged single-AZ: the suppression holds only for a disposable database', () => {
    expect(rulesOn(nagFindings(templateFile(prodSingleAz)), 'Database')).toEqual(['AwsSolutions-RDS3']);
    // dev's is single-AZ and deleted with its stack, which is what the reason says.
    expect(rulesOn(allNagFindings(templateFile(dev)), 'Database')).toContain('AwsSolutions-RDS3');
    expect(rulesOn(nagFindings(templateFile(dev)), 'Database')).toEqual([]);
  });
});

describe('the Cognito issuer on removal of the stack', () => {
  const kept = ['AuthUserPool', 'AuthResourceServer', 'AuthAppClient'];

  it('is retained in prod: the pool, its resource server and app client, also when replaced', () => {
    const resources = activeResources(prod.template);
    for (const id of kept) {
      expect([id, resources[id]?.DeletionPolicy, resources[id]?.UpdateReplacePolicy]).toEqual([id, 'Retain', 'Retain']);
    }
  });

  it('is deleted in dev', () => {
    const resources = activeResources(dev.template);
    for (const id of kept) {
      expect([id, resources[id]?.DeletionPolicy, resources[id]?.UpdateReplacePolicy]).toEqual([id, 'Delete', 'Delete']);
    }
  });

  it.each([
    ['dev', () => dev],
    ['prod', () => prod],
  ])(
    'lets a deploy of %s after a removal succeed: no retained resource keeps a name the stack creates again',
    (stage, packaged) => {
      const resources = activeResources(packaged().template);
      // The domain prefix is global per region: it goes with the stack, so the next deploy can take it again.
      expect(resources.AuthDomain?.DeletionPolicy ?? 'Delete').toBe('Delete');
      expect(JSON.stringify(resources.AuthDomain?.Properties?.Domain)).toContain(`"${stage}"`);
      // The names retained resources keep are not unique in Cognito: a new pool and client may reuse them.
      const retained = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain');
      expect(retained.map(([, r]) => r.Type).sort()).toEqual(
        stage === 'prod'
          ? ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient', 'AWS::Cognito::UserPoolResourceServer']
          : [],
      );
    },
  );
});

describe('VPC flow logs', () => {
  function flowLog(packaged: Packaged) {
    const resources = activeResources(packaged.template);
    const logs = ofType(resources, 'AWS::EC2::FlowLog');
    return { resources, logs };
  }

  it.each([
    ['prod', () => prod],
    ['dev with natGateway=true', () => withNat],
  ])('exist in %s: every connection of the VPC, to a log group with the stage retention', (_name, packaged) => {
    const { resources, logs } = flowLog(packaged());
    expect(logs).toHaveLength(1);
    const [[, log]] = logs as [[string, Resource]];
    expect(log.Properties).toMatchObject({
      ResourceId: { Ref: 'Vpc' },
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: { Ref: 'VpcFlowLogGroup' },
      DeliverLogsPermissionArn: { 'Fn::GetAtt': ['VpcFlowLogRole', 'Arn'] },
    });
    expect(resources.VpcFlowLogGroup?.Properties?.RetentionInDays).toEqual(expect.any(Number));
  });

  it('deliver through a role only the flow-logs service of this account assumes, that writes the one log group', () => {
    const role = activeResources(withNat.template).VpcFlowLogRole as Resource;
    const trust = (role.Properties?.AssumeRolePolicyDocument as { Statement?: Record<string, unknown>[] } | undefined)
      ?.Statement;
    expect(trust).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    const policies = role.Properties?.Policies as { PolicyDocument: { Statement: Record<string, unknown>[] } }[];
    expect(policies.flatMap((p) => p.PolicyDocument.Statement)).toEqual([
      {
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        Resource: { 'Fn::GetAtt': ['VpcFlowLogGroup', 'Arn'] },
      },
    ]);
    expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
  });

  it('are left out of dev, whose VPC has no way to the internet, where the VPC7 suppression says why', () => {
    const { resources, logs } = flowLog(dev);
    expect(logs).toEqual([]);
    expect(ofType(resources, 'AWS::EC2::NatGateway')).toEqual([]);
    expect(rulesOn(allNagFindings(templateFile(dev)), 'Vpc')).toEqual(['AwsSolutions-VPC7']);
    expect(rulesOn(nagFindings(templateFile(dev)), 'Vpc')).toEqual([]);
  });

  it('are not excused by the VPC7 suppression once the VPC reaches the internet: without them the finding stands', async () => {
    expect(rulesOn(allNagFindings(templateFile(withNat)), 'Vpc')).toEqual([]);
    const broken = structuredClone(withNat.template);
    delete broken.Resources.VpcFlowLog;
    const file = path.join(withNat.dir, 'no-flow-log.json');
    await writeFile(file, JSON.stringify(broken));
    expect(rulesOn(nagFindings(file), 'Vpc')).toEqual(['AwsSolutions-VPC7']);
  });
});
