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
import type { PrismaClient } from '../src/infra/database/generated/client';

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

/** POSTs n runs of `entityId` through the API (16 connections); the autocannon result. */
async function post(apiUrl: string, headers: Record<string, string>, entityId: string, n: number) {
  const posted = await autocannon({
    url: `${apiUrl}/api/v1/entities/${entityId}/runs`,
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ input: {} }),
    connections: POSTERS,
    amount: n,
    // autocannon notices it is done only at its next sample: every second by default,
    // which would round every round up to whole seconds.
    sampleInt: 10,
  });
  if (posted.non2xx > 0) throw new Error(`${posted.non2xx} of ${n} POSTs were not 2xx`);
  return posted;
}

/** The API's intake alone: n runs POSTed (and queued) with no worker consuming; runs/s. */
export async function intakeRound(options: {
  apiUrl: string;
  headers: Record<string, string>;
  entityId: string;
  n: number;
}): Promise<number> {
  const started = performance.now();
  await post(options.apiUrl, options.headers, options.entityId, options.n);
  return options.n / ((performance.now() - started) / 1000);
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
  const since = idFloor(Date.now() - 1);
  const started = performance.now();
  await post(apiUrl, headers, entityId, n);
  // Every run exists once the POSTs are answered; the round ends when none is left
  // unfinished (a poll reads only those), and every one of them must have completed.
  await until(async () => n - (await unfinishedOf(admin, entityId, since)), n, 300_000);
  const elapsed = performance.now() - started;
  const completed = await completedOf(admin, entityId, since);
  if (completed !== n) throw new Error(`${completed} of ${n} runs completed`);
  return n / (elapsed / 1000);
}

