import { Fn, NestedStack, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { DiscoveredModel } from '../../config';
import { DriftSchedule } from '../constructs/drift-schedule';
import { PullRequestCheck, PullRequestCheckRole } from '../constructs/pull-request-check';
import { RollbackAlarms } from '../constructs/rollback-alarms';
import { allow } from '../iam';
import type { ResourceNames } from '../naming';

/** Properties of {@link ModelsStack}. */
export interface ModelsStackProps extends StackProps {
  readonly models: readonly DiscoveredModel[];
  readonly names: ResourceNames;
  /** Export name of the notification topic's ARN (the stateful stack's). */
  readonly topicArnExport: string;
  /** Export name of the drift-check state machine's ARN (the platform stack's). */
  readonly driftCheckArnExport: string;
  /**
   * Nested stacks the models are spread over by a hash of their name. Fixed, so that adding
   * or removing a model never moves another one (its alarms have fixed names, and a move would
   * create them in one nested stack before deleting them in the other). Each model takes 3
   * resources; with 10 shards, 1,000 models put about 300 in each (CloudFormation allows 500).
   * @default 10
   */
  readonly shards?: number;
  /**
   * Pull-request checks (issue 21): a CodeBuild project per model, in the model's shard, all
   * sharing one role and one log group. CodeBuild webhooks need a GitHub repository reached
   * through a CodeConnections connection; a CodeCommit deployment has none.
   * @default no checks
   */
  readonly pullRequestChecks?: {
    readonly connectionArn: string;
    readonly owner: string;
    readonly repo: string;
    /** Pull requests into this branch are checked. @default each manifest's `branch` */
    readonly branch?: string;
    readonly artifactBucketNameExport: string;
    readonly keyArnExport: string;
  };
}

/** FNV-1a: a stable shard for a name, the same in every synth. */
export function shardOf(name: string, shards: number): number {
  let h = 0x811c9dc5;
  for (const c of name) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h % shards;
}

/**
 * What each model has in CloudFormation, apart from everything shared: its drift schedule
 * (an EventBridge rule) and its two rollback alarms. Kept out of the platform stack so that
 * the delivery pipeline's Reconcile stage can deploy it on a push that adds, changes or
 * removes a manifest, without touching the functions, workflows or pipeline; spread over
 * nested stacks so that no template nears CloudFormation's 500 resources. One role for
 * every schedule.
 */
export class ModelsStack extends Stack {
  readonly scheduleRole: iam.Role;

  constructor(scope: Construct, id: string, props: ModelsStackProps) {
    super(scope, id, props);
    const shards = props.shards ?? 10;
    if (!Number.isInteger(shards) || shards < 1) throw new Error(`${id}: shards must be a whole number >= 1, got ${shards}`);
    const driftCheckArn = Fn.importValue(props.driftCheckArnExport);
    this.scheduleRole = new iam.Role(this, 'ScheduleRole', {
      // Only this account's schedules may use it (the confused-deputy guard AWS documents for Scheduler).
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: "mlship: EventBridge Scheduler starts each model's drift check",
    });
    allow(this.scheduleRole, { actions: ['states:StartExecution'], resources: [driftCheckArn] }, 'no wildcard');
    const checks = this.checkRole(props);

    const byShard = new Map<number, DiscoveredModel[]>();
    for (const m of props.models) {
      const n = shardOf(m.manifest.name, shards);
      byShard.set(n, [...(byShard.get(n) ?? []), m]);
    }
    // An empty shard has no nested stack (CloudFormation refuses a template without resources).
    for (const [n, models] of [...byShard].sort(([a], [b]) => a - b)) {
      const shard = new NestedStack(this, `Shard${String(n).padStart(2, '0')}`, {
        description: `mlship: drift schedules and rollback alarms of ${models.length} model(s)`,
      });
      const topic = sns.Topic.fromTopicArn(shard, 'Topic', Fn.importValue(props.topicArnExport));
      const stateMachine = sfn.StateMachine.fromStateMachineArn(shard, 'DriftCheck', Fn.importValue(props.driftCheckArnExport));
      for (const model of models) {
        const name = model.manifest.name;
        new DriftSchedule(shard, `Drift-${name}`, {
          model: name,
          schedule: model.manifest.drift.schedule,
          stateMachine,
          role: this.scheduleRole,
        });
        new RollbackAlarms(shard, `Rollback-${name}`, { manifest: model.manifest, alarmPrefix: props.names.rollbackAlarmPrefix, topic });
        if (checks) checks.add(shard, model);
      }
    }
  }

  /** The shared role and log group of every model's pull-request check, and how a shard adds one. */
  private checkRole(props: ModelsStackProps): { add(shard: Construct, model: DiscoveredModel): void } | undefined {
    const pr = props.pullRequestChecks;
    if (!pr) return undefined;
    const bucketName = Fn.importValue(pr.artifactBucketNameExport);
    const keyArn = Fn.importValue(pr.keyArnExport);
    const projectPrefix = `${props.names.prefix}-check-`;
    const shared = new PullRequestCheckRole(this, 'Checks', {
      artifactBucketArn: this.formatArn({ service: 's3', region: '', account: '', resource: bucketName }),
      keyArn,
      connectionArn: pr.connectionArn,
    });
    return {
      add: (shard, model) => {
        const id = `Check-${model.manifest.name}`;
        const key = kms.Key.fromKeyArn(shard, `${id}-Key`, keyArn);
        new PullRequestCheck(shard, id, {
          model,
          source: { provider: 'codeconnections', connectionArn: pr.connectionArn, owner: pr.owner, repo: pr.repo },
          branch: pr.branch,
          artifactBucket: s3.Bucket.fromBucketAttributes(shard, `${id}-Artifacts`, { bucketName, encryptionKey: key }),
          encryptionKey: key,
          projectName: `${projectPrefix}${model.manifest.name}`,
          shared,
        });
      },
    };
  }
}
