import type { INestApplicationContext } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import { ALL_QUEUES } from '../../src/infra/queue/queue-names';

/** Waits until no job is waiting, active or delayed on any queue (twenty's
 *  waitForAllJobsToFinish): the worker has handled everything enqueued so far. The
 *  maintenance queue always holds the next sweep of its job scheduler, delayed: that
 *  one does not count. */
export async function waitForQueuesDrained(app: INestApplicationContext, timeoutMs = 15_000): Promise<void> {
  const queues = ALL_QUEUES.map((name) => app.get<Queue>(getQueueToken(name), { strict: false }));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const counts = await Promise.all(
      queues.map((q) =>
        q.name === 'maintenance'
          ? q.getJobCounts('waiting', 'active', 'prioritized')
          : q.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
      ),
    );
    if (counts.every((c) => Object.values(c).every((n) => n === 0))) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const last = await Promise.all(
    queues.map(async (q) => `${q.name}: ${JSON.stringify(await q.getJobCounts())}`),
  );
  throw new Error(`queues not drained within ${timeoutMs} ms (${last.join('; ')})`);
}
