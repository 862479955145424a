import type { JobsOptions } from 'bullmq';
import { QueueName } from '../../infra/queue/queue-names';

/**
 * The retention job on the maintenance queue. Its name is persisted in Redis: do not
 * rename it. (Kept beside the pruning until it joins `infra/queue/jobs.ts`.)
 */
export const RetentionJob = {
  queue: QueueName.Maintenance,
  name: 'maintenance.retention',
  /** The job scheduler's id: one schedule however many workers register it. */
  schedulerId: 'prune-retention',
  options: { removeOnComplete: 100, removeOnFail: 100 } satisfies JobsOptions,
} as const;
