import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
  type TriggerType,
} from '@aws-sdk/client-codepipeline';
import { CopyObjectCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import yazl from 'yazl';
import { changedPaths, readTree } from '../../lib/infra/release-starter/changes';
import { executionNameOf, startRelease, treeIndexKey, type StartReleaseDeps } from '../../lib/infra/release-starter/start-release';

const s3 = mockClient(S3Client);
const sfn = mockClient(SFNClient);
const codepipeline = mockClient(CodePipelineClient);

const COMMIT = '0123456789abcdef0123456789abcdef01234567';
const SOURCE_KEY = 'mlship-platform-Pipe/Source/abc123.zip';
const deps = (): StartReleaseDeps => ({
  s3: new S3Client({ region: 'us-east-1' }),
  sfn: new SFNClient({ region: 'us-east-1' }),
  codepipeline: new CodePipelineClient({ region: 'us-east-1' }),
  artifactBucket: 'artifacts',
  releaseStateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:mlship-release',
});
const job = (userParameters: unknown, objectKey = SOURCE_KEY) => ({
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
  commitId: COMMIT,
  branch: 'main',
  pipelineExecutionId: '9f8e7d6c-1111-2222-3333-444455556666',
  pipelineName: 'mlship-delivery',
};
const triggeredBy = (triggerType: TriggerType) => ({
  pipelineExecution: { pipelineExecutionId: params.pipelineExecutionId, status: 'InProgress' as const, trigger: { triggerType } },
});
const manifest = (name: string, extra = '') =>
  `name: ${name}\ntask: regression\npaths:\n  - models/${name}/**\nserve:\n  command: node serve.mjs\nfeatures:\n  - { name: x, type: numeric }\nlabel: y\n${extra}`;

/** A source zip as CodeConnections' CODE_ZIP holds it: the repository's files at the root. */
async function zipOf(files: Record<string, string>): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const [path, text] of Object.entries(files)) zip.addBuffer(Buffer.from(text), path);
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
const body = (buf: Buffer) => ({ Body: { transformToByteArray: async () => new Uint8Array(buf) } }) as never;

/** 300 models, as issue 17's repository holds them. */
const TREE: Record<string, string> = {
  'README.md': 'models',
  ...Object.fromEntries(
    Array.from({ length: 300 }, (_, i) => `m-${String(i).padStart(3, '0')}`).flatMap((n) => [
      [`models/${n}/model.yaml`, manifest(n)],
      [`models/${n}/train.py`, `# ${n}`],
    ]),
  ),
};

async function given(next: Record<string, string>, previous?: Record<string, string>) {
  s3.on(GetObjectCommand, { Bucket: 'pipeline-artifacts', Key: SOURCE_KEY }).callsFake(async () => body(await zipOf(next)));
  if (previous) {
    const index = { commitId: 'f'.repeat(40), files: (await readTree(await zipOf(previous))).files };
    s3.on(GetObjectCommand, { Bucket: 'artifacts', Key: treeIndexKey('main') }).callsFake(async () =>
      body(Buffer.from(JSON.stringify(index))),
    );
  } else {
    s3.on(GetObjectCommand, { Bucket: 'artifacts', Key: treeIndexKey('main') }).rejects(
      Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' }),
    );
  }
}
const startedModels = () => sfn.commandCalls(StartExecutionCommand).map((c) => JSON.parse(c.args[0].input.input!).model as string);

beforeEach(() => {
  s3.reset();
  sfn.reset();
  codepipeline.reset();
  s3.on(CopyObjectCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
  sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
  codepipeline.on(GetPipelineExecutionCommand).resolves(triggeredBy('WebhookV2'));
});

describe('Function: startRelease', () => {
  it('releases only the one model of 300 whose paths the push touched, and records the tree for the next push', async () => {
    // Prepare
    await given({ ...TREE, 'models/m-042/train.py': '# better' }, TREE);
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(startedModels()).toEqual(['m-042']);
    expect(s3).toReceiveCommandWith(CopyObjectCommand, {
      Bucket: 'artifacts',
      Key: `source/m-042/${COMMIT}.zip`,
      CopySource: `pipeline-artifacts/${SOURCE_KEY}`,
    });
    const sourceUri = `s3://artifacts/source/m-042/${COMMIT}.zip`;
    expect(JSON.parse(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input.input!)).toEqual({
      model: 'm-042',
      commitId: COMMIT,
      sourceUri,
      trigger: 'push',
    });
    expect(sfn).toReceiveCommandWith(StartExecutionCommand, { name: `m-042-${COMMIT.slice(0, 12)}-9f8e7d6c` });
    const recorded = s3.commandCalls(PutObjectCommand).find((c) => c.args[0].input.Key === treeIndexKey('main'))!;
    expect(JSON.parse(String(recorded.args[0].input.Body)).commitId).toBe(COMMIT);
    expect(codepipeline).toReceiveCommandWith(PutJobSuccessResultCommand, {
      jobId: 'job-1',
      outputVariables: { releases: '1', manifestsChanged: 'false' },
    });
    expect(result).toMatchObject({ releases: [{ model: 'm-042', sourceUri, started: true }], manifestsChanged: false });
  });

  it('releases a brand-new model directory with no deploy step, and says the manifests changed', async () => {
    // Prepare
    await given({ ...TREE, 'models/brand-new/model.yaml': manifest('brand-new'), 'models/brand-new/serve.mjs': '' }, TREE);
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(startedModels()).toEqual(['brand-new']);
    expect(result).toMatchObject({ manifestsChanged: true });
  });

  it('says the manifests changed when a model directory is removed, and starts nothing', async () => {
    // Prepare
    const without = Object.fromEntries(Object.entries(TREE).filter(([p]) => !p.startsWith('models/m-007/')));
    await given(without, TREE);
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(startedModels()).toEqual([]);
    expect(codepipeline).toReceiveCommandWith(PutJobSuccessResultCommand, { outputVariables: { releases: '0', manifestsChanged: 'true' } });
    expect(result).toMatchObject({ manifestsChanged: true });
  });

  it('ignores models of another branch, and releases every model of the branch on its first push', async () => {
    // Prepare
    await given({ 'models/alpha/model.yaml': manifest('alpha'), 'models/beta/model.yaml': manifest('beta', 'branch: release\n') });
    // Act
    await startRelease(deps(), job(params));
    // Assess
    expect(startedModels()).toEqual(['alpha']);
  });

  it('starts nothing for an invalid manifest and says so, and releases the others', async () => {
    // Prepare
    await given({ 'models/alpha/model.yaml': manifest('alpha'), 'models/bad/model.yaml': 'name: Bad Name\n' });
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(startedModels()).toEqual(['alpha']);
    const summary = codepipeline.commandCalls(PutJobSuccessResultCommand)[0]!.args[0].input.executionDetails!.summary!;
    expect(summary).toMatch(/models\/bad\/model\.yaml/);
    expect(result).toMatchObject({ skippedModels: [expect.stringContaining('models/bad')] });
  });

  it("records the tree of the execution the pipeline's creation started without starting a release, and says why", async () => {
    // Prepare
    await given(TREE);
    codepipeline.on(GetPipelineExecutionCommand).resolves(triggeredBy('CreatePipeline'));
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(codepipeline).toReceiveCommandWith(GetPipelineExecutionCommand, {
      pipelineName: 'mlship-delivery',
      pipelineExecutionId: params.pipelineExecutionId,
    });
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(s3).not.toReceiveCommand(CopyObjectCommand);
    expect(s3).toReceiveCommandWith(PutObjectCommand, { Key: treeIndexKey('main') });
    const success = codepipeline.commandCalls(PutJobSuccessResultCommand)[0]!.args[0].input;
    expect(success.executionDetails!.summary).toMatch(/^No release: .*CreatePipeline/);
    expect(success.outputVariables).toEqual({ skipped: 'CreatePipeline' });
    expect(result).toEqual({ skipped: 'CreatePipeline' });
  });

  it.each<TriggerType>(['WebhookV2', 'StartPipelineExecution', 'CloudWatchEvent'])(
    'starts the releases of an execution triggered by %s (a push or a "Release change")',
    async (trigger) => {
      // Prepare
      await given({ 'models/alpha/model.yaml': manifest('alpha') });
      codepipeline.on(GetPipelineExecutionCommand).resolves(triggeredBy(trigger));
      // Act
      await startRelease(deps(), job(params));
      // Assess
      expect(startedModels()).toEqual(['alpha']);
    },
  );

  it('reports a failure to read the pipeline execution to CodePipeline and starts nothing', async () => {
    // Prepare
    await given({ 'models/alpha/model.yaml': manifest('alpha') });
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
    await given({ 'models/alpha/model.yaml': manifest('alpha') });
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(result).toMatchObject({ releases: [{ model: 'alpha', started: false }] });
    expect(codepipeline).toReceiveCommand(PutJobSuccessResultCommand);
  });

  it('reports a failed copy to CodePipeline instead of throwing, starts nothing and keeps the old tree (a retry compares again)', async () => {
    // Prepare
    await given({ 'models/alpha/model.yaml': manifest('alpha') });
    s3.on(CopyObjectCommand).rejects(Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }));
    // Act
    const result = await startRelease(deps(), job(params));
    // Assess
    expect(result).toBeUndefined();
    expect(sfn).not.toReceiveCommand(StartExecutionCommand);
    expect(s3).not.toReceiveCommand(PutObjectCommand);
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
    // Prepare
    s3.on(GetObjectCommand, { Bucket: 'pipeline-artifacts', Key: 'pipe/Source/a b+c.zip' }).callsFake(async () =>
      body(await zipOf({ 'models/alpha/model.yaml': manifest('alpha') })),
    );
    s3.on(GetObjectCommand, { Bucket: 'artifacts' }).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey' }));
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

describe('Function: changedPaths', () => {
  it('lists added, removed and changed files, and every file without a previous tree', () => {
    // Act / Assess
    expect(changedPaths({ a: '1:1', b: '2:2', c: '3:3' }, { a: '1:1', b: '9:2', d: '4:4' })).toEqual(['b', 'c', 'd']);
    expect(changedPaths(undefined, { b: '1:1', a: '1:1' })).toEqual(['a', 'b']);
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
