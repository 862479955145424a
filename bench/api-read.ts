/**
 * bench/api-read: GET /api/v1/runs/:id through the platform (Fastify, JWT verify,
 * session/principal check, scope, row-level security, Prisma, the run and its
 * children) against a bare Fastify route running the same two SELECTs through `pg`
 * (owner role, no auth, no RLS), same machine, same run row, 50 connections
 * (autocannon). Rounds alternate between the two; medians of requests/s are compared.
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

async function load(url: string, headers: Record<string, string>): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  if (result.non2xx > 0) throw new Error(`${url}: ${result.non2xx} answers were not 2xx`);
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
    const user = await createUser(db.admin, { companyId: tenant.id, role: 'member' });
    const headers = bearer(await login(app, user.email));
    const entity = await createEntity(db.admin, { companyId: tenant.id, type: 'SKILL', status: 'ACTIVE' });
    const run = await db.admin.executionRun.create({
      data: {
        companyId: tenant.id,
        entityId: entity.id,
        status: 'COMPLETED',
        traceId: 'a'.repeat(32),
        spanId: 'b'.repeat(16),
      },
    });
    for (let i = 0; i < 3; i++)
      await db.admin.executionRun.create({
        data: {
          companyId: tenant.id,
          entityId: entity.id,
          parentRunId: run.id,
          rootRunId: run.id,
          status: 'COMPLETED',
          traceId: 'a'.repeat(32),
          spanId: `${i}`.repeat(16),
        },
      });
    const platformUrl = `${await app.getUrl()}/api/v1/runs/${run.id}`;
    const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}/runs/${run.id}`;
    const prismaUrl = `http://127.0.0.1:${(viaPrisma.server.address() as { port: number }).port}/runs/${run.id}`;
    // Warm both (JIT, pools, plan caches).
    await load(platformUrl, headers);
    await load(bareUrl, {});
    await load(prismaUrl, {});
    const samples = { platform: [] as number[], bare: [] as number[], prisma: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      samples.platform.push(await load(platformUrl, headers));
      samples.bare.push(await load(bareUrl, {}));
      samples.prisma.push(await load(prismaUrl, {}));
    }
    const p = median(samples.platform);
    const b = median(samples.bare);
    const f = median(samples.prisma);
    console.log(
      `\nGET a run by id, ${CONNECTIONS} connections, ${SECONDS} s per round, median of ${ROUNDS} alternating rounds`,
    );
    console.log(`platform (JWT, session check, scope, RLS, Prisma): ${fmt(p, 0)} req/s`);
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
