/**
 * bench/run-throughput: N builtin ACTION runs posted through the API (JWT, validation,
 * Prisma, RLS) and completed by an in-process worker, with their events, tool logs and
 * status history, against in the same run and on the same Redis and Postgres:
 *  (a) raw BullMQ no-op jobs/s, and
 *  (b) the bare durable lifecycle of a run done by hand: a `pg` insert, a BullMQ add,
 *      then two conditional updates (RUNNING, COMPLETED) in the consumer, and
 *  (c) the same lifecycle with its three statements sent through Prisma instead: the
 *      floor of anything that writes through Prisma statement for statement;
 *  (d) the platform's API alone: the same POSTs with the worker stopped (a ceiling:
 *      the platform cannot complete runs faster than its API accepts them);
 *  (b') the bare lifecycle of (b) on a copy of the platform's runs table: what the
 *      run row's indexes and keys cost, apart from everything else the platform does.
 * Same concurrency everywhere: POSTERS producers, EXECUTION_CONCURRENCY consumers, a
 * pool of 10 connections. Rounds are interleaved; medians are compared.
 * Target: platform ≥ 0.7 × (b).
 *
 * Run: bash scripts/bench.sh run-throughput [--smoke]
 */
import 'reflect-metadata';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../src/infra/database/generated/client';
import prepareTemplate from '../test/setup/global-setup';
import dropTemplate from '../test/setup/global-teardown';
import { startApi, startWorker } from '../test/support/app';
import { createTestDatabase } from '../test/support/database';
import { flushTestRedis, testRedisUrl } from '../test/support/redis';
import { createEntity } from '../test/factories/entities';
import { bearer, createCompany, createUser, login } from '../test/factories/tenancy';
import { cpuSeconds } from './cpu-usage';
import { fmt, median, SMOKE, runBenchmark } from './lib';
import { Baselines, intakeRound, platformRound, POSTERS } from './run-workload';

const RUNS = SMOKE ? 20 : Number(process.env.BENCH_RUNS ?? 1_000);
const ROUNDS = SMOKE ? 1 : 5;
const CONCURRENCY = 16;
const POOL = 10;

/** CPU time by component summed over measured rounds, per run. */
function spent(database: string) {
  const total = { api: 0, postgres: 0, redis: 0 };
  let runs = 0;
  return {
    async during(measure: () => Promise<number>, n: number): Promise<number> {
      const before = cpuSeconds(database, []);
      const rate = await measure();
      const after = cpuSeconds(database, []);
      for (const key of ['api', 'postgres', 'redis'] as const) total[key] += after[key] - before[key];
      runs += n;
      return rate;
    },
    perRun: () =>
      [total.api, total.postgres, total.redis].map((seconds) => fmt((seconds * 1000) / runs)).join(', '),
  };
}

async function main(): Promise<void> {
  await prepareTemplate();
  await flushTestRedis();
  const db = await createTestDatabase();
  const overrides = {
    LOGIN_LIMIT_PER_EMAIL: '1000',
    LOGIN_LIMIT_PER_IP: '1000',
    DATABASE_POOL_SIZE: String(POOL),
    EXECUTION_CONCURRENCY: String(CONCURRENCY),
  };
  const app = await startApi(db, { overrides });
  await app.listen(0, '127.0.0.1');
  const worker = await startWorker(db, overrides);
  let workerOpen = true;
  const closeWorker = async () => {
    if (workerOpen) await worker.close();
    workerOpen = false;
  };
  const admin = new Pool({ connectionString: db.adminUrl, max: 2 });
  // A connection ended under it at teardown (the database is dropped) must not crash the bench.
  admin.on('error', () => undefined);
  const bareDb = new Pool({ connectionString: db.adminUrl, max: POOL });
  // A connection ended under it at teardown (the database is dropped) must not crash the bench.
  bareDb.on('error', () => undefined);
  await Baselines.createTable(bareDb);
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.adminUrl, max: POOL }) });
  const baselines = new Baselines(testRedisUrl(), bareDb, CONCURRENCY, prisma);
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
    const round = {
      platform: () => platformRound({ apiUrl, headers, entityId: entity.id, admin, n: RUNS }),
      noop: () => baselines.noop(RUNS),
      bare: () => baselines.bare(RUNS),
      prisma: () => baselines.bare(RUNS, 'prisma'),
      runs: () => baselines.bare(RUNS, 'runs', { companyId: tenant.id, entityId: entity.id }),
    };
    // Warm-up: JIT, pools, plan caches, BullMQ scripts.
    for (const measure of Object.values(round)) await measure();
    // Statistics as autovacuum would keep them (it is off on these machines): a plan
    // made for an empty table would read a company's every run to find twelve.
    await admin.query('ANALYZE');
    const samples = {
      platform: [] as number[],
      noop: [] as number[],
      bare: [] as number[],
      prisma: [] as number[],
      runs: [] as number[],
    };
    // CPU per run by component over the measured rounds (this process: the API, the
    // worker and the HTTP client, or the baselines' producers and consumers).
    const cpu = { platform: spent(db.name), bare: spent(db.name) };
    for (let i = 0; i < ROUNDS; i++) {
      samples.noop.push(await round.noop());
      samples.bare.push(await cpu.bare.during(round.bare, RUNS));
      samples.prisma.push(await round.prisma());
      samples.runs.push(await round.runs());
      samples.platform.push(await cpu.platform.during(round.platform, RUNS));
    }
    const c = median(samples.prisma);
    // (d) The API alone: the worker stops, so the same POSTs only queue their runs.
    await closeWorker();
    const intake: number[] = [];
    for (let i = 0; i < ROUNDS; i++)
      intake.push(await intakeRound({ apiUrl, headers, entityId: entity.id, n: RUNS }));
    const d = median(intake);
    const p = median(samples.platform);
    const a = median(samples.noop);
    const b = median(samples.bare);
    console.log(
      `\n${RUNS} runs per round, ${POSTERS} producers, concurrency ${CONCURRENCY}, pool ${POOL}, ` +
        `median of ${ROUNDS} interleaved rounds`,
    );
    console.log(`(a) raw BullMQ no-op jobs:                        ${fmt(a, 0)} /s`);
    console.log(`(b) bare durable lifecycle (pg + BullMQ):         ${fmt(b, 0)} /s`);
    console.log(`(c) the same lifecycle through Prisma (floor):    ${fmt(c, 0)} /s (${fmt(c / b)} × (b))`);
    console.log(`(d) the platform's API alone (POSTs, no worker):  ${fmt(d, 0)} /s (${fmt(d / b)} × (b))`);
    const bRuns = median(samples.runs);
    console.log(
      `(b') (b) on a copy of the platform's runs table:  ${fmt(bRuns, 0)} /s (${fmt(bRuns / b)} × (b))`,
    );
    console.log(`platform (API, worker, events, logs):             ${fmt(p, 0)} /s`);
    console.log(
      `CPU ms per run (node, postgres, redis): (b) ${cpu.bare.perRun()}; platform ${cpu.platform.perRun()}`,
    );
    console.log(`platform / (a) = ${fmt(p / a)} ×`);
    console.log(`platform / (b) = ${fmt(p / b)} × (target ≥ 0.7 ×: ${p / b >= 0.7 ? 'met' : 'NOT met'})`);
    console.log(`platform / (b') = ${fmt(p / bRuns)} × (for reference; the target is against (b))`);
  } finally {
    await closeWorker();
    await baselines.close();
    await prisma.$disconnect();
    await app.close();
    await admin.end();
    await bareDb.end();
    await db.drop();
    await dropTemplate();
  }
}

runBenchmark(main);
