/**
 * cdk-nag's AwsSolutions and Serverless rule packs on a packaged template:
 * the template is loaded into a CDK app with CfnInclude (nothing is
 * synthesized or deployed) and both packs check every resource. A finding
 * ./nag-suppressions.ts lists, with its reason, is suppressed; the rest are
 * returned.
 */
import { App, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { type NagSuppression, nagSuppressions } from './nag-suppressions.js';

export interface NagFinding {
  /** e.g. AwsSolutions-IAM5[Resource::*] */
  rule: string;
  /** The template's logical id of the resource. */
  resource: string;
  description: string;
}

/** Every finding of both packs on the template at `templateFile`, none suppressed. */
export function allNagFindings(templateFile: string): NagFinding[] {
  const app = new App();
  const stack = new Stack(app, 'CatsApi');
  new CfnInclude(stack, 'Template', { templateFile });
  const findings: NagFinding[] = [];
  for (const pack of [new AwsSolutionsChecks(app), new ServerlessChecks(app)]) {
    for (const violation of pack.validateScope(stack).violations) {
      for (const { constructPath } of violation.violatingResources) {
        findings.push({
          rule: violation.ruleName,
          resource: constructPath?.split('/').at(-1) ?? '(stack)',
          description: violation.description,
        });
      }
    }
  }
  return findings;
}

/** Whether `suppression` covers `finding`: the rule (with or without its [finding id]) on one of its resources. */
export function suppresses(suppression: NagSuppression, finding: NagFinding): boolean {
  const rule = finding.rule.replace(/\[.*$/, '');
  return (
    suppression.rules.includes(rule) &&
    (suppression.resources === undefined || suppression.resources.test(finding.resource))
  );
}

/** The findings no suppression covers. */
export function nagFindings(templateFile: string, suppressions: NagSuppression[] = nagSuppressions): NagFinding[] {
  return allNagFindings(templateFile).filter((finding) => !suppressions.some((s) => suppresses(s, finding)));
}
