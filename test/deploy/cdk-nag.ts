/**
 * cdk-nag's AwsSolutions and Serverless rule packs on a packaged template:
 * the template, resolved to what CloudFormation would create (cdk-nag does
 * not evaluate conditions, and would count a flow log that only another
 * parameter value adds), is loaded into a CDK app with CfnInclude (nothing is
 * synthesized or deployed) and both packs check every resource. A finding
 * ./nag-suppressions.ts lists, whose reason holds for this template, is
 * suppressed; the rest are returned.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { type NagSuppression, nagSuppressions } from './nag-suppressions.js';
import { activeResources, type Resource, resolvedTemplate, type Template } from './template.js';

export interface NagFinding {
  /** e.g. AwsSolutions-IAM5[Resource::*] */
  rule: string;
  /** The template's logical id of the resource. */
  resource: string;
  description: string;
}

/** Every finding of both packs on the template at `templateFile`, none suppressed. */
export function allNagFindings(templateFile: string): NagFinding[] {
  // A packaged template (JSON, in a temporary folder) is judged as CloudFormation creates it; a
  // hand-written YAML template of the repository (deploy/github-oidc.yml) as it is.
  const json = templateFile.endsWith('.json');
  const resolvedFile = json ? templateFile.replace(/\.json$/, '.resolved.json') : templateFile;
  if (json) writeFileSync(resolvedFile, JSON.stringify(resolvedTemplate(readTemplate(templateFile))));
  const app = new App();
  const stack = new Stack(app, 'CatsApi');
  new CfnInclude(stack, 'Template', { templateFile: resolvedFile });
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

function readTemplate(file: string): Template {
  return JSON.parse(readFileSync(file, 'utf8')) as Template;
}

/**
 * Whether `suppression` covers `finding`: the rule (with or without its
 * [finding id]) on one of its resources, in a template (its active
 * resources) for which the suppression's reason holds.
 */
export function suppresses(
  suppression: NagSuppression,
  finding: NagFinding,
  resources: Record<string, Resource> = {},
): boolean {
  const rule = finding.rule.replace(/\[.*$/, '');
  return (
    suppression.rules.includes(rule) &&
    (suppression.resources === undefined || suppression.resources.test(finding.resource)) &&
    (suppression.holds === undefined || suppression.holds(finding.resource, resources))
  );
}

/** The findings no suppression covers. */
export function nagFindings(templateFile: string, suppressions: NagSuppression[] = nagSuppressions): NagFinding[] {
  const resources = templateFile.endsWith('.json') ? activeResources(readTemplate(templateFile)) : {};
  return allNagFindings(templateFile).filter((finding) => !suppressions.some((s) => suppresses(s, finding, resources)));
}
