import type { RunStatus } from '../infra/database/generated/client';

/** Terminal states: a run in one of these never changes again. */
export const TERMINAL: readonly RunStatus[] = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
  'REJECTED',
  'SKIPPED',
  'EXPIRED',
];

/**
 * Every allowed transition. The repository applies each one as a conditional update
 * (`WHERE status = <from>`), so two workers can never both advance one run.
 */
export const RUN_TRANSITIONS: Record<RunStatus, readonly RunStatus[]> = {
  QUEUED: ['RUNNING', 'CANCELLED', 'FAILED'],
  RUNNING: [
    'WAITING_CHILDREN',
    'AWAITING_APPROVAL',
    'COMPLETED',
    'FAILED',
    'CANCELLED',
    'SKIPPED',
    'REJECTED',
    'EXPIRED',
    'QUEUED',
  ],
  WAITING_CHILDREN: ['RUNNING', 'CANCELLED', 'FAILED'],
  AWAITING_APPROVAL: ['QUEUED', 'RUNNING', 'REJECTED', 'EXPIRED', 'CANCELLED'],
  COMPLETED: [],
  FAILED: [],
  CANCELLED: [],
  REJECTED: [],
  SKIPPED: [],
  EXPIRED: [],
};

export const isTerminal = (status: RunStatus) => TERMINAL.includes(status);

/** The statuses a run may be in to move to `to`. */
export function sourcesOf(to: RunStatus): RunStatus[] {
  return (Object.keys(RUN_TRANSITIONS) as RunStatus[]).filter((from) => RUN_TRANSITIONS[from].includes(to));
}
