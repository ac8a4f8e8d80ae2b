import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  type TriggerType,
} from '@aws-sdk/client-codepipeline';
import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { executionNameOf, startRelease, type StartReleaseDeps } from '../../lib/infra/release-starter/start-release';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const codepipeline = mockClient(CodePipelineClient);

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const deps = (): StartReleaseDeps => ({
  s3: new S3Client({ region: 'us-east-1' }),
  sfn: new SFNClient({ region: 'us-east-1' }),
  codepipeline: new CodePipelineClient({ region: 'us-east-1' }),
  artifactBucket: 'artifacts',
  releaseStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:mlship-release',
});
const job = (userParameters: unknown, objectKey = 'mlship-platform-Pipe/Source/abc123.zip') => ({
  id: 'job-1',
  data: {
    actionConfiguration: {
      configuration: {
        FunctionName: 'starter',
        UserParameters: typeof userParameters === 'string' ? userParameters : JSON.stringify(userParameters),
      },
    },
    inputArtifacts: [{ name: 'Source', location: { type: 'S3', s3Location: { bucketName: 'pipeline-artifacts', objectKey } } }],
  },
});
const params = {
  model: 'parcel-eta',
  commitId: COMMIT,
  pipelineExecutionId: '9f8e7d6c-1111-2222-3333-444455556666',
  pipelineName: 'mlship-release-parcel-eta',
};
const triggeredBy = (triggerType: TriggerType) => ({
  pipelineExecution: { pipelineExecutionId: params.pipelineExecutionId, status: 'InProgress' as const, trigger: { triggerType } },
});

beforeEach(() => {
  s3.reset();
  sfn.reset();
  codepipeline.reset();
  s3.on(CopyObjectCommand).resolves({});
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
  codepipeline.on(GetPipelineExecutionCommand).resolves(triggeredBy('WebhookV2'));
});

describe('Function: startRelease', () => {
  it('copies the source zip to source/<model>/<commit>.zip, starts the release and reports success', async () => {
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(s3).toReceiveCommandWith(CopyObjectCommand, {
      Bucket: 'artifacts',
      Key: `source/parcel-eta/${COMMIT}.zip`,
      CopySource: 'pipeline-artifacts/mlship-platform-Pipe/Source/abc123.zip',
    });
    const sourceUri = `s3://artifacts/source/parcel-eta/${COMMIT}.zip`;
    expect(sfn).toReceiveCommandWith(StartExecutionCommand, {
      stateMachineArn: deps().releaseStateMachineArn,
      name: `parcel-eta-${COMMIT.slice(0, 12)}-9f8e7d6c`,
    });
    const input = JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!);
    expect(input).toEqual({ model: 'parcel-eta', commitId: COMMIT, sourceUri, trigger: 'push' });
    expect(codepipeline).toReceiveCommandWith(PutJobSuccessResultCommand, {
      jobId: 'job-1',
      outputVariables: { executionName: `parcel-eta-${COMMIT.slice(0, 12)}-9f8e7d6c`, sourceUri },
    });
    expect(codepipeline).not.toReceiveCommand(PutJobFailureResultCommand);
    expect(result).toEqual({ executionName: `parcel-eta-${COMMIT.slice(0, 12)}-9f8e7d6c`, sourceUri, started: true });
  });

  it("ends the execution the pipeline's creation started without starting a release, and says why in the action's summary", async () => {
    // Prepare
    codepipeline.on(GetPipelineExecutionCommand).resolves(triggeredBy('CreatePipeline'));
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(codepipeline).toReceiveCommandWith(GetPipelineExecutionCommand, {
      pipelineName: 'mlship-release-parcel-eta',
      pipelineExecutionId: params.pipelineExecutionId,
    });
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(s3).not.toReceiveCommand(CopyObjectCommand);
    const success = codepipeline.commandCalls(PutJobSuccessResultCommand)[0]!.args[0].input;
    expect(success.jobId).toBe('job-1');
    expect(success.executionDetails!.summary).toMatch(/^No release: .*CreatePipeline/);
    expect(success.outputVariables).toEqual({ skipped: 'CreatePipeline' });
    expect(codepipeline).not.toReceiveCommand(PutJobFailureResultCommand);
    expect(result).toEqual({ skipped: 'CreatePipeline', started: false });
  });

  it.each<TriggerType>(['WebhookV2', 'StartPipelineExecution', 'CloudWatchEvent'])(
    'starts the release of an execution triggered by %s (a push or a "Release change")',
    async (trigger) => {
      // Prepare
      codepipeline.on(GetPipelineExecutionCommand).resolves(triggeredBy(trigger));
      // Act
      const result = await startRelease(deps(), job(params));
      // Assess
      expect(sfn).toReceiveCommand(StartExecutionCommand);
      expect(result).toMatchObject({ started: true });
    },
  );

  it('reports a failure to read the pipeline execution to CodePipeline and starts nothing', async () => {
    // Prepare
    codepipeline
      .on(GetPipelineExecutionCommand)
      .rejects(Object.assign(new Error('not authorized to perform: codepipeline:GetPipelineExecution'), { name: 'AccessDeniedException' }));
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(result).toBeUndefined();
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(codepipeline).toReceiveCommandWith(PutJobFailureResultCommand, {
      failureDetails: { type: 'JobFailed', message: expect.stringContaining('AccessDeniedException') },
    });
  });

  it('treats an existing execution of the same job as success (a retried action)', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(result?.started).toBe(false);
    expect(codepipeline).toReceiveCommand(PutJobSuccessResultCommand);
  });

  it('reports a failed copy to CodePipeline instead of throwing, and starts nothing', async () => {
    // Prepare
    s3.on(CopyObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(result).toBeUndefined();
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(codepipeline).toReceiveCommandWith(PutJobFailureResultCommand, {
      jobId: 'job-1',
      failureDetails: { type: 'JobFailed', message: 'AccessDenied: Access Denied' },
    });
  });

  it('names the bad field of malformed user parameters in the failure', async () => {
    // Act
    await startRelease(deps(), job({ ...params, commitId: '#{SourceVariables.CommitId}' }));
    // Assess
    const message = codepipeline.commandCalls(PutJobFailureResultCommand)[0]!.args[0].input.failureDetails!.message;
    expect(message).toBe('InvalidJobError: UserParameters: commitId: a commit id (hex)');
    expect(s3).not.toReceiveCommand(CopyObjectCommand);
  });

  it('encodes object keys with special characters in the copy source', async () => {
    // Act
    await startRelease(deps(), job(params, 'pipe/Source/a b+c.zip'));
    // Assess
    expect(s3).toReceiveCommandWith(CopyObjectCommand, { CopySource: 'pipeline-artifacts/pipe/Source/a%20b%2Bc.zip' });
  });

  it('throws on an event without a job id, which cannot be reported', async () => {
    // Act / Assess
    await expect(startRelease(deps(), {})).rejects.toThrow(/id is missing/);
  });
});

describe('Function: executionNameOf', () => {
  it('fits the 80-character limit for the longest model name', () => {
    // Act
    const name = executionNameOf({ model: 'a'.repeat(40), commitId: COMMIT, pipelineExecutionId: params.pipelineExecutionId });
    // Assess
    expect(name.length).toBeLessThanOrEqual(80);
    expect(name).toMatch(/^[a-z0-9-]+$/);
  });
});
