/**
 * The warnings @aws/cloudformation-validate gives the packaged templates that
 * stay, each with why (test/deploy/template.test.ts fails on any other).
 * They come from what `sls package` makes of serverless.yml, not from a
 * mistake in it; the ones that were mistakes were fixed (W8001: an unused
 * NoRdsProxy condition, removed; W9003: AllocatedStorage given as a number).
 */
export interface ExplainedWarning {
  rule: string;
  /** The entities it may name; omitted: any. */
  entities?: RegExp;
  reason: string;
}

export const explainedWarnings: ExplainedWarning[] = [
  {
    rule: 'W8003',
    reason:
      'Conditions compare constants: the params of serverless.yml are resolved when packaging, so ' +
      'Fn::Equals compares two literals. The conditions are kept so that one serverless.yml serves every ' +
      'stage and option (existing database, RDS Proxy, NAT, CORS, alarm email) with a readable template.',
  },
  {
    rule: 'W9053',
    reason:
      'Conditions that are equivalent only because both compare constants after packaging (see W8003): ' +
      'they mean different things and differ for other parameter values.',
  },
  {
    rule: 'W3005',
    entities: /^HttpApi(Route\w+|Stage)$/,
    reason:
      'DependsOn that a Ref or GetAtt already implies, written by the framework (osls) on every HTTP API ' +
      'route and on the stage; harmless, and not ours to change.',
  },
  {
    rule: 'W1001',
    entities: /^DatabaseSecretArn$/,
    reason:
      "The Database reference is inside Fn::If on UseExistingDatabase, whose false branch is CreateDatabase's " +
      'exact complement, so it is only evaluated when the Database exists; the rule does not follow the complement.',
  },
  {
    rule: 'W1028',
    entities: /LambdaFunction$|^DatabaseProxyRole$|^VpcFlowLogRole$/,
    reason:
      "Unreachable only for this template's parameter values: DB_HOST's nested Fn::If (HasExistingMigrateHost " +
      'for migrate, UseRdsProxy for the API functions) is reached with the other values of existingDbHost, ' +
      "which the tests package too; one serverless.yml serves both. Likewise the proxy's and the flow logs' roles' " +
      'PermissionsBoundary (HasPermissionsBoundary within UseRdsProxy or CreateFlowLog): the deploy workflow ' +
      'passes permissionsBoundary, a laptop does not.',
  },
];

/** The diagnostics no explanation covers. */
export function unexplained<D extends { rule: string; entity?: string }>(diagnostics: D[]): D[] {
  return diagnostics.filter(
    (d) =>
      !explainedWarnings.some(
        (e) => e.rule === d.rule && (e.entities === undefined || e.entities.test(d.entity ?? '')),
      ),
  );
}
