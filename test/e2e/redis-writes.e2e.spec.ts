import { once } from 'node:events';
import type { Socket } from 'node:net';
import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { ExecutionProcessor } from '../../src/execution/execution.processor';
import { writesPerTurn } from '../../src/infra/redis/writes-per-turn';
import { startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis, testRedisUrl } from '../support/redis';

/** Counts the writes a socket makes from now on (one per system call it asks for). */
function countWrites(socket: Socket): () => number {
  let writes = 0;
  const target = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => void>;
  for (const method of ['_write', '_writev'] as const) {
    const original = target[method].bind(socket);
    target[method] = (...args: unknown[]) => {
      writes++;
      original(...args);
    };
  }
  return () => writes;
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('Redis commands sent per turn (writesPerTurn)', () => {
  let redis: Redis;

  beforeAll(async () => {
    await flushTestRedis();
  });

  beforeEach(async () => {
    redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    redis.defineCommand('incrTwice', {
      numberOfKeys: 1,
      lua: `redis.call('INCR', KEYS[1]); return redis.call('INCR', KEYS[1])`,
    });
    await redis.ping();
  });

  afterEach(() => redis.disconnect());

  /** Plain commands, a script and a pipeline, issued in one turn; the counter's
   *  values they answered, in the order issued. */
  const oneTurnOfCommands = async (): Promise<unknown[]> => {
    const plain = Array.from({ length: 5 }, () => redis.incr('turn:n'));
    const scripted = (redis as unknown as { incrTwice: (key: string) => Promise<number> }).incrTwice(
      'turn:n',
    );
    const piped = redis.multi().incr('turn:n').incr('turn:n').exec();
    const last = redis.incr('turn:n');
    return [
      ...(await Promise.all(plain)),
      await scripted,
      ...((await piped) ?? []).map(([, value]) => value),
      await last,
    ];
  };

  it('sends the commands, scripts and pipelines of one turn in one write, answered in order', async () => {
    await redis.del('turn:n');
    // Without writesPerTurn this connection writes once per command.
    const writes = countWrites(redis.stream);
    expect(await oneTurnOfCommands()).toEqual([1, 2, 3, 4, 5, 7, 8, 9, 10]);
    expect(writes()).toBeGreaterThan(1);

    writesPerTurn(redis);
    const corked = countWrites(redis.stream);
    expect(await oneTurnOfCommands()).toEqual([11, 12, 13, 14, 15, 17, 18, 19, 20]);
    expect(corked()).toBe(1);
  });

  it('commands of separate turns go out separately, none waits past its turn', async () => {
    writesPerTurn(redis);
    const writes = countWrites(redis.stream);
    const first = redis.set('turn:a', '1');
    await nextTurn();
    expect(writes()).toBe(1);
    const second = redis.set('turn:b', '2');
    await nextTurn();
    expect(writes()).toBe(2);
    await Promise.all([first, second]);
    expect(await redis.mget('turn:a', 'turn:b')).toEqual(['1', '2']);
  });

  it('keeps working across a reconnect, on the new socket', async () => {
    writesPerTurn(redis);
    const old = redis.stream;
    // Dropped by the server, as a restart or a network fault would.
    const id = await redis.client('ID');
    const closed = once(redis, 'close');
    const admin = new Redis(testRedisUrl());
    try {
      await admin.client('KILL', 'ID', String(id));
    } finally {
      admin.disconnect();
    }
    await closed;
    // Issued while the connection is down: queued offline, sent once it is back.
    const during = redis.incr('turn:reconnect');
    expect(await during).toBe(1);
    expect(redis.stream).not.toBe(old);
    const writes = countWrites(redis.stream);
    const answers = await Promise.all([redis.incr('turn:reconnect'), redis.incr('turn:reconnect')]);
    expect(answers).toEqual([2, 3]);
    expect(writes()).toBe(1);
  });

  it('leaves any other client alone', () => {
    const send = () => undefined;
    const notRedis = { sendCommand: send };
    writesPerTurn(notRedis);
    expect(notRedis.sendCommand).toBe(send);
  });

  describe('the execution worker', () => {
    let db: TestDatabase;
    let worker: INestApplicationContext;

    beforeAll(async () => {
      db = await createTestDatabase();
      // Its execution worker idle (not in WORKER_QUEUES): nothing of its own, such as a
      // stalled-job check, lands among the commands counted.
      worker = await startWorker(db, { WORKER_QUEUES: 'ingestion' });
    });

    afterAll(async () => {
      await worker?.close();
      await db?.drop();
    });

    it("sends its BullMQ connection's commands of one turn in one write", async () => {
      // The processor set it up when this connection was ready (its callback came first).
      const client = (await worker.get(ExecutionProcessor).worker.getBackend().client) as unknown as Redis;
      const writes = countWrites(client.stream);
      const answers = await Promise.all(Array.from({ length: 4 }, () => client.ping()));
      expect(answers).toEqual(['PONG', 'PONG', 'PONG', 'PONG']);
      expect(writes()).toBe(1);
    });
  });
});
