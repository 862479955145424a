import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getQueueToken } from '@nestjs/bullmq';
import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Reconciler } from '../../src/execution/engine/reconciler';
import { CompanySlots } from '../../src/execution/fairness/company-slots';
import { Metrics } from '../../src/infra/metrics/metrics';
import { startApi, startWorker, testConfig } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis, testRedisUrl } from '../support/redis';
import { until } from '../support/wait';
import { createEntity } from '../factories/entities';
import { bearer, createCompany, createUser, login } from '../factories/tenancy';

const CAP = 2;
const FLOOD = 20;

/** Largest number of [start, end] intervals covering one instant. */
function maxOverlap(intervals: { start: number; end: number }[]): number {
  const points = intervals.flatMap(({ start, end }) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  // Ends before starts at the same instant: a slot handed over is not an overlap.
  points.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const { delta } of points) max = Math.max(max, (current += delta));
  return max;
}

/**
 * One tenant floods the execution queue; another posts one run afterwards. The flood's
 * HTTP actions are held at a local server until the test lets them go, so what the
 * workers do meanwhile is observed in a frozen state: the flood holds exactly its cap,
 * the rest of it waits delayed (QUEUED, no attempt spent, no worker slot held), the
 * reconciler leaves it alone, and the other tenant's run goes through.
 */
