import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { createS3Client, createSnsClient, withLazyClients } from '../shared/clients';
import { OPTIONAL_TASK_ENV } from '../../lib/tasks';
import { getOptionalStringFromEnv, getStringFromEnv, TASK_ENV } from '../shared/env';
import { logger } from '../shared/logger';
import { putJson } from '../shared/s3json';
import { parseEvent } from '../shared/task';
import { collectHistory } from './collect';
import { buildWeeklyReport, renderWeeklyText, WEEK_MS } from './report';

/**
 * WeeklyReport: not a workflow task but a scheduled function (an EventBridge rule on AWS, the
 * local cloud's scheduler locally). It writes the week's report to
 * `reports/weekly/<yyyy-mm-dd>.json`, which the console shows as a page and in its feed, and
 * publishes it as text to the notification topic.
 *
 * Event: an EventBridge scheduled event, or `{}`; nothing in it is read.
 * Result: `{ key, models, releases }`.
 */
export const eventSchema = z.looseObject({});

export interface WeeklyReportDeps {
  s3: S3Client;
  sns: SNSClient;
  bucket: string;
  topicArn: string;
  /** Names the deployment in the report (the stack name on AWS). */
  deployment: string;
  now: () => Date;
}

/** `reports/weekly/<yyyy-mm-dd>.json`: the day the week ends. */
export const weeklyReportKey = (to: Date) => `reports/weekly/${to.toISOString().slice(0, 10)}.json`;

export const makeHandler = (deps: WeeklyReportDeps) => async (event: unknown) => {
  parseEvent('WeeklyReport', eventSchema, event);
  const now = deps.now();
  const notes: string[] = [];
  const history = await collectHistory(deps, new Date(now.getTime() - WEEK_MS), notes);
  const report = buildWeeklyReport(history, { deployment: deps.deployment, now, notes });
  const key = weeklyReportKey(now);
  await putJson(deps.s3, deps.bucket, key, report);
  await deps.sns.send(
    new PublishCommand({
      TopicArn: deps.topicArn,
      Subject: `mlship weekly report ${report.to.slice(0, 10)}`,
      Message: renderWeeklyText(report),
      MessageAttributes: { event: { DataType: 'String', StringValue: 'weekly-report' } },
    }),
  );
  logger.info('WeeklyReport done', { key, models: report.totals.models });
  return { key, models: report.totals.models, releases: report.totals.releases };
};

export function fromEnv(): WeeklyReportDeps {
  return withLazyClients(
    {
      bucket: getStringFromEnv(TASK_ENV.artifactBucket),
      topicArn: getStringFromEnv(TASK_ENV.notificationTopicArn),
      deployment: getOptionalStringFromEnv(OPTIONAL_TASK_ENV.deployment) ?? getStringFromEnv(TASK_ENV.artifactBucket),
      now: () => new Date(),
    },
    { s3: createS3Client, sns: createSnsClient },
  );
}

export const handler = makeHandler(fromEnv());
