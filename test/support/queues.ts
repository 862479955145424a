import type { INestApplicationContext } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { ALL_QUEUES } from '../../src/infra/queue/queue-names';

/** Waits until no job is waiting, active or delayed on any queue (twenty's
 *  waitForAllJobsToFinish): the worker has handled everything enqueued so far. The
 *  next run of a job scheduler (the reconciler's sweep) is always delayed and does
 *  not count. */
export async function waitForQueuesDrained(app: INestApplicationContext, timeoutMs = 15_000): Promise<void> {
  const queues = ALL_QUEUES.map((name) => app.get<Queue>(getQueueToken(name), { strict: false }));
  const busy = async (queue: Queue) => {
    const counts = await queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
    if (counts.waiting || counts.active || counts.prioritized) return true;
    if (!counts.delayed) return false;
    return (await queue.getDelayed()).some((job) => !job.repeatJobKey);
  };
  const deadline = Date.now() + timeoutMs;
  // Queues are read one after another, so a job that adds a job to another queue (a
  // timeout resuming a run) can slip between two reads: idle must be seen twice in a row.
  let idle = 0;
  while (Date.now() < deadline) {
    idle = (await Promise.all(queues.map(busy))).some(Boolean) ? 0 : idle + 1;
    if (idle === 2) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const last = await Promise.all(
    queues.map(async (q) => `${q.name}: ${JSON.stringify(await q.getJobCounts())}`),
  );
  throw new Error(`queues not drained within ${timeoutMs} ms (${last.join('; ')})`);
}
