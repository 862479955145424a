/**
 * The run-throughput workload, shared by bench/run-throughput and bench/scale-workers:
 * N builtin ACTION runs posted through the real API and completed by the worker(s),
 * and the two baselines measured beside it on the same Redis and Postgres: raw BullMQ
 * no-op jobs, and the bare durable lifecycle of a run done by hand (a `pg` insert, a
 * BullMQ add, then two conditional updates in the consumer).
 */
import autocannon from 'autocannon';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';

/** Requests in flight while posting (HTTP connections / producer tasks). */
export const POSTERS = 16;

/** Waits until `done()` reaches `n`, polling; returns when it did. */
async function until(done: () => Promise<number> | number, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await done()) < n) {
    if (Date.now() > deadline) throw new Error(`only ${await done()} of ${n} finished in time`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Runs `task(i)` for i < n with at most `parallel` at once. */
async function pool(n: number, parallel: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** Platform: POST n runs of `entityId`, wait until all are COMPLETED; runs/s. */
export async function platformRound(options: {
  apiUrl: string;
  headers: Record<string, string>;
  entityId: string;
  admin: Pool;
  n: number;
}): Promise<number> {
  const { apiUrl, headers, entityId, admin, n } = options;
  const before = await completedOf(admin, entityId);
  const started = performance.now();
  const posted = await autocannon({
    url: `${apiUrl}/api/v1/entities/${entityId}/runs`,
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ input: {} }),
    connections: POSTERS,
    amount: n,
  });
  if (posted.non2xx > 0) throw new Error(`${posted.non2xx} of ${n} POSTs were not 2xx`);
  await until(async () => (await completedOf(admin, entityId)) - before, n, 300_000);
  return n / ((performance.now() - started) / 1000);
}

async function completedOf(admin: Pool, entityId: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    `SELECT count(*) AS n FROM execution_runs WHERE entity_id = $1 AND status = 'COMPLETED'`,
    [entityId],
  );
  return Number(rows[0].n);
}

/** The two baselines, with their own queues on the platform's Redis. */
export class Baselines {
  private readonly connection: Redis;
  private readonly noopQueue: Queue;
  private readonly bareQueue: Queue;
  private noopDone = 0;
  private bareDone = 0;
  private readonly workers: Worker[] = [];

  constructor(
    redisUrl: string,
    private readonly db: Pool,
    concurrency: number,
  ) {
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const connection = this.connection;
    this.noopQueue = new Queue('bench-noop', { connection });
    this.bareQueue = new Queue('bench-bare', { connection });
    this.workers.push(
      new Worker(
        'bench-noop',
        () => {
          this.noopDone++;
          return Promise.resolve();
        },
        { connection, concurrency },
      ),
      new Worker(
        'bench-bare',
        async (job) => {
          const { id } = job.data as { id: string };
          await db.query(
            `UPDATE bench_runs SET status = 'RUNNING', started_at = now() WHERE id = $1 AND status = 'QUEUED'`,
            [id],
          );
          await db.query(
            `UPDATE bench_runs SET status = 'COMPLETED', result = $2, completed_at = now()
              WHERE id = $1 AND status = 'RUNNING'`,
            [id, JSON.stringify({ now: new Date().toISOString() })],
          );
          this.bareDone++;
        },
        { connection, concurrency },
      ),
    );
  }

  /** The bare lifecycle's table: the columns of a run that the lifecycle touches. */
  static async createTable(db: Pool): Promise<void> {
    await db.query(`CREATE TABLE IF NOT EXISTS bench_runs (
      id uuid PRIMARY KEY, company_id uuid NOT NULL, entity_id uuid NOT NULL,
      status text NOT NULL, input_data jsonb, result jsonb,
      created_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz, completed_at timestamptz)`);
  }

  /** Raw BullMQ: n no-op jobs added by POSTERS producers; jobs/s. */
  async noop(n: number): Promise<number> {
    const target = this.noopDone + n;
    const started = performance.now();
    await pool(n, POSTERS, (i) =>
      this.noopQueue.add('noop', { i }, { removeOnComplete: 1_000, removeOnFail: 5_000 }),
    );
    await until(() => this.noopDone, target, 300_000);
    return n / ((performance.now() - started) / 1000);
  }

  /** The bare durable lifecycle of n runs; runs/s. */
  async bare(n: number): Promise<number> {
    const target = this.bareDone + n;
    const companyId = uuidv7();
    const entityId = uuidv7();
    const started = performance.now();
    await pool(n, POSTERS, async () => {
      const id = uuidv7();
      await this.db.query(
        `INSERT INTO bench_runs (id, company_id, entity_id, status, input_data) VALUES ($1, $2, $3, 'QUEUED', $4)`,
        [id, companyId, entityId, '{}'],
      );
      await this.bareQueue.add('run', { id }, { jobId: id, removeOnComplete: 1_000, removeOnFail: 5_000 });
    });
    await until(() => this.bareDone, target, 300_000);
    return n / ((performance.now() - started) / 1000);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await this.noopQueue.close();
    await this.bareQueue.close();
    this.connection.disconnect();
  }
}
