/**
 * bench/scale-workers: the run-throughput workload (builtin ACTION runs posted through
 * the API) completed by 1, 2 and 4 worker processes (`main.worker`, each with the same
 * EXECUTION_CONCURRENCY), on this machine. For each count: runs/s (median of rounds)
 * and where the CPU went during the rounds (Postgres backends of the bench database,
 * Redis, the API process with the benchmark's client, the workers), as a share of the machine's cores —
 * which names the bottleneck.
 *
 * Run: bash scripts/bench.sh scale-workers [--smoke]
 */
import 'reflect-metadata';
import { availableParallelism } from 'node:os';
import { Pool } from 'pg';
import prepareTemplate from '../test/setup/global-setup';
import dropTemplate from '../test/setup/global-teardown';
import { startApi } from '../test/support/app';
import { createTestDatabase } from '../test/support/database';
import { freePort, processEnv, spawnEntrypoint, waitForHttp, type Spawned } from '../test/support/processes';
import { flushTestRedis } from '../test/support/redis';
import { createEntity } from '../test/factories/entities';
import { bearer, createCompany, createUser, login } from '../test/factories/tenancy';
import { cpuSeconds, type Component } from './cpu-usage';
import { fmt, median, SMOKE, runBenchmark } from './lib';
import { platformRound } from './run-workload';

const COUNTS = SMOKE ? [1, 2] : [1, 2, 4];
const RUNS = SMOKE ? 20 : 600;
const ROUNDS = SMOKE ? 1 : 3;
const CONCURRENCY = 16;

async function main(): Promise<void> {
  await prepareTemplate();
  await flushTestRedis();
  const db = await createTestDatabase();
  const app = await startApi(db, {
    overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000', DATABASE_POOL_SIZE: '10' },
  });
  await app.listen(0, '127.0.0.1');
  const admin = new Pool({ connectionString: db.adminUrl, max: 2 });
  // A connection ended under it at teardown (the database is dropped) must not crash the bench.
  admin.on('error', () => undefined);
  const database = new URL(db.appUrl).pathname.slice(1);
  const workerEnv = processEnv(db, {
    DATABASE_POOL_SIZE: '10',
    EXECUTION_CONCURRENCY: String(CONCURRENCY),
    // One tenant posts every run: without this, the per-company fairness cap (20 by
    // default) would defer jobs beyond it and measure the cap, not the workers.
    EXECUTION_COMPANY_CONCURRENCY: '10000',
    WORKER_QUEUES: 'execution,maintenance',
  });
  let workers: Spawned[] = [];
  const stopWorkers = async () => {
    for (const { child } of workers) child.kill('SIGTERM');
    await Promise.all(workers.map((worker) => worker.exited));
    workers = [];
  };
  const results: { count: number; runsPerSecond: number; cpu: Record<Component, number>; wall: number }[] =
    [];
  try {
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    const user = await createUser(db.admin, { companyId: tenant.id, role: 'member' });
    const headers = bearer(await login(app, user.email));
    const entity = await createEntity(db.admin, {
      companyId: tenant.id,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } },
    });
    const apiUrl = await app.getUrl();
    const round = () => platformRound({ apiUrl, headers, entityId: entity.id, admin, n: RUNS });

    for (const count of COUNTS) {
      for (let i = 0; i < count; i++) {
        const port = await freePort();
        const worker = spawnEntrypoint('main.worker', { ...workerEnv, WORKER_HTTP_PORT: String(port) });
        workers.push(worker);
        await waitForHttp(`http://127.0.0.1:${port}/health/ready`, 200, 60_000);
      }
      await round(); // warm-up: JIT, pools, plan caches
      // Statistics as autovacuum would keep them (it is off on these machines): a plan
      // made for an empty table reads a company's every run to claim a dozen.
      await admin.query('ANALYZE');
      const pids = () => workers.map((w) => w.child.pid!);
      const samples: number[] = [];
      const before = cpuSeconds(database, pids());
      const started = performance.now();
      for (let i = 0; i < ROUNDS; i++) samples.push(await round());
      const wall = (performance.now() - started) / 1000;
      const after = cpuSeconds(database, pids());
      const cpu = Object.fromEntries(
        (Object.keys(after) as Component[]).map((k) => [k, after[k] - before[k]]),
      ) as Record<Component, number>;
      results.push({ count, runsPerSecond: median(samples), cpu, wall });
      await stopWorkers();
    }

    const cores = availableParallelism();
    console.log(
      `\n${RUNS} runs per round, median of ${ROUNDS} rounds, EXECUTION_CONCURRENCY=${CONCURRENCY} per worker, ` +
        `${cores} cores; CPU as a share of all cores during the rounds`,
    );
    console.log(
      'workers | runs/s | vs 1 worker | Postgres | Redis | API (+ bench client) | workers | other or idle',
    );
    const base = results[0].runsPerSecond;
    for (const { count, runsPerSecond, cpu, wall } of results) {
      const share = (seconds: number) => `${fmt((100 * seconds) / (wall * cores), 0)} %`;
      const idle = wall * cores - cpu.postgres - cpu.redis - cpu.api - cpu.workers;
      console.log(
        `${count} | ${fmt(runsPerSecond, 0)} | ${fmt(runsPerSecond / base)} × | ${share(cpu.postgres)} | ` +
          `${share(cpu.redis)} | ${share(cpu.api)} | ${share(cpu.workers)} | ${share(Math.max(0, idle))}`,
      );
    }
  } finally {
    await stopWorkers();
    await app.close();
    await admin.end();
    await db.drop();
    await dropTemplate();
  }
}

runBenchmark(main);
