import './task-env';
import { Readable } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeHandler, type CheckDriftResult } from '../../../lambdas/check-drift/handler';
import { hourOfKey, keyInWindow } from '../../../lambdas/check-drift/window';
import { deliveryCsv, predictHours } from './data';
import { fakeS3, type FakeBucket } from './fake-s3';
import { BUCKET, versionRecord } from './fixtures';

const NOW = new Date('2026-11-27T12:30:00Z');

/** The handler of a whole-window check (a batch of a split window answers `{ batch, pass }` instead). */
const checkHandler = (deps: Parameters<typeof makeHandler>[0]) => makeHandler(deps) as (event: unknown) => Promise<CheckDriftResult>;
const ENDPOINT = 'mlship-delivery-time-production';

/** Capture and ground-truth lines for the rows of a CSV, as the endpoint host writes them. */
type Edit = (instance: { distance_km: unknown; service: string }, i: number) => Record<string, unknown>;
function traffic(csv: string, hour: Date, labelShift = 0, idPrefix = '', edit?: Edit): { capture: string; truth: string } {
  const [, ...rows] = csv.trim().split('\n');
  const capture: string[] = [];
  const truth: string[] = [];
  rows.forEach((row, i) => {
    const [d, service, hours] = row.split(',');
    const instance = { distance_km: Number(d), service: service! };
    const id = `${idPrefix}${hour.toISOString()}-${i}`;
    capture.push(
      JSON.stringify({
        captureData: {
          endpointInput: {
            observedContentType: 'application/json',
            mode: 'INPUT',
            data: JSON.stringify({ instances: [edit ? edit(instance, i) : instance] }),
            encoding: 'JSON',
          },
          endpointOutput: {
            observedContentType: 'application/json',
            mode: 'OUTPUT',
            data: JSON.stringify({ predictions: [{ value: predictHours(instance) }] }),
            encoding: 'JSON',
          },
        },
        eventMetadata: { eventId: `ev-${id}`, inferenceId: id, inferenceTime: new Date(hour.getTime() + i * 1000).toISOString() },
        eventVersion: '0',
      }),
    );
    truth.push(
      JSON.stringify({
        groundTruthData: { data: String(Number(hours) + labelShift), encoding: 'CSV' },
        eventMetadata: { eventId: id },
        eventVersion: '0',
      }),
    );
  });
  return { capture: `${capture.join('\n')}\n`, truth: `${truth.join('\n')}\n` };
}

const hourPath = (d: Date) => d.toISOString().slice(0, 13).replace(/-/g, '/').replace('T', '/');

