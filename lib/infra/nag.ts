import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledge specific cdk-nag findings on one construct, each with its own reason.
 *
 * cdk-nag 3 matches acknowledgements by exact finding id, so a wildcard finding is named
 * with what it applies to, e.g. `AwsSolutions-IAM5[Action::s3:GetObject*]`. This helper
 * refuses a bare `AwsSolutions-IAM5` (it would read as a blanket acknowledgement) and a
 * reason too short to say why.
 */
export function acknowledge(scope: IConstruct, findings: Record<string, string>): void {
  for (const [id, reason] of Object.entries(findings)) {
    if (/^AwsSolutions-IAM5$/.test(id)) {
      throw new Error(`${scope.node.path}: acknowledge AwsSolutions-IAM5 per finding, e.g. AwsSolutions-IAM5[Action::s3:GetObject*]`);
    }
    if (reason.trim().length < 20) {
      throw new Error(`${scope.node.path}: the reason for ${id} must say why the finding is acceptable`);
    }
    Validations.of(scope).acknowledge({ id, reason });
  }
}
