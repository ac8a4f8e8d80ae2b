import { join } from 'node:path';
import { ArnFormat, CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { FUNCTION_BUNDLING } from '../bundling';
import { allow } from '../iam';
import { acknowledge } from '../nag';
import type { TeardownProperties } from '../teardown/handler';

/** The handler, relative to the repository root like the entries of lib/tasks.ts. */
export const SAGEMAKER_TEARDOWN_ENTRY = 'lib/infra/teardown/handler.ts';

/** Properties of {@link SageMakerTeardown}. */
export interface SageMakerTeardownProps {
  /** Repository root (handler and lock file). */
  readonly repoRoot: string;
  /** Every SageMaker endpoint, config and model the release tasks create is named `<sagemakerPrefix>...`. */
  readonly sagemakerPrefix: string;
  /**
   * The release state machine. It is made to depend on this resource, so a stack deletion
   * removes it first: no release creates endpoints during the teardown, and the handler
   * tells a stack deletion (machine gone) from a rollback (machine active).
   */
  readonly releaseStateMachineArn: string;
  /**
   * Retention of the functions' log groups.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Deletes, when the stack is deleted, the SageMaker endpoints, endpoint configs and models
 * that the release tasks created at run time and CloudFormation therefore does not know.
 * A custom resource (cr.Provider, onEvent only) whose Create and Update do nothing; its
 * Delete waits for the endpoints to go within one Lambda run (15 minutes) and never fails
 * the stack deletion (lib/infra/teardown/).
 */
export class SageMakerTeardown extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: SageMakerTeardownProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const logGroup = new logs.LogGroup(this, 'Logs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'mlship SageMaker teardown on stack deletion',
    });
    logGroup.grantWrite(role);
    const onEvent = new nodejs.NodejsFunction(this, 'Function', {
      entry: join(props.repoRoot, SAGEMAKER_TEARDOWN_ENTRY),
      handler: 'handler',
      projectRoot: props.repoRoot,
      depsLockFilePath: join(props.repoRoot, 'package-lock.json'),
      description: 'On stack deletion, delete the SageMaker endpoints, configs and models the release tasks created',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      // The wait for endpoints to be deleted happens in this one run, and ends before it does.
      timeout: Duration.minutes(15),
      memorySize: 256,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      environment: { POWERTOOLS_SERVICE_NAME: 'mlship' },
      bundling: FUNCTION_BUNDLING,
    });
    acknowledge(onEvent, {
      'AwsSolutions-L1':
        'Pinned to nodejs22.x on purpose: the handlers are tested on Node.js 20 and 22 (CI); the runtime moves when CI does.',
    });
    acknowledge(role, {
      'AwsSolutions-IAM5[Resource::*]':
        'X-Ray PutTraceSegments/PutTelemetryRecords (active tracing) do not support resource-level permissions.',
    });

    const sm = (resource: string) =>
      stack.formatArn({
        service: 'sagemaker',
        resource,
        resourceName: `${props.sagemakerPrefix}*`,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      });
    allow(
      role,
      {
        actions: ['sagemaker:DeleteEndpoint', 'sagemaker:DeleteEndpointConfig', 'sagemaker:DeleteModel'],
        resources: [sm('endpoint'), sm('endpoint-config'), sm('model')],
      },
      'Endpoints, endpoint configs and models are created per model and version at run time, all named with the platform prefix; only those are deleted.',
    );
    allow(
      role,
      { actions: ['sagemaker:ListEndpoints', 'sagemaker:ListEndpointConfigs', 'sagemaker:ListModels'], resources: ['*'] },
      'SageMaker List* actions support no resource-level permissions; the function keeps only names with the platform prefix.',
    );
    allow(role, { actions: ['states:DescribeStateMachine'], resources: [props.releaseStateMachineArn] }, 'no wildcard');

    // The framework function answers CloudFormation; a role of our own keeps it off the
    // AWSLambdaBasicExecutionRole managed policy.
    const frameworkLogs = new logs.LogGroup(this, 'ProviderLogs', { retention, removalPolicy: RemovalPolicy.DESTROY });
    const frameworkRole = new iam.Role(this, 'ProviderRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'mlship SageMaker teardown provider framework',
    });
    frameworkLogs.grantWrite(frameworkRole);
    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      frameworkOnEventRole: frameworkRole,
      logGroup: frameworkLogs,
    });
    acknowledge(frameworkRole, {
      [`AwsSolutions-IAM5[Resource::<${stack.getLogicalId(onEvent.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`]:
        'The provider framework invokes any version of its own onEvent function (CDK grants function ARN and ARN:*).',
    });
    const properties: TeardownProperties = { SageMakerPrefix: props.sagemakerPrefix, ReleaseStateMachineArn: props.releaseStateMachineArn };
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MlshipSageMakerTeardown',
      properties,
    });
  }
}
