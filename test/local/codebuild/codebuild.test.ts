import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  ListBuildsCommand,
  InvalidInputException,
  ListBuildsForProjectCommand,
  ResourceNotFoundException,
  StartBuildCommand,
  StopBuildCommand,
  type Build,
} from '@aws-sdk/client-codebuild';
import { createCodeBuildService, type CodeBuildService } from '../../../lib/local/services/codebuild';
import { ImageIndex, ImageTagAlreadyExistsError } from '../../../lib/local/services/ecr';
import { startMiniEdge, type MiniEdge } from '../fixtures/mini-edge';
import { eventually } from '../helpers';
import {
  ACCOUNT,
  BUCKET,
  credentials,
  getObject,
  REGION,
  startS3,
  tinyModel,
  tmpDataDir,
  uploadTinySource,
  type S3Fixture,
} from '../fixtures/harness';

const PROJECT = 'mlship-build-tiny';

describe('Class: CodeBuildService', () => {
  let s3: S3Fixture;
  let dataDir: string;
  let service: CodeBuildService;
  let edge: MiniEdge;
  let client: CodeBuildClient;
  let source: string;

  beforeAll(async () => {
    s3 = await startS3();
    dataDir = tmpDataDir();
    service = createCodeBuildService({ dataDir, s3: s3.client, bucket: BUCKET, models: [tinyModel()], region: REGION, accountId: ACCOUNT });
    edge = await startMiniEdge([service]);
    client = new CodeBuildClient({ endpoint: edge.url, region: REGION, credentials });
    source = await uploadTinySource(s3.client, 'c0ffee1');
  });

  afterAll(async () => {
    client?.destroy();
    await service?.close();
    await edge?.close();
    await s3?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Start a build through the SDK and wait for its end; returns the final record as BatchGetBuilds answers it. */
  const build = async (input: Partial<ConstructorParameters<typeof StartBuildCommand>[0]> = {}): Promise<Build> => {
    const started = await client.send(
      new StartBuildCommand({
        projectName: PROJECT,
        sourceTypeOverride: 'S3',
        sourceLocationOverride: source,
        sourceVersion: 'c0ffee1',
        ...input,
      }),
    );
    expect(started.build?.buildStatus).toBe('IN_PROGRESS');
    await service.waitForBuild(started.build!.id!);
    const got = await client.send(new BatchGetBuildsCommand({ ids: [started.build!.id!] }));
    return got.builds![0]!;
  };
  const phase = (b: Build, type: string) => b.phases?.find((p) => p.phaseType === type);
  const exported = (b: Build) => Object.fromEntries((b.exportedEnvironmentVariables ?? []).map((v) => [v.name, v.value]));

  describe('Method: StartBuild', () => {
    it('runs the buildspec, bundles the artifacts, tags the image and exports its URI and digest', async () => {
      // Prepare + Act
      const b = await build({ artifactsOverride: { type: 'S3', location: `${BUCKET}/builds/tiny/v1` } });

      // Assess: status and phases in CodeBuild's order
      expect(b.buildStatus).toBe('SUCCEEDED');
      expect(b.phases?.map((p) => p.phaseType)).toEqual([
        'SUBMITTED',
        'QUEUED',
        'PROVISIONING',
        'DOWNLOAD_SOURCE',
        'INSTALL',
        'PRE_BUILD',
        'BUILD',
        'POST_BUILD',
        'UPLOAD_ARTIFACTS',
        'FINALIZING',
        'COMPLETED',
      ]);
      expect(phase(b, 'BUILD')?.phaseStatus).toBe('SUCCEEDED');
      expect(b.startTime).toBeInstanceOf(Date);
      // exported variables: `cd` carried within the phase, plain assignments exported
      const vars = exported(b);
      expect(vars.TRAINED_ROWS).toBe('8');
      expect(vars.BUILT_COMMIT).toBe('c0ffee1');
      expect(vars.IMAGE_URI).toBe(`000000000000.dkr.ecr.us-east-1.amazonaws.com/mlship/tiny:c0ffee1-${b.buildNumber}`);
      expect(vars.IMAGE_DIGEST).toMatch(/^sha256:[a-f0-9]{64}$/);
      // the bundle in S3 is what the digest says
      const tar = await getObject(s3.client, 'builds/tiny/v1/bundle.tar');
      expect(`sha256:${createHash('sha256').update(tar).digest('hex')}`).toBe(vars.IMAGE_DIGEST);
      expect(b.artifacts?.sha256sum).toBe(vars.IMAGE_DIGEST!.slice('sha256:'.length));
      expect(b.artifacts?.location).toBe(`arn:aws:s3:::${BUCKET}/builds/tiny/v1/files`);
      const manifest = JSON.parse((await getObject(s3.client, 'builds/tiny/v1/bundle.json')).toString());
      expect(manifest).toMatchObject({ model: 'tiny', commit: 'c0ffee1', digest: vars.IMAGE_DIGEST, serve: { command: 'node serve.mjs' } });
      expect(manifest.files.map((f: { path: string }) => f.path)).toEqual([
        'data/holdout.csv',
        'data/train.csv',
        'model/model.json',
        'serve.mjs',
      ]);
      expect((await getObject(s3.client, 'builds/tiny/v1/files/data/holdout.csv')).toString()).toMatch(/^x,y,target\n/);
      // the image index resolves the tag to the bundle
      expect(new ImageIndex(dataDir).resolve(vars.IMAGE_URI!)).toMatchObject({
        digest: vars.IMAGE_DIGEST,
        bundleKey: 'builds/tiny/v1/bundle.tar',
        serveCommand: 'node serve.mjs',
      });
      // the log is a file the deep link points at
      const log = readFileSync(fileURLToPath(b.logs!.deepLink!), 'utf8');
      expect(log).toContain('Running command node train.mjs');
      expect(log).toContain('post_build sees CODEBUILD_BUILD_SUCCEEDING=1');
    });

    it('runs post_build and the finally block after a failed build phase, and fails the build', async () => {
      // Prepare
      const spec = [
        'version: 0.2',
        'env:',
        '  exported-variables: [FIN, NEVER, POST_SAW]',
        'phases:',
        '  build:',
        '    commands:',
        '      - echo one',
        '      - exit_code_three() { return 3; }; exit_code_three',
        '      - NEVER=reached',
        '    finally:',
        '      - FIN=ran',
        '  post_build:',
        '    commands:',
        '      - POST_SAW=$CODEBUILD_BUILD_SUCCEEDING',
        'artifacts:',
        "  files: ['**/*']",
      ].join('\n');

      // Act
      const b = await build({ buildspecOverride: spec });

      // Assess
      expect(b.buildStatus).toBe('FAILED');
      expect(phase(b, 'BUILD')).toMatchObject({
        phaseStatus: 'FAILED',
        contexts: [
          {
            statusCode: 'COMMAND_EXECUTION_ERROR',
            message: 'Error while executing command: exit_code_three() { return 3; }; exit_code_three. Reason: exit status 3',
          },
        ],
      });
      expect(phase(b, 'POST_BUILD')?.phaseStatus).toBe('SUCCEEDED');
      expect(phase(b, 'UPLOAD_ARTIFACTS')).toBeUndefined();
      expect(b.artifacts).toBeUndefined();
      expect(exported(b)).toEqual({ FIN: 'ran', POST_SAW: '0' });
    });

    it('skips to FINALIZING when the install phase fails', async () => {
      // Prepare
      const spec = 'version: 0.2\nphases:\n  install:\n    commands: ["false"]\n  build:\n    commands: ["echo built"]\n';

      // Act
      const b = await build({ buildspecOverride: spec });

      // Assess
      expect(b.buildStatus).toBe('FAILED');
      expect(b.phases?.map((p) => p.phaseType)).toEqual([
        'SUBMITTED',
        'QUEUED',
        'PROVISIONING',
        'DOWNLOAD_SOURCE',
        'INSTALL',
        'FINALIZING',
        'COMPLETED',
      ]);
      expect(phase(b, 'INSTALL')?.phaseStatus).toBe('FAILED');
    });

    it('continues past a failed phase marked on-failure: CONTINUE, and still fails the build', async () => {
      // Prepare
      const spec =
        'version: 0.2\nenv:\n  exported-variables: [BUILT]\nphases:\n  pre_build:\n    on-failure: CONTINUE\n    commands: ["false"]\n  build:\n    commands: ["BUILT=yes"]\n';

      // Act
      const b = await build({ buildspecOverride: spec });

      // Assess
      expect(b.buildStatus).toBe('FAILED');
      expect(phase(b, 'PRE_BUILD')?.phaseStatus).toBe('FAILED');
      expect(phase(b, 'BUILD')?.phaseStatus).toBe('SUCCEEDED');
      expect(exported(b)).toEqual({ BUILT: 'yes' });
    });

    it('selects artifacts with base-directory, globs, exclude-paths and discard-paths', async () => {
      // Prepare: a buildspec path inside the source, overriding the manifest's
      const spec = [
        'version: 0.2',
        'phases:',
        '  build:',
        '    commands: ["cd models/tiny && node train.mjs"]',
        'artifacts:',
        '  base-directory: models/tiny/out',
        "  files: ['data/*.csv', 'model/**/*']",
        "  exclude-paths: ['data/train.csv']",
        '  discard-paths: yes',
      ].join('\n');

      // Act
      const b = await build({
        buildspecOverride: spec,
        sourceVersion: 'globs01',
        artifactsOverride: { type: 'S3', location: BUCKET, path: 'builds/tiny/globs' },
      });

      // Assess
      expect(b.buildStatus).toBe('SUCCEEDED');
      const manifest = JSON.parse((await getObject(s3.client, 'builds/tiny/globs/bundle.json')).toString());
      expect(manifest.files.map((f: { path: string }) => f.path)).toEqual(['holdout.csv', 'model.json']);
    });

    it('fails UPLOAD_ARTIFACTS when the globs match nothing', async () => {
      // Act
      const b = await build({
        buildspecOverride: "version: 0.2\nphases:\n  build:\n    commands: ['true']\nartifacts:\n  files: ['nothing/**/*.bin']\n",
      });

      // Assess
      expect(b.buildStatus).toBe('FAILED');
      expect(phase(b, 'UPLOAD_ARTIFACTS')?.phaseStatus).toBe('FAILED');
      expect(phase(b, 'UPLOAD_ARTIFACTS')?.contexts?.[0]?.message).toContain('no matching artifact paths found');
    });

    it('fails DOWNLOAD_SOURCE with YAML_FILE_ERROR naming the field of a bad buildspec', async () => {
      // Act
      const b = await build({ buildspecOverride: 'version: 0.2\nphases:\n  build:\n    on-failure: STOP\n    commands: ["true"]\n' });

      // Assess
      expect(b.buildStatus).toBe('FAILED');
      expect(phase(b, 'DOWNLOAD_SOURCE')).toMatchObject({ phaseStatus: 'FAILED', contexts: [{ statusCode: 'YAML_FILE_ERROR' }] });
      expect(phase(b, 'DOWNLOAD_SOURCE')?.contexts?.[0]?.message).toContain('phases.build.on-failure: must be one of "ABORT", "CONTINUE"');
      expect(phase(b, 'INSTALL')).toBeUndefined();
    });

    it('fails DOWNLOAD_SOURCE when the source zip does not exist', async () => {
      // Act
      const b = await build({ sourceLocationOverride: `${BUCKET}/source/tiny/missing.zip`, sourceVersion: undefined });

      // Assess
      expect(b.buildStatus).toBe('FAILED');
      expect(phase(b, 'DOWNLOAD_SOURCE')?.contexts?.[0]?.message).toContain('source/tiny/missing.zip');
    });

    it('passes environmentVariablesOverride over the buildspec variables, and CodeBuild variables', async () => {
      // Prepare
      const spec =
        'version: 0.2\nenv:\n  variables:\n    A: from-spec\n    B: 2\n  exported-variables: [A, B, ID, NUM, REGION]\nphases:\n  build:\n    commands: ["ID=$CODEBUILD_BUILD_ID; NUM=$CODEBUILD_BUILD_NUMBER; REGION=$AWS_REGION"]\n';

      // Act
      const b = await build({
        buildspecOverride: spec,
        environmentVariablesOverride: [{ name: 'A', value: 'from-override', type: 'PLAINTEXT' }],
      });

      // Assess
      const vars = exported(b);
      expect(vars).toMatchObject({ A: 'from-override', B: '2', ID: b.id, NUM: String(b.buildNumber), REGION: 'us-east-1' });
    });

    it('kills what a phase left running in the background when the build ends', async () => {
      // Prepare
      const spec =
        'version: 0.2\nenv:\n  exported-variables: [BG]\nphases:\n  install:\n    commands: ["sleep 300 & BG=$!"]\n  build:\n    commands: ["kill -0 $BG"]\n';
      const alive = (pid: number) => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        } catch {
          return false;
        }
      };

      // Act
      const b = await build({ buildspecOverride: spec });
      const pid = Number(exported(b).BG);
      await eventually(() => (alive(pid) ? undefined : true));

      // Assess: it survived into the next phase, and not past the build
      expect(b.buildStatus).toBe('SUCCEEDED');
      expect(pid).toBeGreaterThan(0);
      expect(alive(pid)).toBe(false);
    });

    it('tags each build of one commit <commit>-<build number>, so a rebuild pushes a new tag to the immutable index', async () => {
      // Prepare + Act: a commit built twice, as a retraining release or a retry does
      const first = await build({ artifactsOverride: { type: 'S3', location: `${BUCKET}/builds/tiny/again-1` } });
      const second = await build({ artifactsOverride: { type: 'S3', location: `${BUCKET}/builds/tiny/again-2` } });

      // Assess: both succeeded, with distinct tags that each still resolve to their own bundle
      expect([first.buildStatus, second.buildStatus]).toEqual(['SUCCEEDED', 'SUCCEEDED']);
      const [a, b] = [exported(first).IMAGE_URI!, exported(second).IMAGE_URI!];
      expect(a).toMatch(new RegExp(`:c0ffee1-${first.buildNumber}$`));
      expect(b).toMatch(new RegExp(`:c0ffee1-${second.buildNumber}$`));
      expect(a).not.toBe(b);
      const images = new ImageIndex(dataDir);
      expect(images.resolve(a)?.bundleKey).toBe('builds/tiny/again-1/bundle.tar');
      expect(images.resolve(b)?.bundleKey).toBe('builds/tiny/again-2/bundle.tar');
    });

    it.each([1, 2161])(
      "refuses a timeoutInMinutesOverride of %i, outside CodeBuild's 5-2160, instead of raising it into range",
      async (minutes) => {
        // Act
        const started = client.send(
          new StartBuildCommand({ projectName: PROJECT, sourceVersion: 'c0ffee1', timeoutInMinutesOverride: minutes }),
        );

        // Assess
        await expect(started).rejects.toBeInstanceOf(InvalidInputException);
        await expect(started).rejects.toMatchObject({
          message: expect.stringMatching(new RegExp(`Value '${minutes}' at 'timeoutInMinutesOverride' failed to satisfy constraint`)),
        });
      },
    );

    it('rejects an unknown project with ResourceNotFoundException', async () => {
      // Act + Assess
      await expect(client.send(new StartBuildCommand({ projectName: 'mlship-build-nope', sourceVersion: 'x' }))).rejects.toBeInstanceOf(
        ResourceNotFoundException,
      );
    });
  });

  describe('Class: ImageIndex', () => {
    it('refuses to re-point an existing tag with ImageTagAlreadyExistsException, as an IMMUTABLE ECR repository does', async () => {
      // Prepare: an image the first test pushed
      const b = await build({ artifactsOverride: { type: 'S3', location: `${BUCKET}/builds/tiny/repush` } });
      const images = new ImageIndex(dataDir);
      const pushed = images.resolve(exported(b).IMAGE_URI!)!;

      // Act
      const repush = () => images.put({ ...pushed, digest: `sha256:${'0'.repeat(64)}`, bundleKey: 'builds/tiny/other/bundle.tar' });

      // Assess: refused, and the tag still means the first image
      expect(repush).toThrow(ImageTagAlreadyExistsError);
      expect(repush).toThrow(expect.objectContaining({ name: 'ImageTagAlreadyExistsException' }));
      expect(images.resolve(pushed.imageUri)).toEqual(pushed);
    });
  });

  describe('Method: StopBuild', () => {
    it('stops a running build: the phase and the build end STOPPED', async () => {
      // Prepare
      const started = await client.send(
        new StartBuildCommand({
          projectName: PROJECT,
          sourceLocationOverride: source,
          buildspecOverride: 'version: 0.2\nphases:\n  build:\n    commands: ["sleep 60"]\n',
        }),
      );
      const id = started.build!.id!;
      await eventually(async () => {
        const { builds } = await client.send(new BatchGetBuildsCommand({ ids: [id] }));
        return builds![0]!.currentPhase === 'BUILD' ? true : undefined;
      });

      // Act
      const stopped = await client.send(new StopBuildCommand({ id }));

      // Assess
      expect(stopped.build?.buildStatus).toBe('STOPPED');
      expect(stopped.build?.phases?.find((p) => p.phaseType === 'BUILD')?.phaseStatus).toBe('STOPPED');
    });
  });

  describe('Method: ListBuildsForProject', () => {
    it('lists the builds newest first, and oldest first on request', async () => {
      // Act
      const desc = await client.send(new ListBuildsForProjectCommand({ projectName: PROJECT }));
      const asc = await client.send(new ListBuildsForProjectCommand({ projectName: PROJECT, sortOrder: 'ASCENDING' }));

      // Assess
      expect(desc.ids!.length).toBeGreaterThanOrEqual(5);
      expect(asc.ids).toEqual([...desc.ids!].reverse());
    });
  });

  describe('Method: ListBuilds', () => {
    it('lists every build, newest first by default, and refuses a sort order outside the enum', async () => {
      // Prepare: the newest build, so it must come first
      const newest = await build();

      // Act
      const desc = await client.send(new ListBuildsCommand({}));
      const asc = await client.send(new ListBuildsCommand({ sortOrder: 'ASCENDING' }));
      const bad = await client.send(new ListBuildsCommand({ sortOrder: 'SIDEWAYS' as 'ASCENDING' })).catch((err: Error) => err);

      // Assess
      expect(desc.ids![0]).toBe(newest.id);
      expect(desc.ids).toEqual(expect.arrayContaining((await client.send(new ListBuildsForProjectCommand({ projectName: PROJECT }))).ids!));
      expect(asc.ids).toEqual([...desc.ids!].reverse());
      expect(desc.nextToken).toBeUndefined();
      expect(bad).toMatchObject({ name: 'InvalidInputException' });
    });
  });

  describe('Method: restart', () => {
    it('answers BatchGetBuilds from the journal and runs a build cut off by a crash again under its id (issue 14.7)', async () => {
      // Prepare: two builds running in this service; one loses its saved StartBuild input
      const buildspecOverride = 'version: 0.2\nphases:\n  build:\n    commands: ["sleep 60"]\n';
      const started = await client.send(new StartBuildCommand({ projectName: PROJECT, sourceLocationOverride: source, buildspecOverride }));
      const lost = await client.send(new StartBuildCommand({ projectName: PROJECT, sourceLocationOverride: source, buildspecOverride }));
      const id = started.build!.id!;
      rmSync(join(dataDir, 'codebuild', 'inputs', `${lost.build!.id!.split(':').at(-1)}.json`));

      // Act: a second service on the same data dir, as after `mlship up` following a crash
      const again = createCodeBuildService({
        dataDir,
        s3: s3.client,
        bucket: BUCKET,
        models: [tinyModel()],
        region: REGION,
        accountId: ACCOUNT,
      });
      again.resumeInterrupted();
      const out = (await again.handle('BatchGetBuilds', { ids: [id, lost.build!.id!] })) as { builds: Build[] };

      // Assess
      expect(out.builds[0]).toMatchObject({
        id,
        buildStatus: 'IN_PROGRESS',
        buildComplete: false,
        buildNumber: started.build!.buildNumber,
      });
      expect(out.builds[1]).toMatchObject({ buildStatus: 'FAILED', buildComplete: true });
      expect(JSON.stringify(out.builds[1]!.phases)).toContain('The local cloud stopped while this build was running');
      await client.send(new StopBuildCommand({ id }));
      await client.send(new StopBuildCommand({ id: lost.build!.id! }));
      await again.handle('StopBuild', { id });
      await again.close();
      expect(existsSync(dataDir)).toBe(true);
    });
  });
});
