import type { JobsOptions } from 'bullmq';
import { QueueName } from './queue-names';

/**
 * Every job the platform enqueues: its queue, name and payload. Payloads carry ids;
 * processors reload state from Postgres, so a retried job is harmless. Job names are
 * persisted in Redis: do not rename them.
 */
export const Jobs = {
  SendMail: { queue: QueueName.Notifications, name: 'mail.send' },
} as const;

export interface JobPayloads {
  'mail.send': { outboxId: string };
}

/** Attempts, backoff and ids per job. */
export const JOB_OPTIONS: Record<keyof JobPayloads, (payload: never) => JobsOptions> = {
  // SMTP hiccups are retried for about half an hour; the outbox row keeps the error.
  'mail.send': (payload: JobPayloads['mail.send']) => ({
    jobId: `mail-${payload.outboxId}`, // BullMQ ids may not contain ':'
    attempts: 8,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: 1_000,
    removeOnFail: 5_000,
  }),
};
