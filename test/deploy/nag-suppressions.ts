/**
 * The cdk-nag findings (AwsSolutions and Serverless packs) the template keeps,
 * each with its reason (test/deploy/cdk-nag.ts applies them). `resources`:
 * the logical ids it covers; omitted, every resource.
 */
export interface NagSuppression {
  rules: string[];
  resources?: RegExp;
  reason: string;
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
    // log group of the stage exactly (its Arn), so only these two "*" remain.
    rules: ['Serverless-LambdaStarPermissions', 'AwsSolutions-IAM5'],
    resources: /^(ApiFunctionsRole|MigrationsFunctionRole|NoDatabaseFunctionsRole)$/,
    reason:
      'Every role: xray:PutTraceSegments and xray:PutTelemetryRecords, which active tracing (issue 15) needs: ' +
      'X-Ray has no resource-level permissions for them. The two roles of functions in the VPC (API, migrate): the ' +
      'EC2 network-interface actions Lambda takes with the role to attach them, whose Describe calls have no ' +
      'resource-level permissions and whose interfaces Lambda names. Resource is "*" by necessity in both.',
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
      'Every function is invoked synchronously (API Gateway, and `npm run deploy` invoking migrate): the caller ' +
      'gets the error, and a dead-letter queue only ever receives failed asynchronous invocations.',
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
      'Flow logs cost per GB for a VPC whose only traffic is the functions to the database and Secrets Manager, ' +
      'all inside security groups that open one port each; worth adding when the VPC carries more (follow-up).',
  },
  {
    rules: ['AwsSolutions-RDS3'],
    resources: /^Database$/,
    reason:
      'Multi-AZ doubles the instance cost; it is the dbMultiAz parameter (README, Deploying), off by default ' +
      'for dev stages and turned on per stage by whoever runs production.',
  },
  {
    rules: ['AwsSolutions-RDS10'],
    resources: /^Database$/,
    reason: 'Deletion protection is on for prod (params.prod.dbDeletionProtection); dev stages are disposable.',
  },
  {
    rules: ['AwsSolutions-RDS11'],
    resources: /^Database$/,
    reason:
      'The default port is not reachable from anywhere but the functions (and the proxy) security groups; ' +
      'another port would hide nothing from them and surprise every client.',
  },
  {
    rules: ['AwsSolutions-SNS3', 'Serverless-SNSRedrivePolicy'],
    resources: /^(AlarmTopic|AlarmEmailSubscription)$/,
    reason:
      'The alarm topic carries only CloudWatch alarm notifications (no data) to an email address; CloudWatch ' +
      'publishes over TLS, and an email that cannot be delivered has nothing to redrive to.',
  },
];
