/** Longest deferral, in multiples of EXECUTION_FAIRNESS_DELAY_MS. */
const MAX_FACTOR = 16;

/**
 * How long a job of a company over its cap waits before it asks for a slot again.
 * The wait doubles with each deferral of the same job (up to 16× the base), so a
 * flood of thousands of deferred jobs does not keep the workers busy moving them
 * back and forth; a ±25 % jitter spreads a batch deferred together so the jobs do not
 * return at the same instant.
 *
 * `deferrals` is how often the job has been deferred so far: BullMQ counts every move
 * to active in `attemptsStarted` but only real attempts in `attemptsMade`, and a
 * deferral is not an attempt.
 */
export function deferralDelay(baseMs: number, deferrals: number, random: () => number = Math.random): number {
  const factor = Math.min(2 ** Math.max(0, deferrals), MAX_FACTOR);
  return Math.round(baseMs * factor * (0.75 + random() / 2));
}

/** Deferrals so far of a job now active: started attempts beyond the real ones and this one. */
export function deferralsOf(job: { attemptsStarted: number; attemptsMade: number }): number {
  return Math.max(0, job.attemptsStarted - job.attemptsMade - 1);
}