describe('Handler: CheckDrift', () => {
  let bucket: FakeBucket;
  const handler = checkHandler({ s3: new S3Client({ region: 'us-east-1' }), bucket: BUCKET, now: () => NOW });
  const event = {
    input: { model: 'delivery-time' },
    executionId: 'arn:aws:states:us-east-1:000000000000:execution:mlship-drift:d1',
    executionName: 'd1',
  };
  const addTraffic = (csv: string, at: Date, labelShift = 0, idPrefix = '', edit?: Edit) => {
    const t = traffic(csv, at, labelShift, idPrefix, edit);
    bucket.put(`capture/delivery-time/${ENDPOINT}/AllTraffic/${hourPath(at)}/part-${at.getTime()}.jsonl`, t.capture);
    bucket.put(`ground-truth/delivery-time/${hourPath(at)}/labels-${at.getTime()}.jsonl`, t.truth);
  };

  beforeEach(() => {
    bucket = fakeS3();
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 't',
      endpointName: ENDPOINT,
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({
        version: '1111111-aaaa',
        status: 'production',
        training: { dataUri: 's3://mlship-artifacts/builds/delivery-time/1111111-aaaa/data/train.csv', sha256: 'x', rows: 300 },
        evaluation: { validationOk: true, metrics: { rmse: 0.12 }, failures: [], reportUri: '', validationUri: '', htmlUri: '' },
      }),
    );
    bucket.put('builds/delivery-time/1111111-aaaa/data/train.csv', deliveryCsv(300, 1));
  });
  afterEach(() => bucket.mock.restore());

  it('finds no drift in traffic like the training data, and writes the Model Monitor outputs', async () => {
    // Prepare
    addTraffic(deliveryCsv(80, 7), new Date('2026-11-27T11:00:00Z'));

    // Act
    const result = await handler(event);

    // Assess
    expect(result).toMatchObject({ verdict: 'no-drift', retrain: false, run: 'd1', version: '1111111-aaaa' });
    expect(result.dataDrift).toMatchObject({ verdict: 'no-drift', currentRows: 80, referenceRows: 300 });
    expect(result.conceptDrift).toMatchObject({ verdict: 'no-drift', metric: 'rmse', joined: 80 });
    expect(result.window).toEqual({ from: '2026-11-20T12:30:00.000Z', to: '2026-11-27T12:30:00.000Z', seconds: 604800 });
    expect(bucket.keys('monitoring/')).toEqual(
      ['constraint_violations.json', 'drift-report.html', 'drift-report.json', 'statistics.json'].map(
        (f) => `monitoring/delivery-time/d1/${f}`,
      ),
    );
    expect(bucket.json('monitoring/delivery-time/d1/statistics.json')).toMatchObject({ dataset: { item_count: 80 } });
    expect(result.reportUri).toBe('s3://mlship-artifacts/monitoring/delivery-time/d1/drift-report.html');
  });

  it('finds data drift in shifted traffic and asks for retraining', async () => {
    addTraffic(deliveryCsv(80, 7, 400), new Date('2026-11-27T11:00:00Z'));
    const result = await handler(event);
    expect(result).toMatchObject({ verdict: 'drift', retrain: true });
    expect(result.dataDrift?.driftedColumns).toContain('distance_km');
    expect(
      bucket.json<{ violations: unknown[] }>('monitoring/delivery-time/d1/constraint_violations.json').violations.length,
    ).toBeGreaterThan(0);
  });

  it('finds concept drift when the labels move away from the predictions', async () => {
    addTraffic(deliveryCsv(80, 7), new Date('2026-11-27T11:00:00Z'), 3);
    const result = await handler(event);
    expect(result.dataDrift?.verdict).toBe('no-drift');
    expect(result.conceptDrift?.verdict).toBe('drift');
    expect(result.verdict).toBe('drift');
  });

  it('only reads the window: old traffic gives no verdict', async () => {
    addTraffic(deliveryCsv(80, 7, 400), new Date('2026-11-01T11:00:00Z'));
    addTraffic(deliveryCsv(5, 7), new Date('2026-11-27T11:00:00Z'));
    const result = await handler({ ...event, input: { model: 'delivery-time', window: 86400 } });
    expect(result.verdict).toBe('insufficient-data');
    expect(result.retrain).toBe(false);
    expect(result.dataDrift?.currentRows).toBe(5);
  });

  it('starts the window at since when given, however late the check runs', async () => {
    // Prepare: traffic from 11:00, and a check that runs at 12:30
    addTraffic(deliveryCsv(5, 7), new Date('2026-11-27T10:59:00Z'));
    addTraffic(deliveryCsv(80, 7, 400), new Date('2026-11-27T11:00:00Z'));

    // Act
    const result = await handler({ ...event, input: { model: 'delivery-time', window: 60, since: '2026-11-27T11:00:00.000Z' } });

    // Assess
    expect(result.window).toEqual({ from: '2026-11-27T11:00:00.000Z', to: '2026-11-27T12:30:00.000Z', seconds: 5400 });
    expect(result.dataDrift?.currentRows).toBe(80);
    expect(result.verdict).toBe('drift');
  });

  it("leaves the evaluation's own requests out of the traffic it judges", async () => {
    // Prepare: a release scored its shifted holdout on production; live traffic is normal
    addTraffic(deliveryCsv(80, 7), new Date('2026-11-27T11:00:00Z'));
    addTraffic(deliveryCsv(200, 8, 400), new Date('2026-11-27T10:00:00Z'), 0, 'mlship-eval-2222222-bbbb-production-');

    // Act
    const result = await handler(event);

    // Assess
    expect(result.verdict).toBe('no-drift');
    expect(result.dataDrift).toMatchObject({ currentRows: 80 });
  });

  it('gives no verdict for a model without a production version', async () => {
    bucket.objects.delete('mlship-artifacts/registry/delivery-time/production.json');
    await expect(handler(event)).resolves.toMatchObject({ verdict: 'insufficient-data', retrain: false, reportUri: null });
    expect(bucket.keys('monitoring/')).toEqual([]);
  });

  it('fails terminally when the reference data is gone', async () => {
    bucket.objects.delete('mlship-artifacts/builds/delivery-time/1111111-aaaa/data/train.csv');
    await expect(handler(event)).rejects.toMatchObject({ name: 'SourceNotFoundError', message: expect.stringContaining('train.csv') });
  });

  describe('Bad rows (issue 14, observation 10)', () => {
    const at = new Date('2026-11-27T11:00:00Z');
    const badFile = `capture/delivery-time/${ENDPOINT}/AllTraffic/2026/11/27/11/bad.jsonl`;

    it('skips a truncated line and a "NaN" value, completes, and reports their counts', async () => {
      // Prepare: 80 good requests, one with distance_km "NaN", and a file whose only line is torn
      addTraffic(deliveryCsv(80, 7), at, 0, '', (inst, i) => (i === 41 ? { ...inst, distance_km: 'NaN' } : inst));
      bucket.put(badFile, '{"captureData": {"endpointInput": {"observedContentType": "applic');

      // Act
      const result = await handler(event);

      // Assess
      expect(result).toMatchObject({ verdict: 'no-drift', retrain: false });
      expect(result.dataQuality).toEqual({
        verdict: 'ok',
        captureLines: 81,
        skippedLines: 1,
        skippedLineShare: 1 / 81,
        skippedValues: { distance_km: 1 },
        groundTruthLines: 80,
        skippedGroundTruthLines: 0,
        alerts: [],
      });
      expect(result.reason).toMatch(/1 of 81 capture lines skipped, 1 value\(s\) skipped/);
      const report = bucket.json<any>('monitoring/delivery-time/d1/drift-report.json');
      expect(report.dataQuality.capture).toMatchObject({
        skipped: 1,
        perSource: { [badFile]: 1 },
        examples: [{ source: badFile, line: 1, reason: 'not valid JSON' }],
      });
      const statistics = bucket.json<any>('monitoring/delivery-time/d1/statistics.json');
      expect(statistics.dataset).toEqual({ item_count: 80 });
      expect(statistics.features[0]).toMatchObject({
        name: 'distance_km',
        numerical_statistics: { common: { num_present: 79, num_missing: 1 } },
      });
      expect(bucket.json<{ violations: unknown[] }>('monitoring/delivery-time/d1/constraint_violations.json').violations).toContainEqual(
        expect.objectContaining({
          feature_name: 'distance_km',
          constraint_check_type: 'data_type_check',
          description: expect.stringContaining('1 of 80'),
        }),
      );
    });

    it('does not fail on a request whose value is "NaN" (statistics.json counts it as missing)', async () => {
      // Prepare
      addTraffic(deliveryCsv(80, 7), at, 0, '', (inst, i) => (i === 3 ? { ...inst, distance_km: 'NaN' } : inst));

      // Act
      const result = await handler(event);

      // Assess
      expect(result).toMatchObject({
        verdict: 'no-drift',
        dataQuality: { verdict: 'ok', skippedLines: 0, skippedValues: { distance_km: 1 } },
      });
    });

    it('answers data-quality, not a drift verdict, when more lines than the limit are unreadable', async () => {
      // Prepare: 80 shifted (drifted) requests and 10 torn lines (11 %)
      addTraffic(deliveryCsv(80, 7, 400), at);
      bucket.put(badFile, '{"captureData":\n'.repeat(10));

      // Act
      const result = await handler(event);

      // Assess
      expect(result).toMatchObject({ verdict: 'data-quality', retrain: false, dataDrift: { verdict: 'drift' } });
      expect(result.dataQuality?.alerts).toEqual(['10 of 90 capture lines (11.1%) could not be read, above the limit of 5.0%']);
      expect(result.reason).toMatch(/^data-quality alert: 10 of 90 capture lines/);
    });

    it('answers data-quality when a feature becomes 100 % null', async () => {
      // Prepare
      addTraffic(deliveryCsv(80, 7), at, 0, '', (inst) => ({ ...inst, distance_km: null }));

      // Act
      const result = await handler(event);

      // Assess
      expect(result).toMatchObject({ verdict: 'data-quality', retrain: false });
      expect(result.dataQuality?.alerts).toEqual(['distance_km: 100.0% missing against 0.0% in the baseline']);
      expect(bucket.json<any>('monitoring/delivery-time/d1/drift-report.json')).toMatchObject({ verdict: 'data-quality' });
      expect(bucket.text('monitoring/delivery-time/d1/drift-report.html')).toContain('DATA-QUALITY ALERT');
    });
  });
});

