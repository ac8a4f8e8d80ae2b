import * as z from 'zod';
import { createS3Client, withLazyClients } from '../shared/clients';
import { releaseKeys, releaseTaskEvent } from '../shared/contract';
import { getStringFromEnv, TASK_ENV } from '../shared/env';
import { defineTask } from '../shared/task';
import { recordTraining, type FinishedJob, type RecordTrainingDeps, type RecordTrainingResult } from './record';

/**
 * RecordTraining (after TrainModel's createTrainingJob.sync completed).
 *
 * Event: `{ model, version, executionId, executionName, job }`, `job` being DescribeTrainingJob's answer.
 * Result: `{ jobName, artifactUri, artifactDigest, metrics, billableSeconds }`; the version
 * record's `trainingJob` holds the same plus hyperparameters, instances and times.
 */
export const eventSchema = releaseTaskEvent.extend({
  job: z.looseObject({
    TrainingJobName: z.string().min(1),
    TrainingJobStatus: z.literal('Completed'),
    ModelArtifacts: z.looseObject({ S3ModelArtifacts: z.string().optional() }).optional(),
    HyperParameters: z.record(z.string(), z.string()).optional(),
    FinalMetricDataList: z.array(z.looseObject({ MetricName: z.string().optional(), Value: z.number().optional() })).optional(),
    BillableTimeInSeconds: z.number().optional(),
    TrainingTimeInSeconds: z.number().optional(),
  }),
});
export type { RecordTrainingResult };

export const makeHandler = (deps: RecordTrainingDeps) =>
  defineTask('RecordTraining', eventSchema, releaseKeys, (e) =>
    recordTraining(deps, { model: e.model, version: e.version, job: e.job as FinishedJob }),
  );

export function fromEnv(): RecordTrainingDeps {
  return withLazyClients({ bucket: getStringFromEnv(TASK_ENV.artifactBucket), now: () => new Date() }, { s3: createS3Client });
}

export const handler = makeHandler(fromEnv());
