/**
 * bench/api-read: GET /api/v1/runs/:id through the platform (Fastify, JWT verify,
 * session/principal check, scope, row-level security, Prisma, the run and its
 * children) against a bare Fastify route running the same two SELECTs through `pg`
 * (owner role, no auth, no RLS), same machine, 50 connections (autocannon) walking
 * 200 runs from different offsets. Also measured: the platform with a session per
 * connection, and the same bare route reading through Prisma (the floor of one query
 * per request through Prisma). Rounds alternate; medians of requests/s are compared.
 * Target: platform ≥ 0.55 × bare.
 *
 * Run: bash scripts/bench.sh api-read [--smoke]
 */
import 'reflect-metadata';
import autocannon from 'autocannon';
import fastify from 'fastify';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../src/infra/database/generated/client';
import prepareTemplate from '../test/setup/global-setup';
import dropTemplate from '../test/setup/global-teardown';
import { startApi } from '../test/support/app';
import { createTestDatabase } from '../test/support/database';
import { flushTestRedis } from '../test/support/redis';
import { createEntity } from '../test/factories/entities';
import { bearer, createCompany, createUser, login } from '../test/factories/tenancy';
import { fmt, median, SMOKE, runBenchmark } from './lib';

const ROUNDS = SMOKE ? 1 : 3;
const SECONDS = SMOKE ? 1 : 8;
const CONNECTIONS = 50;

/** Distinct runs read: each connection walks all of them, starting at its own offset,
 *  so concurrent requests mostly ask for different runs. */
const RUNS = SMOKE ? 10 : 200;

/** Load on one side; connection i sends `sessions[i % sessions.length]` (headers). */
async function load(base: string, paths: string[], sessions: Record<string, string>[]): Promise<number> {
  let client = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: SECONDS,
    setupClient: (c) => {
      const headers = sessions[client % sessions.length];
      const offset = (client++ * 7) % paths.length;
      c.setRequests(
        [...paths.slice(offset), ...paths.slice(0, offset)].map((path) => ({ method: 'GET', path, headers })),
      );
    },
  });
  if (result.non2xx > 0) throw new Error(`${base}: ${result.non2xx} answers were not 2xx`);
  return result.requests.average;
}

