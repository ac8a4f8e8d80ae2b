/**
 * A window too large for one invocation, split into batches of capture objects (issue 17). The
 * drift workflow maps over the batches twice at most (pass 1, then pass 2 when the merged pass 1
 * asks for it) and reduces after each map; everything between invocations lives under
 * `monitoring/<model>/<run>/split/`: the plan, each batch's state, the merged pass-1 state. Only
 * batch numbers travel through Step Functions, so a window of any number of objects stays far below
 * its 256 KB payload limit.
 *
 * The local Step Functions engine (aws-local-stepfunctions 3) runs Map's ItemProcessor inline over
 * ItemsPath but has no ItemReader (S3 listing) or distributed mode, so the batches are listed by the
 * CheckDrift task and mapped inline on both AWS and the local cloud; 40 concurrent iterations of an
 * inline Map are far more than a week of hourly capture needs at 1 GiB per batch.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { keys } from '../shared/names';
import { getText, putBody, type ListedObject } from '../shared/s3json';
import { CorruptObjectError } from '../shared/s3json';

/** Capture bytes one invocation streams (twice at most): a few minutes of parsing, far inside Lambda's 15. */
export const DEFAULT_BATCH_BYTES = 1024 ** 3;

/** What every batch and reduce of a split check reads: the window, the version, the objects. */
export interface SplitPlan {
  model: string;
  version: string;
  from: number;
  to: number;
  /** Capture object keys per batch, in key (= stream) order. */
  batches: string[][];
  groundTruthKeys: string[];
  join: boolean;
  labelBudget?: number;
}

/** Consecutive objects, each batch at most `batchBytes` (an object larger than that is a batch of its own). */
export function groupBatches(objects: readonly ListedObject[], batchBytes: number): string[][] {
  const batches: string[][] = [];
  let size = 0;
  for (const o of objects) {
    if (batches.length === 0 || size + o.size > batchBytes) {
      batches.push([]);
      size = 0;
    }
    batches[batches.length - 1]!.push(o.key);
    size += o.size;
  }
  return batches;
}

interface Store {
  s3: S3Client;
  bucket: string;
}

const splitKey = (model: string, run: string, file: string) => keys.monitoring(model, run, `split/${file}`);

/** Write one document of a split run (compact JSON: batch states are machine-read and can be MBs). */
export async function putSplit(store: Store, model: string, run: string, file: string, value: unknown): Promise<void> {
  await putBody(store.s3, store.bucket, splitKey(model, run, file), JSON.stringify(value), 'application/json');
}

/** Read one document of a split run; a missing one means a batch did not finish, which the reduce cannot paper over. */
export async function getSplit<T>(store: Store, model: string, run: string, file: string): Promise<T> {
  const key = splitKey(model, run, file);
  const text = await getText(store.s3, store.bucket, key);
  if (text === undefined)
    throw new CorruptObjectError(`s3://${store.bucket}/${key} is missing: the split drift check ${run} is incomplete`);
  return JSON.parse(text) as T;
}

/** Every batch's document of a pass, one at a time (the reduce holds one batch's state besides the merged one). */
export async function* eachBatch<T>(store: Store, plan: SplitPlan, run: string, pass: 1 | 2): AsyncGenerator<T> {
  for (let i = 0; i < plan.batches.length; i++) yield await getSplit<T>(store, plan.model, run, `pass${pass}-${i}.json`);
}
