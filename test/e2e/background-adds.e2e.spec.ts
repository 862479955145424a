import type { Logger } from '@nestjs/common';
import { Queue } from 'bullmq';
import { BackgroundAdds } from '../../src/infra/queue/background-adds';
import { freePort } from '../support/processes';
import { testRedisUrl } from '../support/redis';

/** A logger that keeps its warnings. */
const recording = () => {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (message: string) => warnings.push(message) } as unknown as Logger };
};

describe('BackgroundAdds', () => {
  it('adds without the caller waiting, and settles once the jobs are in Redis', async () => {
    const queue = new Queue(`background-${Date.now()}`, { connection: { url: testRedisUrl() } });
    const { warnings, logger } = recording();
    try {
      const adds = new BackgroundAdds(queue, logger, 'the sweep queues it');
      expect(adds.start('job', { n: 1 }, { jobId: 'one' })).toBeUndefined();
      adds.start('job', { n: 2 }, { jobId: 'two' });
      await adds.settled(5_000);
      expect((await queue.getJob('one'))?.data).toEqual({ n: 1 });
      expect((await queue.getJob('two'))?.data).toEqual({ n: 2 });
      expect(warnings).toEqual([]);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });

  it('logs an add Redis refused, naming the job and what recovers it; the caller never sees it fail', async () => {
    // Nothing listens there, and the connection does not queue commands while down.
    const port = await freePort();
    const queue = new Queue('background-down', {
      connection: { host: '127.0.0.1', port, enableOfflineQueue: false, retryStrategy: () => null },
    });
    queue.on('error', () => undefined);
    const { warnings, logger } = recording();
    try {
      const adds = new BackgroundAdds(queue, logger, 'the sweep queues it');
      adds.start('job', { n: 1 }, { jobId: 'lost' });
      await adds.settled(5_000);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^job lost not added \(.+\); the sweep queues it$/);
    } finally {
      await queue.close().catch(() => undefined);
    }
  });
});