describe('fairness between companies on the execution queue', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let target: Server;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const inFlight: Record<string, number> = {};
  const maxInFlight: Record<string, number> = {};
  let overrides: Record<string, string>;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    target = createServer((request, response) => {
      const tag = request.url?.split('/')[2] ?? '';
      inFlight[tag] = (inFlight[tag] ?? 0) + 1;
      maxInFlight[tag] = Math.max(maxInFlight[tag] ?? 0, inFlight[tag]);
      const held = tag === 'flood' ? gate : Promise.resolve();
      void held
        .then(() => new Promise((resolve) => setTimeout(resolve, 50)))
        .then(() => {
          inFlight[tag]--;
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ tag }));
        });
    });
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
    overrides = {
      EGRESS_ALLOW_PRIVATE_HOSTS: `127.0.0.1:${(target.address() as AddressInfo).port}`,
      EXECUTION_COMPANY_CONCURRENCY: String(CAP),
      EXECUTION_CONCURRENCY: '6',
      EXECUTION_FAIRNESS_DELAY_MS: '50',
      RECONCILE_INTERVAL_MS: '600000',
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
  });

  afterAll(async () => {
    release();
    await app.close();
    target.closeAllConnections();
    await new Promise((resolve) => target.close(resolve));
    await db.drop();
  });

  const tenantPosting = async (platformId: string, tag: string) => {
    const companyId = (await createCompany(db.admin, { type: 'TENANT', parentId: platformId })).id;
    const headers = bearer(
      await login(app, (await createUser(db.admin, { companyId, role: 'member' })).email),
    );
    const entity = await createEntity(db.admin, {
      companyId,
      type: 'ACTION',
      status: 'ACTIVE',
      capabilities: {
        action: {
          kind: 'http',
          method: 'GET',
          url: `http://127.0.0.1:${(target.address() as AddressInfo).port}/work/${tag}`,
        },
      },
    });
    return async (): Promise<string> => {
      const created = await app.inject({
        method: 'POST',
        url: `/api/v1/entities/${entity.id}/runs`,
        headers,
        payload: { input: {} },
      });
      expect(created.statusCode).toBe(202);
      return created.json<{ id: string }>().id;
    };
  };

  it('caps a flooding company across workers while another company runs', async () => {
    const platform = await createCompany(db.admin, { type: 'APP' });
    const postFlood = await tenantPosting(platform.id, 'flood');
    const postOther = await tenantPosting(platform.id, 'other');
    const flood: string[] = [];
    for (let i = 0; i < FLOOD; i++) flood.push(await postFlood());
    // Posted last: without fairness it would wait behind the whole flood.
    const other = await postOther();

    // Two worker processes' worth of consumers: the cap is shared, not per process.
    const workers: INestApplicationContext[] = [
      await startWorker(db, overrides),
      await startWorker(db, overrides),
    ];
    try {
      const statuses = async (ids: string[]) =>
        (await db.admin.executionRun.findMany({ where: { id: { in: ids } } })).map((r) => r.status);
      const statusOf = async (id: string) => (await statuses([id]))[0];

      await until('the other company’s run', async () => (await statusOf(other)) === 'COMPLETED');
      // The flood is held at the server: none of it has finished, yet the other run has.
      expect((await statuses(flood)).filter((s) => s === 'COMPLETED')).toHaveLength(0);

      // Let the deferred jobs cycle a while: the flood never holds more than its cap.
      await until('the flood to hold its slots', () => inFlight.flood === CAP);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(maxInFlight.flood).toBe(CAP);
      const held = await statuses(flood);
      expect(held.filter((s) => s === 'RUNNING')).toHaveLength(CAP);
      expect(held.filter((s) => s === 'QUEUED')).toHaveLength(FLOOD - CAP);

      // Deferred jobs are live delayed jobs to the reconciler: nothing is queued twice.
      const report = await workers[0].get(Reconciler).reconcile(0);
      expect(report.requeued).toEqual([]);
      const queue = workers[0].get<Queue>(getQueueToken('execution'), { strict: false });
      const states = await Promise.all(flood.map(async (id) => (await queue.getJob(id))!.getState()));
      // A deferred job passes through active for a moment on each retry for a slot.
      expect(states.every((s) => ['active', 'delayed', 'waiting'].includes(s))).toBe(true);
      expect(states.filter((s) => s === 'delayed').length).toBeGreaterThan(0);

      release();
      await waitForQueuesDrained(workers[0], 60_000);

      const runs = await db.admin.executionRun.findMany({ where: { id: { in: flood } } });
      expect(runs.map((r) => r.status)).toEqual(Array<string>(FLOOD).fill('COMPLETED'));
      expect(maxInFlight.flood).toBe(CAP);
      expect(
        maxOverlap(runs.map((r) => ({ start: r.startedAt!.getTime(), end: r.completedAt!.getTime() }))),
      ).toBeLessThanOrEqual(CAP);

      // A deferral is not an attempt: every job finished on its first real attempt,
      // though most were picked up (and put back) several times.
      const jobs = await Promise.all(flood.map(async (id) => (await queue.getJob(id))!));
      expect(jobs.map((job) => job.attemptsMade)).toEqual(Array<number>(FLOOD).fill(1));
      expect(jobs.filter((job) => job.attemptsStarted > 1).length).toBeGreaterThanOrEqual(FLOOD - CAP);
      const deferred = await Promise.all(
        workers.map(async (w) => (await w.get(Metrics).executionDeferred.get()).values[0]?.value ?? 0),
      );
      expect(deferred.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(FLOOD - CAP);
    } finally {
      // Closing waits for active jobs: let the held ones finish first.
      release();
      for (const worker of workers) await worker.close();
    }
  }, 90_000);

  describe('company slots', () => {
    const clients: Redis[] = [];
    const slotsOn = (cap = 1) => {
      const redis = new Redis(testRedisUrl());
      clients.push(redis);
      const config = testConfig(db, {
        EXECUTION_COMPANY_CONCURRENCY: String(cap),
        EXECUTION_LOCK_DURATION_MS: '1000',
      });
      return { redis, slots: new CompanySlots(redis, config) };
    };

    afterAll(() => {
      for (const client of clients) client.disconnect();
    });

    it('keeps a renewed lease past its duration and frees it on release', async () => {
      const a = slotsOn();
      const b = slotsOn();
      const lease = await a.slots.tryAcquire('company-renewed', 'job-1');
      expect(lease).not.toBeNull();
      // Three lease durations: only renewals keep it.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(await b.slots.tryAcquire('company-renewed', 'job-2')).toBeNull();
      // The same job taken over by another worker (a stalled job) keeps its slot.
      const takeover = await b.slots.tryAcquire('company-renewed', 'job-1');
      expect(takeover).not.toBeNull();
      await takeover!.release();
      await lease!.release();
      const next = await b.slots.tryAcquire('company-renewed', 'job-2');
      expect(next).not.toBeNull();
      await next!.release();
    });

    it('renews all the leases a process holds and frees those released in one turn together', async () => {
      const a = slotsOn(2);
      const b = slotsOn(2);
      const leases = await Promise.all([
        a.slots.tryAcquire('company-many', 'job-1'),
        a.slots.tryAcquire('company-many', 'job-2'),
      ]);
      expect(leases).not.toContain(null);
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect((await b.slots.holders('company-many')).sort()).toEqual(['job-1', 'job-2']);
      expect(await b.slots.tryAcquire('company-many', 'job-3')).toBeNull();
      await Promise.all(leases.map((lease) => lease!.release()));
      expect(await b.slots.holders('company-many')).toEqual([]);
      // Released twice: still one release.
      await leases[0]!.release();
      const next = await b.slots.tryAcquire('company-many', 'job-3');
      expect(next).not.toBeNull();
      await next!.release();
    });

    it('hands a released lease to the company’s next job in the same process, without a round trip', async () => {
      const a = slotsOn(1);
      const b = slotsOn(1);
      const first = await a.slots.tryAcquire('company-handed', 'job-1');
      const handed = first!.release();
      // Answered before any I/O could be: no Redis round trip.
      const next = await Promise.race([
        a.slots.tryAcquire('company-handed', 'job-2'),
        new Promise<'waited'>((resolve) => setImmediate(() => resolve('waited'))),
      ]);
      expect(next).not.toBe('waited');
      expect(next).not.toBeNull();
      await handed;
      // The company's count never dropped: another process still finds its one slot taken.
      expect(await b.slots.holders('company-handed')).toEqual(['job-2']);
      expect(await b.slots.tryAcquire('company-handed', 'job-3')).toBeNull();
      // A lease nobody takes goes back to Redis once its linger is over.
      await (next as { release(): Promise<void> }).release();
      expect(await b.slots.holders('company-handed')).toEqual([]);
      const other = await b.slots.tryAcquire('company-handed', 'job-3');
      expect(other).not.toBeNull();
      await other!.release();
    });

    it('keeps the lease of a job that comes back while its lease lingers', async () => {
      const a = slotsOn(1);
      const b = slotsOn(1);
      const first = await a.slots.tryAcquire('company-retried', 'job-1');
      const released = first!.release();
      // The same job again (a retry) in the same process: its lease is its own again.
      const again = await a.slots.tryAcquire('company-retried', 'job-1');
      expect(again).not.toBeNull();
      await released;
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await b.slots.holders('company-retried')).toEqual(['job-1']);
      await again!.release();
      expect(await b.slots.holders('company-retried')).toEqual([]);
    });

    it('gives back lingering leases at shutdown, and lets none linger after it', async () => {
      const a = slotsOn(1);
      const b = slotsOn(1);
      const first = await a.slots.tryAcquire('company-closing', 'job-1');
      const lingering = first!.release();
      await a.slots.onApplicationShutdown();
      await lingering;
      expect(await b.slots.holders('company-closing')).toEqual([]);
      // A job that ends while the worker drains gives its slot straight back.
      const last = await a.slots.tryAcquire('company-closing', 'job-2');
      const outcome = await Promise.race([
        last!.release().then(() => 'released'),
        new Promise((resolve) => setTimeout(() => resolve('lingering'), 30)),
      ]);
      expect(outcome).toBe('released');
      expect(await b.slots.holders('company-closing')).toEqual([]);
    });

    it('keeps a job held twice in one process (a stalled job taken over here) until both holds end', async () => {
      const a = slotsOn(1);
      const b = slotsOn(1);
      const first = await a.slots.tryAcquire('company-twice', 'job-1');
      const takeover = await a.slots.tryAcquire('company-twice', 'job-1');
      expect(takeover).not.toBeNull();
      await first!.release();
      // Past any linger: the other hold still keeps the slot.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(await b.slots.holders('company-twice')).toEqual(['job-1']);
      await takeover!.release();
      expect(await b.slots.holders('company-twice')).toEqual([]);
    });

    it('gives the slot of a holder that died without releasing to the next job', async () => {
      const doomed = slotsOn();
      const survivor = slotsOn();
      const abandoned = await doomed.slots.tryAcquire('company-killed', 'job-1');
      expect(abandoned).not.toBeNull();
      // SIGKILL: no release, no more renewals.
      doomed.redis.disconnect();
      expect(await survivor.slots.tryAcquire('company-killed', 'job-2')).toBeNull();
      expect(await survivor.slots.holders('company-killed')).toEqual(['job-1']);
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const lease = await survivor.slots.tryAcquire('company-killed', 'job-2');
      expect(lease).not.toBeNull();
      expect(await survivor.slots.holders('company-killed')).toEqual(['job-2']);
      await lease!.release();
      expect(await survivor.slots.holders('company-killed')).toEqual([]);
      // Only stops the dead holder's renewal timer (its Redis is gone).
      await abandoned!.release();
    });
  });
});
