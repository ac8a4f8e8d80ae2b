/** The local cloud's stand-in for the drift checks' EventBridge rules: the manifests' cron/rate expressions, in-process. */
export { parseSchedule, ScheduleExpressionError, Scheduler, type Schedule, type ScheduledJob } from './schedule';
