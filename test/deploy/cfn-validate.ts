/**
 * AWS's own offline CloudFormation validator (@aws/cloudformation-validate:
 * the current resource schemas and its rules) on a packaged template. Errors
 * fail; each warning must be one ./cfn-validate-explained.ts explains.
 */
import { RegoEngine, TemplateFile } from '@aws/cloudformation-validate';

export interface CfnDiagnostic {
  rule: string;
  severity: string;
  /** The template entity (resource, condition, output) it is about, when it names one. */
  entity?: string;
  message: string;
}

/** The diagnostics of WARN severity and above for the template at `file`. */
export function validateTemplateFile(file: string): CfnDiagnostic[] {
  const engine = new RegoEngine();
  try {
    const report = engine.validateStandard(new TemplateFile(file), { severityLevel: 'WARN' });
    if (report.status !== 'OK') throw new Error(`cloudformation-validate: analysis ${report.status} for ${file}`);
    return report.diagnostics.map((d) => ({
      rule: d.ruleId,
      severity: d.severity,
      ...(d.entity?.logicalId ? { entity: d.entity.logicalId } : {}),
      message: d.message,
    }));
  } finally {
    engine.free();
  }
}
