/**
 * bench/entities-list: keyset pagination of the entity registry.
 *
 * One tenant owns 10,000 entities among 30,000 of other tenants. The bench pages
 * through all of the tenant's entities with GET /api/v1/entities (JWT, scope, RLS,
 * Prisma), 50 per page, and compares the time of the first pages with the last
 * ones: with keyset pagination on an index the last page costs what the first does
 * (an OFFSET would grow linearly). It then prints the plan of the query Prisma sends.
 *
 * Run: bash scripts/bench.sh entities-list [--smoke]
 */
import 'reflect-metadata';
import { PrismaPg } from '@prisma/adapter-pg';
import { Client } from 'pg';
import { EntitiesRepository } from '../src/entities/entities.repository';
import { PrismaClient } from '../src/infra/database/generated/client';
import { ScopedDb } from '../src/infra/database/tenant-scope';
import prepareTemplate from '../test/setup/global-setup';
import dropTemplate from '../test/setup/global-teardown';
import { startApi } from '../test/support/app';
import { createTestDatabase, type TestDatabase } from '../test/support/database';
import { flushTestRedis } from '../test/support/redis';
import { bearer, createCompany, createUser, login } from '../test/factories/tenancy';
import { fmt, median, SMOKE, runBenchmark } from './lib';

const PER_TENANT = SMOKE ? 500 : 10_000;
const OTHERS = SMOKE ? 2 : 3;
const PAGE = 50;
let names = 0;

async function fill(db: TestDatabase, companyId: string, count: number): Promise<void> {
  await db.admin.hierarchicalEntity.createMany({
    data: Array.from({ length: count }, () => ({
      companyId,
      type: 'SKILL' as const,
      name: `skill_${names++}`,
    })),
  });
}

async function main(): Promise<void> {
  await prepareTemplate();
  await flushTestRedis();
  const db = await createTestDatabase();
  const app = await startApi(db, {
    overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' },
  });
  try {
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
    const others = [];
    for (let i = 0; i < OTHERS; i++)
      others.push(await createCompany(db.admin, { type: 'TENANT', parentId: platform.id }));
    // Interleaved, as concurrent tenants would create them: the tenant's ids are spread
    // through the whole id range, so the primary key alone cannot serve its pages.
    for (let batch = 0; batch < PER_TENANT / 100; batch++) {
      for (const company of [tenant, ...others]) await fill(db, company.id, 100);
    }
    const admin = new Client({ connectionString: db.adminUrl });
    await admin.connect();
    await admin.query('ANALYZE hierarchical_entities');
    const user = await createUser(db.admin, { companyId: tenant.id, role: 'member' });
    const headers = bearer(await login(app, user.email));

    const timings: number[] = [];
    let cursor: string | null = null;
    let seen = 0;
    do {
      const url: string = `/api/v1/entities?limit=${PAGE}&catalog=exclude${cursor ? `&cursor=${cursor}` : ''}`;
      const start = performance.now();
      const response = await app.inject({ method: 'GET', url, headers });
      timings.push(performance.now() - start);
      const body = response.json<{ items: unknown[]; nextCursor: string | null }>();
      seen += body.items.length;
      cursor = body.nextCursor;
    } while (cursor);

    const head = median(timings.slice(1, 11));
    const tail = median(timings.slice(-10));
    console.log(
      `\nGET /api/v1/entities, ${PAGE} per page, ${seen} entities of one tenant among ${PER_TENANT * (OTHERS + 1)}`,
    );
    console.log(
      `pages: ${timings.length}; median of pages 2–11: ${fmt(head)} ms; median of the last 10: ${fmt(tail)} ms; last/first ${fmt(tail / head)} ×`,
    );
    console.log(
      `target: constant time per page → ${tail / head < 1.5 ? 'met' : 'NOT met'} (last/first < 1.5)`,
    );

    // The SQL Prisma sends for a deep page, as the application role under RLS.
    const logged = new PrismaClient({
      adapter: new PrismaPg({ connectionString: db.appUrl }),
      log: [{ level: 'query', emit: 'event' }],
    });
    const queries: { query: string; params: string }[] = [];
    logged.$on('query', (event) => queries.push({ query: event.query, params: event.params }));
    const middle = await admin.query<{ id: string }>(
      `SELECT id FROM hierarchical_entities WHERE company_id = $1 ORDER BY id OFFSET $2 LIMIT 1`,
      [tenant.id, Math.floor(PER_TENANT * 0.9)],
    );
    const repository = new EntitiesRepository(new ScopedDb(logged as never));
    await repository.list(
      { companyIds: [tenant.id] },
      { catalog: 'exclude' },
      { take: PAGE + 1, afterId: middle.rows[0].id },
    );
    const select = queries.find((q) => q.query.includes('FROM "public"."hierarchical_entities"'))!;
    const app_ = new Client({ connectionString: db.appUrl });
    await app_.connect();
    await app_.query('BEGIN');
    await app_.query(`SELECT set_config('app.company_ids', $1, true)`, [`{${tenant.id}}`]);
    const params = JSON.parse(select.params) as unknown[];
    const plan = await app_.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, COSTS OFF) ${select.query}`,
      params,
    );
    await app_.query('ROLLBACK');
    console.log('\nplan of a page at 90 % depth:');
    for (const row of plan.rows) console.log(`  ${row['QUERY PLAN']}`);
    await app_.end();
    await admin.end();
    await logged.$disconnect();
  } finally {
    await app.close();
    await db.drop();
    await dropTemplate();
  }
}

runBenchmark(main);
