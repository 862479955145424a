import type { JobsOptions } from 'bullmq';
import { QueueName } from './queue-names';

/**
 * Every job the platform enqueues: its queue, name and payload. Payloads carry ids;
 * processors reload state from Postgres, so a retried job is harmless. Job names are
 * persisted in Redis: do not rename them.
 */
export const Jobs = {
  SendMail: { queue: QueueName.Notifications, name: 'mail.send' },
  ExecuteRun: { queue: QueueName.Execution, name: 'run.execute' },
  Reconcile: { queue: QueueName.Maintenance, name: 'maintenance.reconcile' },
  PruneRetention: { queue: QueueName.Maintenance, name: 'maintenance.retention' },
  ApprovalTimeout: { queue: QueueName.Maintenance, name: 'approval.timeout' },
  DeliverWebhook: { queue: QueueName.Webhooks, name: 'webhook.deliver' },
  IngestDocument: { queue: QueueName.Ingestion, name: 'document.ingest' },
} as const;

export interface JobPayloads {
  'mail.send': { outboxId: string };
  /** companyId rides along so the worker can open the run's scope (RLS) before reading it. */
  'run.execute': {
    runId: string;
    companyId: string;
    resumeAfter?: string;
    recovery?: string;
    /** Set when an answered approval resumes the run. */
    approvalId?: string;
  };
  'maintenance.reconcile': Record<string, never>;
  'maintenance.retention': Record<string, never>;
  'approval.timeout': { approvalId: string; companyId: string };
  'webhook.deliver': { deliveryId: string; companyId: string };
  /** contentHash: the upload this job is for; a later upload makes it stale. */
  'document.ingest': {
    documentId: string;
    companyId: string;
    contentHash: string;
    /** Unique per request to ingest (an upload, a re-upload after a failure, a change of
     *  embedder): BullMQ keeps finished jobs, and a reused id would be ignored. */
    attempt: string;
  };
}

/** Attempts, backoff and ids per job. BullMQ ids may not contain ':'. */
export const JOB_OPTIONS: { [K in keyof JobPayloads]: (payload: JobPayloads[K]) => JobsOptions } = {
  // SMTP hiccups are retried for about half an hour; the outbox row keeps the error.
  'mail.send': (payload) => ({
    jobId: `mail-${payload.outboxId}`,
    attempts: 8,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: 1_000,
    removeOnFail: 5_000,
  }),
  // The job id is the run id: enqueuing a run twice is a no-op. A crashed attempt
  // is retried; the run continues from its logged steps.
  'run.execute': (payload) => ({
    // A resume (a child ended) needs its own id: the parent's first job id is taken.
    // An answered approval resumes once: resume-<approval id> (':' is not allowed).
    jobId: payload.approvalId
      ? `resume-${payload.approvalId}`
      : payload.recovery
        ? `recover-${payload.runId}-${payload.recovery}`
        : payload.resumeAfter
          ? `resume-${payload.runId}-${payload.resumeAfter}`
          : payload.runId,
    attempts: 5,
    backoff: { type: 'exponential', delay: 500 },
    removeOnComplete: 1_000,
    removeOnFail: 5_000,
  }),
  'maintenance.reconcile': () => ({ removeOnComplete: 100, removeOnFail: 100 }),
  'maintenance.retention': () => ({ removeOnComplete: 100, removeOnFail: 100 }),
  // Delayed by the approval's timeoutMs; one per approval.
  'approval.timeout': (payload) => ({
    jobId: `approval-timeout-${payload.approvalId}`,
    attempts: 5,
    backoff: { type: 'exponential', delay: 1_000 },
    removeOnComplete: 1_000,
    removeOnFail: 5_000,
  }),
  // One job per request to ingest; an identical upload never asks (documents.service).
  'document.ingest': (payload) => ({
    jobId: `ingest-${payload.documentId}-${payload.attempt}`,
    attempts: 3,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: 1_000,
    removeOnFail: 5_000,
  }),
  // A receiver that is down is retried for about an hour (2 s doubling, 12 attempts).
  'webhook.deliver': (payload) => ({
    jobId: `webhook-${payload.deliveryId}`,
    attempts: 12,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: 1_000,
    removeOnFail: 5_000,
  }),
};
