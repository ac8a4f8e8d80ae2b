/** The local cloud's EventBridge Scheduler stand-in: the manifests' cron/rate expressions, in-process. */
export { parseSchedule, ScheduleExpressionError, Scheduler, type Schedule, type ScheduledJob } from './schedule';
