/**
 * Seeded data of bench/drift-window: a training CSV (the reference), N SageMaker data-capture
 * records spread over HOURS hourly prefixes, ground truth for 20 % of them, and the same rows as
 * row-major binary files for bench/drift/scipy_ref.py. Lines are built as strings from templates
 * (no JSON.stringify per record): 10M records are generated in well under a minute.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelManifest } from '../../lib/config';
import { mulberry32 } from '../../lambdas/ml/prng';

export const MODEL = 'bench-window';
export const ENDPOINT = `mlship-${MODEL}-production`;
export const START = new Date('2026-11-27T00:00:00Z');
export const HOURS = 10;
export const REFERENCE_ROWS = 100_000;
const RECORDS_PER_OBJECT = 100_000;
const SERVICES = ['express', 'standard', 'economy'];
const REGIONS = ['north', 'south', 'east', 'west', 'central', 'coast', 'mountain', 'islands'];

export interface Generated {
  trainCsv: string;
  captureBytes: number;
  objects: number;
  labels: number;
}

/** One row of features; `drift` shifts distance and skews region, as a changed customer mix would. */
function row(rand: () => number, drift: boolean): { num: [number, number, number, number]; service: number; region: number } {
  const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const distance = Math.round((60 + 20 * z + (drift ? 8 : 0)) * 10) / 10;
  const weight = Math.round(Math.exp(1 + 0.6 * (rand() - 0.5) * 2) * 100) / 100;
  const items = Math.floor(rand() * 40);
  const score = Math.round(rand() * 1000) / 1000;
  const service = Math.floor(rand() * SERVICES.length);
  const region = Math.min(REGIONS.length - 1, Math.floor(REGIONS.length * Math.pow(rand(), drift ? 1.4 : 1)));
  return { num: [distance, weight, items, score], service, region };
}

const predict = (num: readonly number[], service: number) => Math.round((0.05 * num[0]! + 0.01 * num[1]! + 1 + service) * 1000) / 1000;

function trainCsv(rand: () => number, num: Float64Array, cat: Uint8Array): string {
  const lines = ['distance_km,weight_kg,items,score,service,region,hours'];
  for (let i = 0; i < REFERENCE_ROWS; i++) {
    const r = row(rand, false);
    num.set(r.num, i * 4);
    cat[i * 2] = r.service;
    cat[i * 2 + 1] = r.region;
    lines.push(`${r.num.join(',')},${SERVICES[r.service]},${REGIONS[r.region]},${predict(r.num, r.service)}`);
  }
  return `${lines.join('\n')}\n`;
}

const hourPath = (t: number) => new Date(t).toISOString().slice(0, 13).replace(/-/g, '/').replace('T', '/');

/**
 * Generate and upload the window (`put` stores one object). Records of hour h have inferenceTime in
 * [h, h+1) and live under that hour's prefix, so a window of the first hour holds N/HOURS records.
 */
export async function generateWindow(
  n: number,
  dir: string,
  put: (key: string, body: string | Buffer) => Promise<unknown>,
): Promise<Generated> {
  const rand = mulberry32(17);
  const refNum = new Float64Array(REFERENCE_ROWS * 4);
  const refCat = new Uint8Array(REFERENCE_ROWS * 2);
  const train = trainCsv(rand, refNum, refCat);
  const curNum = new Float64Array(n * 4);
  const curCat = new Uint8Array(n * 2);
  const perHour = Math.ceil(n / HOURS);
  let captureBytes = 0;
  let objects = 0;
  let labels = 0;
  for (let h = 0; h < HOURS; h++) {
    const hourStart = START.getTime() + h * 3_600_000;
    const first = h * perHour;
    const last = Math.min(n, first + perHour);
    for (let o = first; o < last; o += RECORDS_PER_OBJECT) {
      const capture: string[] = [];
      const truth: string[] = [];
      for (let i = o; i < Math.min(last, o + RECORDS_PER_OBJECT); i++) {
        const r = row(rand, true);
        curNum.set(r.num, i * 4);
        curCat[i * 2] = r.service;
        curCat[i * 2 + 1] = r.region;
        const at = new Date(hourStart + Math.floor(((i - first) * 3_600_000) / perHour)).toISOString();
        const p = predict(r.num, r.service);
        const instance = `{\\"instances\\":[{\\"distance_km\\":${r.num[0]},\\"weight_kg\\":${r.num[1]},\\"items\\":${r.num[2]},\\"score\\":${r.num[3]},\\"service\\":\\"${SERVICES[r.service]}\\",\\"region\\":\\"${REGIONS[r.region]}\\"}]}`;
        capture.push(
          `{"captureData":{"endpointInput":{"observedContentType":"application/json","mode":"INPUT","data":"${instance}","encoding":"JSON"},` +
            `"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT","data":"{\\"predictions\\":[{\\"value\\":${p}}]}","encoding":"JSON"}},` +
            `"eventMetadata":{"eventId":"e${i}","inferenceId":"r${i}","inferenceTime":"${at}"},"eventVersion":"0"}`,
        );
        if (rand() < 0.2) {
          // Labels scatter about 1 hour around the prediction: concept drift against an rmse of 0.5 at evaluation.
          const z = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
          truth.push(
            `{"groundTruthData":{"data":"${(p + z).toFixed(3)}","encoding":"CSV"},"eventMetadata":{"eventId":"r${i}"},"eventVersion":"0"}`,
          );
        }
      }
      const body = Buffer.from(`${capture.join('\n')}\n`);
      captureBytes += body.length;
      objects++;
      labels += truth.length;
      await put(`capture/${MODEL}/${ENDPOINT}/AllTraffic/${hourPath(hourStart)}/part-${o}.jsonl`, body);
      await put(`ground-truth/${MODEL}/${hourPath(hourStart)}/labels-${o}.jsonl`, `${truth.join('\n')}\n`);
    }
  }
  writeFileSync(join(dir, 'ref_num.bin'), refNum);
  writeFileSync(join(dir, 'cur_num.bin'), curNum);
  writeFileSync(join(dir, 'ref_cat.bin'), refCat);
  writeFileSync(join(dir, 'cur_cat.bin'), curCat);
  return { trainCsv: train, captureBytes, objects, labels };
}

/** The production version record the check reads: the manifest, the training data and the evaluation rmse. */
export function versionRecord(manifest: ModelManifest, bucket: string) {
  const at = START.toISOString();
  return {
    model: MODEL,
    version: 'v1',
    status: 'production',
    createdAt: at,
    updatedAt: at,
    commitId: 'bench',
    trigger: 'push',
    reason: null,
    execution: { arn: 'arn:aws:states:us-east-1:000000000000:execution:mlship-release:bench', name: 'bench' },
    source: { uri: `s3://${bucket}/source/${MODEL}/bench.zip`, sha256: 'bench' },
    manifest,
    manifestUri: `s3://${bucket}/registry/${MODEL}/manifests/v1.yaml`,
    build: null,
    training: { dataUri: `s3://${bucket}/builds/${MODEL}/v1/data/train.csv`, sha256: 'bench', rows: REFERENCE_ROWS },
    evaluation: { validationOk: true, metrics: { rmse: 0.5 }, failures: [], reportUri: '', validationUri: '', htmlUri: '' },
    loadTest: null,
    approval: null,
    deployments: [],
    lineage: { previousProduction: null },
    outcome: null,
    promotedAt: null,
    archivedAt: null,
  };
}