/**
 * Capture and ground-truth objects served as S3 serves a large body: a stream in 16 KiB pieces whose
 * transformToString/ByteArray refuse, as a Lambda would run out of memory on a week of traffic (issue 17).
 */
function serveWindowAsStreamsOnly(bucket: FakeBucket): void {
  bucket.mock.on(GetObjectCommand).callsFake((input: { Bucket?: string; Key?: string }) => {
    const o = bucket.objects.get(`${input.Bucket}/${input.Key}`);
    if (!o) throw Object.assign(new Error('NoSuchKey'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
    const streamOnly = /^(capture|ground-truth)\//.test(input.Key ?? '');
    const refuse = async () => {
      throw new Error(`test: ${input.Key} must be streamed, not read whole`);
    };
    const pieces = function* () {
      for (let i = 0; i < o.body.length; i += 16_384) yield o.body.subarray(i, i + 16_384);
    };
    const body = streamOnly
      ? Object.assign(Readable.from(pieces()), { transformToString: refuse, transformToByteArray: refuse })
      : Object.assign(Readable.from([o.body]), {
          transformToString: async () => o.body.toString('utf8'),
          transformToByteArray: async () => new Uint8Array(o.body),
        });
    return { Body: body, ETag: o.etag };
  });
}

describe('Handler: CheckDrift, streaming windows (issue 17)', () => {
  let bucket: FakeBucket;
  const event = {
    input: { model: 'delivery-time' },
    executionId: 'arn:aws:states:us-east-1:000000000000:execution:mlship-drift:d1',
    executionName: 'd1',
  };
  const at = new Date('2026-11-27T11:00:00Z');
  const addTraffic = (csv: string, labelShift = 0) => {
    const t = traffic(csv, at, labelShift);
    bucket.put(`capture/delivery-time/${ENDPOINT}/AllTraffic/${hourPath(at)}/part-1.jsonl`, t.capture);
    bucket.put(`ground-truth/delivery-time/${hourPath(at)}/labels-1.jsonl`, t.truth);
  };

  beforeEach(() => {
    bucket = fakeS3();
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 't',
      endpointName: ENDPOINT,
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({
        version: '1111111-aaaa',
        status: 'production',
        training: { dataUri: 's3://mlship-artifacts/builds/delivery-time/1111111-aaaa/data/train.csv', sha256: 'x', rows: 300 },
        evaluation: { validationOk: true, metrics: { rmse: 0.12 }, failures: [], reportUri: '', validationUri: '', htmlUri: '' },
      }),
    );
    bucket.put('builds/delivery-time/1111111-aaaa/data/train.csv', deliveryCsv(300, 1));
  });
  afterEach(() => bucket.mock.restore());

  it('reads capture and ground truth line by line from S3, never asking for a whole object', async () => {
    // Prepare: 3,000 requests (about 1.2 MB of capture), shifted: data drift; labels shifted: concept drift
    addTraffic(deliveryCsv(3000, 7, 400), 3);
    serveWindowAsStreamsOnly(bucket);
    const handler = checkHandler({ s3: new S3Client({ region: 'us-east-1' }), bucket: BUCKET, now: () => NOW });

    // Act
    const result = await handler(event);

    // Assess
    expect(result).toMatchObject({ verdict: 'drift', dataDrift: { verdict: 'drift', currentRows: 3000 } });
    expect(result.conceptDrift).toMatchObject({ verdict: 'drift', joined: 3000 });
    expect(result.dataQuality).toMatchObject({ captureLines: 3000, groundTruthLines: 3000, skippedLines: 0 });
    expect(bucket.json('monitoring/delivery-time/d1/statistics.json')).toMatchObject({ dataset: { item_count: 3000 } });
  });

  it('joins at most labelBudget labels (a deterministic hash sample of inferenceIds) and still finds concept drift', async () => {
    // Prepare: 400 labelled requests whose labels moved by 3 hours, and room for 100 labels
    addTraffic(deliveryCsv(400, 7), 3);
    const handler = checkHandler({ s3: new S3Client({ region: 'us-east-1' }), bucket: BUCKET, now: () => NOW, labelBudget: 100 });

    // Act
    const result = await handler(event);
    const again = await handler(event);

    // Assess: the sample is at most the budget, at least a quarter of it (halving), the same on every run
    expect(result.conceptDrift?.verdict).toBe('drift');
    expect(result.conceptDrift?.joined).toBeLessThanOrEqual(100);
    expect(result.conceptDrift?.joined).toBeGreaterThanOrEqual(25);
    expect(result.conceptDrift?.labelShare).toBeLessThan(1);
    expect(again.conceptDrift).toEqual(result.conceptDrift);
    expect(result.dataQuality).toMatchObject({ groundTruthLines: 400 });
  });
});

describe('Handler: CheckDrift, a window split into batches (issue 17)', () => {
  let bucket: FakeBucket;
  const handler = checkHandler({ s3: new S3Client({ region: 'us-east-1' }), bucket: BUCKET, now: () => NOW });
  const batchHandler = makeHandler({ s3: new S3Client({ region: 'us-east-1' }), bucket: BUCKET, now: () => NOW });
  const event = (run: string, input: Record<string, unknown>) => ({
    input: { model: 'delivery-time', ...input },
    executionId: `arn:aws:states:us-east-1:000000000000:execution:mlship-drift:${run}`,
    executionName: run,
  });

  beforeEach(() => {
    bucket = fakeS3();
    bucket.put('registry/delivery-time/production.json', {
      model: 'delivery-time',
      version: '1111111-aaaa',
      since: 't',
      endpointName: ENDPOINT,
    });
    bucket.put(
      'registry/delivery-time/versions/1111111-aaaa.json',
      versionRecord({
        version: '1111111-aaaa',
        status: 'production',
        training: { dataUri: 's3://mlship-artifacts/builds/delivery-time/1111111-aaaa/data/train.csv', sha256: 'x', rows: 1500 },
        evaluation: { validationOk: true, metrics: { rmse: 0.12 }, failures: [], reportUri: '', validationUri: '', htmlUri: '' },
      }),
    );
    // More than 1,000 reference rows: Wasserstein, whose crossing gaps need pass 2 over the batches.
    bucket.put('builds/delivery-time/1111111-aaaa/data/train.csv', deliveryCsv(1500, 1));
    // Four hours of traffic, the later ones drifting away, with labels; one torn line and one "NaN".
    for (let h = 0; h < 4; h++) {
      const at = new Date(Date.UTC(2026, 10, 27, 7 + h));
      // Values off the reference's 0.1 grid fall inside its gaps, where the CDFs cross: pass 2 has work.
      const edit: Edit = (inst, i) => ({ ...inst, distance_km: h === 2 && i === 7 ? 'NaN' : Number(inst.distance_km) + 0.013 * (i % 7) });
      const t = traffic(deliveryCsv(150, 10 + h, h === 3 ? 30 : 0), at, h * 0.5, '', edit);
      bucket.put(
        `capture/delivery-time/${ENDPOINT}/AllTraffic/${hourPath(at)}/part-1.jsonl`,
        h === 3 ? `${t.capture}{"captureData":` : t.capture,
      );
      bucket.put(`ground-truth/delivery-time/${hourPath(at)}/labels-1.jsonl`, t.truth);
    }
  });
  afterEach(() => bucket.mock.restore());

  /** What the workflow does with a split check: map each pass over the batches, then merge. */
  async function runSplit(run: string, batchBytes: number): Promise<{ result: CheckDriftResult; passes: number[]; batches: number }> {
    let result = await handler(event(run, { batchBytes }));
    const batches = result.split?.batches.length ?? 0;
    const passes: number[] = [];
    while (result.split) {
      const { pass, batches: items } = result.split;
      passes.push(pass);
      for (const batch of items) await batchHandler(event(run, { phase: 'scan', pass, batch, run }));
      result = await handler(event(run, { phase: 'merge', pass, run }));
    }
    return { result, passes, batches };
  }

  it('gives the verdict and statistics of one pass, whether the window is read whole or in batches', async () => {
    // Act: one pass, then the same window in batches of one hourly object each
    const single = await handler(event('one', {}));
    const split = await runSplit('two', 10_000);

    // Assess: the split went through both passes over four batches and agrees with the single pass
    expect(split.batches).toBe(4);
    expect(split.passes).toEqual([1, 2]);
    expect(single.split).toBeNull();
    expect({ ...split.result, run: 'one', reportUri: null }).toEqual({ ...single, reportUri: null });
    expect(single.dataQuality).toMatchObject({ captureLines: 601, skippedLines: 1, skippedValues: { distance_km: 1 } });

    // Drift statistics: counts exact; distances are float sums added in another grouping, so equal to 1e-12 relative.
    const report = (run: string) => bucket.json<any>(`monitoring/delivery-time/${run}/drift-report.json`);
    const [one, two] = [report('one'), report('two')];
    expect(two.verdict).toBe(one.verdict);
    expect(two.data.columns.map((c: any) => [c.column, c.method, c.drifted, c.currentRows ?? null])).toEqual(
      one.data.columns.map((c: any) => [c.column, c.method, c.drifted, c.currentRows ?? null]),
    );
    two.data.columns.forEach((c: any, i: number) => {
      const o = one.data.columns[i];
      expect(Math.abs(c.statistic - o.statistic)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(o.statistic)));
    });
    expect(two.concept).toEqual(one.concept);
    expect(two.dataQuality).toEqual(one.dataQuality);

    // statistics.json: 600 rows fit the KLL sketch uncompacted, so merged sketches hold the same items.
    const stats = (run: string) => bucket.json<any>(`monitoring/delivery-time/${run}/statistics.json`);
    const [s1, s2] = [stats('one'), stats('two')];
    expect(s2.dataset).toEqual(s1.dataset);
    const d1 = s1.features[0].numerical_statistics;
    const d2 = s2.features[0].numerical_statistics;
    expect(d2.common).toEqual(d1.common);
    expect([d2.min, d2.max]).toEqual([d1.min, d1.max]);
    expect(d2.mean).toBeCloseTo(d1.mean, 9);
    expect(d2.std_dev).toBeCloseTo(d1.std_dev, 9);
    expect(d2.distribution.kll.buckets).toEqual(d1.distribution.kll.buckets);
    expect(s2.features[1]).toEqual(s1.features[1]);
  });

  it('keeps one pass when the capture fits one batch', async () => {
    const result = await handler(event('one', { batchBytes: 10_000_000 }));
    expect(result.split).toBeNull();
    expect(result.verdict).not.toBe('split');
  });

  it('refuses a batch event without its batch number instead of checking the whole window', async () => {
    await expect(batchHandler(event('two', { phase: 'scan', pass: 1, run: 'two' }))).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(bucket.keys('monitoring/')).toEqual([]);
  });

  it('refuses a batch the plan does not have, naming it', async () => {
    await handler(event('two', { batchBytes: 10_000 }));
    await expect(batchHandler(event('two', { phase: 'scan', pass: 1, batch: 9, run: 'two' }))).rejects.toThrow(
      /batch 9 is not in the plan of two \(4 batches\)/,
    );
  });
});

describe('Function: keyInWindow', () => {
  it('reads the hour from the key path and keeps files whose hour overlaps the window', () => {
    expect(hourOfKey('capture/m/e/AllTraffic/2026/11/27/11/x.jsonl')).toBe(Date.UTC(2026, 10, 27, 11));
    expect(hourOfKey('capture/m/e/notes.txt')).toBeUndefined();
    const from = Date.UTC(2026, 10, 27, 11, 30);
    const to = Date.UTC(2026, 10, 27, 13);
    expect(keyInWindow('a/2026/11/27/11/x', from, to)).toBe(true);
    expect(keyInWindow('a/2026/11/27/10/x', from, to)).toBe(false);
    expect(keyInWindow('a/2026/11/27/14/x', from, to)).toBe(false);
  });
});