/** The lowest UUIDv7 of a millisecond: every run created from then on sorts after it. */
function idFloor(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8)}-7000-8000-000000000000`;
}

/** Runs of the entity created since `sinceId` still QUEUED or RUNNING: ranges of the
 *  runs' (company, status, id) index, so a poll reads only the runs in flight. */
async function unfinishedOf(admin: Pool, entityId: string, sinceId: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    `SELECT count(*) AS n FROM execution_runs
      WHERE company_id = (SELECT company_id FROM hierarchical_entities WHERE id = $1)
        AND status IN ('QUEUED', 'RUNNING') AND id >= $2 AND entity_id = $1`,
    [entityId, sinceId],
  );
  return Number(rows[0].n);
}

/** Completed runs of the entity created since `sinceId`. */
async function completedOf(admin: Pool, entityId: string, sinceId: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    `SELECT count(*) AS n FROM execution_runs
      WHERE company_id = (SELECT company_id FROM hierarchical_entities WHERE id = $1)
        AND entity_id = $1 AND id >= $2 AND status = 'COMPLETED'`,
    [entityId, sinceId],
  );
  return Number(rows[0].n);
}

/** The statements of the bare lifecycle, through `pg` or through Prisma's raw queries. */
interface LifecycleSql {
  insert(id: string, companyId: string, entityId: string): Promise<unknown>;
  start(id: string): Promise<unknown>;
  complete(id: string, result: string): Promise<unknown>;
}

function viaPg(db: Pool): LifecycleSql {
  return {
    insert: (id, companyId, entityId) =>
      db.query(
        `INSERT INTO bench_runs (id, company_id, entity_id, status, input_data) VALUES ($1, $2, $3, 'QUEUED', $4)`,
        [id, companyId, entityId, '{}'],
      ),
    start: (id) =>
      db.query(
        `UPDATE bench_runs SET status = 'RUNNING', started_at = now() WHERE id = $1 AND status = 'QUEUED'`,
        [id],
      ),
    complete: (id, result) =>
      db.query(
        `UPDATE bench_runs SET status = 'COMPLETED', result = $2, completed_at = now()
          WHERE id = $1 AND status = 'RUNNING'`,
        [id, result],
      ),
  };
}

/** The same statements on a copy of the platform's runs table (its columns, defaults,
 *  nine indexes and foreign keys; a copy, so these rows do not grow the platform's
 *  table between its rounds), as its owner: what the run row alone costs. */
function viaPgRuns(db: Pool): LifecycleSql {
  return {
    insert: (id, companyId, entityId) =>
      db.query(
        `INSERT INTO bench_platform_runs (id, company_id, entity_id, root_run_id, status, input_data, trace_id, span_id)
         VALUES ($1, $2, $3, $1, 'QUEUED', $4, $5, $6)`,
        [id, companyId, entityId, '{}', 'bench', 'bench'],
      ),
    start: (id) =>
      db.query(
        `UPDATE bench_platform_runs SET status = 'RUNNING', started_at = now(), updated_at = now() WHERE id = $1 AND status = 'QUEUED'`,
        [id],
      ),
    complete: (id, result) =>
      db.query(
        `UPDATE bench_platform_runs SET status = 'COMPLETED', result_data = $2, completed_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'RUNNING'`,
        [id, result],
      ),
  };
}

/** The same statements through Prisma ($executeRaw, its lightest path): the floor any
 *  lifecycle written through Prisma, statement for statement, stands on. */
function viaPrisma(prisma: PrismaClient): LifecycleSql {
  return {
    insert: (id, companyId, entityId) =>
      prisma.$executeRaw`INSERT INTO bench_runs (id, company_id, entity_id, status, input_data)
        VALUES (${id}::uuid, ${companyId}::uuid, ${entityId}::uuid, 'QUEUED', '{}'::jsonb)`,
    start: (id) =>
      prisma.$executeRaw`UPDATE bench_runs SET status = 'RUNNING', started_at = now()
        WHERE id = ${id}::uuid AND status = 'QUEUED'`,
    complete: (id, result) =>
      prisma.$executeRaw`UPDATE bench_runs SET status = 'COMPLETED', result = ${result}::jsonb, completed_at = now()
        WHERE id = ${id}::uuid AND status = 'RUNNING'`,
  };
}

/** Where a bare lifecycle writes: its own one-index table through `pg` or through
 *  Prisma, or the platform's runs table through `pg`. */
type Via = 'pg' | 'prisma' | 'runs';

/** The baselines, with their own queues on the platform's Redis. */
export class Baselines {
  private readonly connection: Redis;
  private readonly noopQueue: Queue;
  private readonly lifecycles = new Map<Via, { queue: Queue; sql: LifecycleSql; done: number }>();
  private noopDone = 0;
  private readonly workers: Worker[] = [];

  constructor(redisUrl: string, db: Pool, concurrency: number, prisma?: PrismaClient) {
    this.connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const connection = this.connection;
    this.noopQueue = new Queue('bench-noop', { connection });
    this.workers.push(
      new Worker(
        'bench-noop',
        () => {
          this.noopDone++;
          return Promise.resolve();
        },
        { connection, concurrency },
      ),
    );
    const sides: [Via, LifecycleSql][] = [
      ['pg', viaPg(db)],
      ['runs', viaPgRuns(db)],
    ];
    if (prisma) sides.push(['prisma', viaPrisma(prisma)]);
    for (const [name, sql] of sides) {
      const lifecycle = { queue: new Queue(`bench-bare-${name}`, { connection }), sql, done: 0 };
      this.lifecycles.set(name, lifecycle);
      this.workers.push(
        new Worker(
          `bench-bare-${name}`,
          async (job) => {
            const { id } = job.data as { id: string };
            await sql.start(id);
            await sql.complete(id, JSON.stringify({ now: new Date().toISOString() }));
            lifecycle.done++;
          },
          { connection, concurrency },
        ),
      );
    }
  }

  /** The bare lifecycle's tables: the columns of a run that the lifecycle touches, and
   *  a copy of the platform's runs table with its indexes and keys. */
  static async createTable(db: Pool): Promise<void> {
    await db.query(`CREATE TABLE IF NOT EXISTS bench_runs (
      id uuid PRIMARY KEY, company_id uuid NOT NULL, entity_id uuid NOT NULL,
      status text NOT NULL, input_data jsonb, result jsonb,
      created_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz, completed_at timestamptz)`);
    await db.query(`CREATE TABLE IF NOT EXISTS bench_platform_runs (LIKE execution_runs INCLUDING ALL);
      ALTER TABLE bench_platform_runs
        ADD FOREIGN KEY (company_id) REFERENCES companies (id),
        ADD FOREIGN KEY (entity_id) REFERENCES hierarchical_entities (id),
        ADD FOREIGN KEY (parent_run_id) REFERENCES bench_platform_runs (id),
        ADD FOREIGN KEY (triggered_by) REFERENCES users (id)`);
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

  /** The bare durable lifecycle of n runs (`via`: see Via); runs/s. On the runs table
   *  the rows need a real company and entity (`owner`). */
  async bare(n: number, via: Via = 'pg', owner?: { companyId: string; entityId: string }): Promise<number> {
    const lifecycle = this.lifecycles.get(via);
    if (!lifecycle) throw new Error(`no ${via} baseline: pass a Prisma client`);
    const target = lifecycle.done + n;
    const companyId = owner?.companyId ?? uuidv7();
    const entityId = owner?.entityId ?? uuidv7();
    const started = performance.now();
    await pool(n, POSTERS, async () => {
      const id = uuidv7();
      await lifecycle.sql.insert(id, companyId, entityId);
      await lifecycle.queue.add('run', { id }, { jobId: id, removeOnComplete: 1_000, removeOnFail: 5_000 });
    });
    await until(() => lifecycle.done, target, 300_000);
    return n / ((performance.now() - started) / 1000);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.close()));
    await this.noopQueue.close();
    for (const lifecycle of this.lifecycles.values()) await lifecycle.queue.close();
    this.connection.disconnect();
  }
}
