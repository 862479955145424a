/**
 * The platform's queues, named by workload. These names are persisted in Redis
 * keys and in job ids: do not rename them.
 */
export const QueueName = {
  /** Runs: start, resume after approval or children, cancel. */
  Execution: 'execution',
  /** Document parsing, chunking and embedding. */
  Ingestion: 'ingestion',
  /** Approval webhooks and mail. */
  Notifications: 'notifications',
  /** Reconciler, retention pruning: repeatable housekeeping. */
  Maintenance: 'maintenance',
} as const;

export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const ALL_QUEUES: readonly QueueName[] = Object.values(QueueName);
