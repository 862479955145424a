/**
 * bench/run-fanout: a parallel PROCESS with 1, 10, 100 and 200 children (builtin ACTIONs),
 * posted through the API and run by an in-process worker. For each size: the time
 * from POST to the parent's COMPLETED, and what the database did per child run —
 * committed transactions and rows written (pg_stat_database), the parent's own work
 * included. Per-child cost must stay flat as the fan-out grows (nothing quadratic:
 * the parent reads its children in one query per wake-up). Rounds are interleaved;
 * medians of the rounds are reported.
 *
 * Run: bash scripts/bench.sh run-fanout [--smoke]
 */
import 'reflect-metadata';
import { Client } from 'pg';
import prepareTemplate from '../test/setup/global-setup';
import dropTemplate from '../test/setup/global-teardown';
import { startApi, startWorker } from '../test/support/app';
import { createTestDatabase } from '../test/support/database';
import { flushTestRedis } from '../test/support/redis';
import { bearer, createCompany, createUser, login } from '../test/factories/tenancy';
import { fmt, median, SMOKE, runBenchmark } from './lib';

const SIZES = SMOKE ? [1, 10] : [1, 10, 100, 200];
const ROUNDS = SMOKE ? 1 : 3;

async function main(): Promise<void> {
  await prepareTemplate();
  await flushTestRedis();
  const db = await createTestDatabase();
  const overrides = {
    LOGIN_LIMIT_PER_EMAIL: '1000',
    LOGIN_LIMIT_PER_IP: '1000',
    EXECUTION_CONCURRENCY: '10',
    RUN_MAX_FANOUT: '200',
  };
  const app = await startApi(db, { overrides });
  const worker = await startWorker(db, overrides);
  const stats = new Client({ connectionString: db.adminUrl });
  await stats.connect();
  try {
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    const user = await createUser(db.admin, { companyId: tenant.id, role: 'member' });
    const headers = bearer(await login(app, user.email));
    const processes = new Map<number, string>();
    for (const size of SIZES) {
      const parent = await db.admin.hierarchicalEntity.create({
        data: {
          companyId: tenant.id,
          type: 'PROCESS',
          name: `fanout-${size}`,
          status: 'ACTIVE',
          planning: { strategy: 'parallel' },
        },
      });
      await db.admin.hierarchicalEntity.createMany({
        data: Array.from({ length: size }, (_, i) => ({
          companyId: tenant.id,
          parentId: parent.id,
          type: 'ACTION' as const,
          name: `leaf-${size}-${i}`,
          status: 'ACTIVE' as const,
          hierarchy: { alias: `leaf${i}` },
          capabilities: { action: { kind: 'builtin', name: 'time.now', args: {} } },
        })),
      });
      processes.set(size, parent.id);
    }

    // Database-wide counters. Backends flush their stats lazily (a busy pooled
    // connection may hold them for seconds), so read until they stop moving.
    const read = async () => {
      await stats.query('SELECT pg_stat_clear_snapshot()');
      const { rows } = await stats.query<{ xacts: string; written: string }>(
        `SELECT xact_commit AS xacts, tup_inserted + tup_updated + tup_deleted AS written
           FROM pg_stat_database WHERE datname = current_database()`,
      );
      return { xacts: Number(rows[0].xacts), written: Number(rows[0].written) };
    };
    const counters = async () => {
      let last = await read();
      for (let settled = 0, tries = 0; settled < 2 && tries < 30; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 700));
        const now = await read();
        // The reads themselves commit one transaction each.
        settled = now.written === last.written && now.xacts - last.xacts <= 2 ? settled + 1 : 0;
        last = now;
      }
      return last;
    };

    const samples = new Map<number, { ms: number[]; xacts: number[]; written: number[] }>(
      SIZES.map((size) => [size, { ms: [], xacts: [], written: [] }]),
    );
    for (let round = 0; round < ROUNDS; round++) {
      for (const size of SIZES) {
        const before = await counters();
        const started = performance.now();
        const created = await app.inject({
          method: 'POST',
          url: `/api/v1/entities/${processes.get(size)}/runs`,
          headers,
          payload: { input: {} },
        });
        const runId = created.json<{ id: string }>().id;
        for (;;) {
          const { status } = await db.admin.executionRun.findUniqueOrThrow({ where: { id: runId } });
          if (status === 'COMPLETED') break;
          if (status === 'FAILED') throw new Error(`fan-out ${size} failed`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        const ms = performance.now() - started;
        const after = await counters();
        const sample = samples.get(size)!;
        sample.ms.push(ms);
        // The polling above and the stats query themselves commit a few transactions;
        // they are the same for every size and are left in (conservative).
        sample.xacts.push((after.xacts - before.xacts) / size);
        sample.written.push((after.written - before.written) / size);
      }
    }

    console.log(
      `\nparallel PROCESS, builtin children, EXECUTION_CONCURRENCY=10, median of ${ROUNDS} interleaved rounds\n`,
    );
    console.log('children   time (ms)   ms/child   transactions/child   rows written/child');
    for (const size of SIZES) {
      const s = samples.get(size)!;
      console.log(
        `${String(size).padStart(8)} ${fmt(median(s.ms)).padStart(11)} ${fmt(median(s.ms) / size).padStart(10)} ${fmt(median(s.xacts), 1).padStart(20)} ${fmt(median(s.written), 1).padStart(20)}`,
      );
    }
    // Compared between the two largest sizes: with few children, ends that come close
    // together share one parent wake-up, which makes small fan-outs look cheaper.
    const first = samples.get(SIZES.at(-2)!)!;
    const last = samples.get(SIZES.at(-1)!)!;
    const flat =
      median(last.xacts) <= median(first.xacts) * 1.25 &&
      median(last.written) <= median(first.written) * 1.25;
    console.log(
      `\nper-child database work from ${SIZES.at(-2)} to ${SIZES.at(-1)} children: ${flat ? 'flat (met)' : 'GROWS (not met)'}`,
    );
  } finally {
    await stats.end();
    await worker.close();
    await app.close();
    await db.drop();
    await dropTemplate();
  }
}

runBenchmark(main);
