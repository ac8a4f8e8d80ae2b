import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
// cdk-nag's own flattening, so an acknowledgement names a finding exactly as the check prints it.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import { acknowledge } from './nag';

/** Something that takes policy statements and can carry an acknowledgement. */
export type StatementTarget = (iam.IRole | iam.ManagedPolicy) & IConstruct;

/** How cdk-nag spells a (possibly tokenized) ARN in a finding id. */
export function nagSpelling(scope: IConstruct, value: string): string {
  return flattenCfnReference(Stack.of(scope).resolve(value));
}

/**
 * Add one least-privilege statement and acknowledge its wildcard resources by name.
 *
 * A resource like `<bucket>/reports/*` or `endpoint/mlship-*` is as narrow as the
 * service allows for objects or resources created at run time; cdk-nag still reports
 * it (AwsSolutions-IAM5), so each such resource is acknowledged on its own with `why`.
 * Wildcard actions are refused here: every action is spelled out.
 */
export function allow(
  target: StatementTarget,
  statement: { actions: string[]; resources: string[]; conditions?: Record<string, unknown>; sid?: string },
  why: string,
): void {
  const wild = statement.actions.filter((a) => a.includes('*'));
  if (wild.length) throw new Error(`${target.node.path}: spell out the actions instead of ${wild.join(', ')}`);
  if (!statement.resources.length) throw new Error(`${target.node.path}: a statement needs resources`);
  const stmt = new iam.PolicyStatement({
    sid: statement.sid,
    actions: statement.actions,
    resources: statement.resources,
    conditions: statement.conditions,
  });
  if (target instanceof iam.ManagedPolicy) target.addStatements(stmt);
  else target.addToPrincipalPolicy(stmt);
  const findings: Record<string, string> = {};
  for (const resource of statement.resources) {
    const spelled = nagSpelling(target, resource);
    if (spelled.includes('*')) findings[`AwsSolutions-IAM5[Resource::${spelled}]`] = why;
  }
  acknowledge(target, findings);
}

/**
 * Acknowledge what every CDK CodeBuild project's role gets by default, spelled for this
 * project: its own `/aws/codebuild/<project>` log group and `<project>-*` report groups,
 * and the KMS encrypt/decrypt set on its encryption key.
 */
export function acknowledgeCodeBuildDefaults(project: { projectName: string; role?: iam.IRole } & IConstruct): void {
  const stack = Stack.of(project);
  const logGroup = stack.formatArn({
    service: 'logs',
    resource: 'log-group',
    resourceName: `/aws/codebuild/${project.projectName}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
  const reportGroups = stack.formatArn({
    service: 'codebuild',
    resource: 'report-group',
    resourceName: `${project.projectName}-*`,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  const keyWhy =
    'CDK grants a CodeBuild project the KMS encrypt/decrypt set (ReEncrypt*, GenerateDataKey*) on its own encryption key only.';
  acknowledge(project.role!, {
    [`AwsSolutions-IAM5[Resource::${nagSpelling(project, logGroup)}]`]:
      "The project's default log streams are created per build under its own /aws/codebuild/<project> log group.",
    [`AwsSolutions-IAM5[Resource::${nagSpelling(project, reportGroups)}]`]:
      "Test report groups are created per report under the project's own <project>-* names.",
    'AwsSolutions-IAM5[Action::kms:ReEncrypt*]': keyWhy,
    'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]': keyWhy,
  });
}
