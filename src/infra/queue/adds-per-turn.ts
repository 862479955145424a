import type { Job, JobsOptions, Queue } from 'bullmq';
import { loaderPerTurn } from '../database/batched';

/** Adds a job; resolves once it is in Redis. */
export type AddJob = (name: string, data: object, opts: JobsOptions) => Promise<Job>;

/**
 * `queue.add`, with the jobs added during one turn of the event loop sent as one
 * `addBulk` (one pipeline, one round trip) instead of a round trip each. Each job
 * keeps its own options: a job id already taken is a no-op, as with `add`. The
 * pipeline is not atomic, and one failed command fails every call of the batch,
 * also those whose jobs were added.
 */
export function addsPerTurn(queue: Queue): AddJob {
  const adds = loaderPerTurn((jobs: readonly { name: string; data: object; opts: JobsOptions }[]) =>
    queue.addBulk([...jobs]),
  );
  return (name, data, opts) => adds.load({ name, data, opts });
}
