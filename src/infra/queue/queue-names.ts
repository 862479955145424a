/**
 * The platform's queues, named by workload. These names are persisted in Redis
 * keys and in job ids: do not rename them.
 */
export const QueueName = {
  /** Runs: start, resume after approval or children, cancel. */
  Execution: 'execution',
  /** Document parsing, chunking and embedding. */
  Ingestion: 'ingestion',
  /** Mail. */
  Notifications: 'notifications',
  /** Approval webhooks, retried with backoff apart from mail. */
  Webhooks: 'webhooks',
  /** Reconciler, approval deadlines, retention pruning: housekeeping. */
  Maintenance: 'maintenance',
} as const;

export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);