async function main(): Promise<void> {
  await prepareTemplate();
  await flushTestRedis();
  const db = await createTestDatabase();
  const app = await startApi(db, {
    // The same pool size on both sides (the tests' default is smaller).
    overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000', DATABASE_POOL_SIZE: '10' },
  });
  await app.listen(0, '127.0.0.1');
  const pool = new Pool({ connectionString: db.adminUrl, max: 10 });
  // A connection ended under it at teardown (the database is dropped) must not crash the bench.
  pool.on('error', () => undefined);
  const bare = fastify();
  bare.get<{ Params: { id: string } }>('/runs/:id', async (request) => {
    const run = await pool.query('SELECT * FROM execution_runs WHERE id = $1', [request.params.id]);
    const children = await pool.query(
      'SELECT id, entity_id, status FROM execution_runs WHERE parent_run_id = $1 ORDER BY id',
      [request.params.id],
    );
    return { ...run.rows[0], children: children.rows };
  });
  await bare.listen({ port: 0, host: '127.0.0.1' });
  // The floor Prisma sets: the same route and reads through Prisma (owner, no auth,
  // no scope, no transaction, the same pool size). The platform cannot beat it.
  const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.adminUrl, max: 10 }) });
  const viaPrisma = fastify();
  viaPrisma.get<{ Params: { id: string } }>('/runs/:id', async (request) => {
    const run = await prisma.executionRun.findUnique({ where: { id: request.params.id } });
    const children = await prisma.executionRun.findMany({
      where: { parentRunId: request.params.id },
      select: { id: true, entityId: true, status: true },
      orderBy: { id: 'asc' },
    });
    // bigint columns become strings, as pg returns them on the bare side.
    return JSON.stringify({ ...run, children }, (_key, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );
  });
  await viaPrisma.listen({ port: 0, host: '127.0.0.1' });
  try {
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    // One member signed in once per connection: the second platform side gives every
    // connection its own session, so no two concurrent requests share a session check.
    const sessions: Record<string, string>[] = [];
    for (let i = 0; i < CONNECTIONS; i++)
      sessions.push(
        bearer(
          await login(app, (await createUser(db.admin, { companyId: tenant.id, role: 'member' })).email),
        ),
      );
    const entity = await createEntity(db.admin, { companyId: tenant.id, type: 'SKILL', status: 'ACTIVE' });
    const runIds: string[] = [];
    for (let r = 0; r < RUNS; r++) {
      const run = await db.admin.executionRun.create({
        data: {
          companyId: tenant.id,
          entityId: entity.id,
          status: 'COMPLETED',
          traceId: 'a'.repeat(32),
          spanId: 'b'.repeat(16),
        },
      });
      await db.admin.executionRun.createMany({
        data: [0, 1, 2].map((i) => ({
          companyId: tenant.id,
          entityId: entity.id,
          parentRunId: run.id,
          rootRunId: run.id,
          status: 'COMPLETED' as const,
          traceId: 'a'.repeat(32),
          spanId: `${i}`.repeat(16),
        })),
      });
      runIds.push(run.id);
    }
    const port = (server: typeof bare) => (server.server.address() as { port: number }).port;
    const apiPaths = runIds.map((id) => `/api/v1/runs/${id}`);
    const barePaths = runIds.map((id) => `/runs/${id}`);
    const sides = {
      platform: { base: await app.getUrl(), paths: apiPaths, sessions: sessions.slice(0, 1) },
      platformSessions: { base: await app.getUrl(), paths: apiPaths, sessions },
      bare: { base: `http://127.0.0.1:${port(bare)}`, paths: barePaths, sessions: [{}] },
      prisma: { base: `http://127.0.0.1:${port(viaPrisma)}`, paths: barePaths, sessions: [{}] },
    };
    type Side = keyof typeof sides;
    const measure = (side: Side) => load(sides[side].base, sides[side].paths, sides[side].sessions);
    const order: Side[] = ['platform', 'platformSessions', 'bare', 'prisma'];
    // Warm every side (JIT, pools, plan caches).
    for (const side of order) await measure(side);
    const samples = Object.fromEntries(order.map((side) => [side, [] as number[]])) as Record<Side, number[]>;
    for (let round = 0; round < ROUNDS; round++)
      for (const side of order) samples[side].push(await measure(side));
    const p = median(samples.platform);
    const ps = median(samples.platformSessions);
    const b = median(samples.bare);
    const f = median(samples.prisma);
    console.log(
      `\nGET a run by id (${RUNS} runs of 3 children, each connection walking them from its own offset), ` +
        `${CONNECTIONS} connections, ${SECONDS} s per round, median of ${ROUNDS} alternating rounds`,
    );
    console.log(`platform (JWT, session check, scope, RLS, Prisma): ${fmt(p, 0)} req/s`);
    console.log(
      `platform, a session per connection:              ${fmt(ps, 0)} req/s (${fmt(ps / b)} × bare)`,
    );
    console.log(`bare Fastify + pg, same SELECTs:                  ${fmt(b, 0)} req/s`);
    console.log(`bare Fastify + Prisma, same reads (floor):     ${fmt(f, 0)} req/s (${fmt(f / b)} × bare)`);
    console.log(`ratio ${fmt(p / b)} × (target ≥ 0.55 ×: ${p / b >= 0.55 ? 'met' : 'NOT met'})`);
  } finally {
    await bare.close();
    await viaPrisma.close();
    await prisma.$disconnect();
    await pool.end();
    await app.close();
    await db.drop();
    await dropTemplate();
  }
}

runBenchmark(main);
