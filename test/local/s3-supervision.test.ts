import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { processesMentioning } from './fixtures/harness';
import { MODEL, WorkflowHarness } from '../workflow/harness';
import { eventually } from './helpers';

/** Issue 14.8: the S3 child of the local cloud dies mid-release. */

let h: WorkflowHarness;
const logged: string[] = [];
beforeAll(async () => {
  h = await WorkflowHarness.start({ log: (line) => logged.push(line) });
});
afterAll(async () => {
  await h?.close();
});

const PRODUCTION = `mlship-${MODEL}-production`;

/** kill -9 the cloud's s3rver (its command line names the data dir's s3/ folder); returns its pid. */
function killS3(): number {
  const [pid] = processesMentioning(join(h.cloud.dataDir, 's3'));
  expect(pid, 's3rver is running').toBeDefined();
  process.kill(pid!, 'SIGKILL');
  return pid!;
}

describe('Class: LocalCloud', () => {
  describe('Method: start (the S3 child)', () => {
    it('restarts a killed S3 server and logs it; the release in flight reaches production', async () => {
      // Prepare: a release that has just entered its staging deployment
      const started = await h.release({ quality: 'good' });
      await eventually(() =>
        h.cloud.stepFunctions
          .history(started.executionArn)
          .some((e) => (e.stateEnteredEventDetails as { name?: string } | undefined)?.name === 'DeployStaging')
          ? true
          : undefined,
      );

      // Act
      const killed = killS3();
      const approval = await h.approvalOf(started.name, started.executionArn);
      if (approval) await h.decide(started.name, 'approve');
      const record = await h.wait(started.executionArn);

      // Assess
      expect(record.status, await h.explain(started.executionArn)).toBe('SUCCEEDED');
      expect(JSON.stringify(await h.getJson(`registry/${MODEL}/production.json`))).toContain(started.commitId.slice(0, 7));
      const version = JSON.parse(record.output!).PrepareReleaseResult.version as string;
      expect(await h.getJson(`registry/${MODEL}/versions/${version}.json`)).toMatchObject({ status: 'production' });
      expect(logged.join('\n')).toContain(`the S3 server (s3rver, pid ${killed}) exited (SIGKILL)`);
      expect(logged.join('\n')).toMatch(/the S3 server is back/);
    });

    it('keeps the data capture of requests made before the S3 server was killed', async () => {
      // Prepare: 21 captured requests to production, not yet uploaded
      const codes = await h.traffic(
        PRODUCTION,
        Array.from({ length: 21 }, (_, i) => ({ x: i })),
        { inferenceIdPrefix: 's3crash' },
      );
      expect(codes.every((c) => c === 200)).toBe(true);

      // Act: the S3 server dies just before the capture is flushed
      killS3();
      await h.cloud.sageMaker.flushCapture();

      // Assess
      const captured = await eventually(async () => {
        let n = 0;
        for (const key of await h.keys(`capture/${MODEL}/${PRODUCTION}/`)) {
          const text = await (await h.s3.send(new GetObjectCommand({ Bucket: h.cloud.bucket, Key: key }))).Body!.transformToString();
          n += text.split('\n').filter((l) => l.includes('s3crash-')).length;
        }
        return n >= 21 ? n : undefined;
      }, 200);
      expect(captured).toBe(21);
    });
  });
});
