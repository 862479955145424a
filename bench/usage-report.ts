/**
 * bench/usage-report: GET /api/v1/usage/summary at 10 k and at 1 M ledger rows.
 *
 * Two partners with ten tenants each, in one database: the small one's tenants have
 * 10,000 usage rows in total, the large one's 1,000,000 (the same 30 days, 4 SKUs, 20
 * entities per tenant). Each partner admin asks for the summary of its whole subtree,
 * grouped by company, SKU, entity and day; requests alternate between the two
 * partners (interleaved rounds) and the medians are compared. The ledger rows are
 * written in bulk with SQL and the daily roll-up is built from them with the same
 * grouping the ledger function keeps (usage_settle). Target: large/small < 10 ×.
 *
 * Run: bash scripts/bench.sh usage-report [--smoke]
 */
import 'reflect-metadata';
import { Client } from 'pg';
import prepareTemplate from '../test/setup/global-setup';
import dropTemplate from '../test/setup/global-teardown';
import { startApi } from '../test/support/app';
import { createTestDatabase } from '../test/support/database';
import { flushTestRedis } from '../test/support/redis';
import { bearer, createCompany, createUser, login } from '../test/factories/tenancy';
import { fmt, median, SMOKE, runBenchmark } from './lib';

const SMALL = SMOKE ? 1_000 : 10_000;
const LARGE = SMOKE ? 20_000 : 1_000_000;
const TENANTS = 10;
const ENTITIES = 20;
const DAYS = 30;
const ROUNDS = SMOKE ? 5 : 15;
const GROUPS = ['company', 'sku', 'entity', 'day'] as const;

/** `rows` ledger rows spread evenly over the tenants, days, SKUs and each tenant's entities. */
async function fillLedger(
  admin: Client,
  tenants: string[],
  entities: string[],
  skus: { id: string; sku: string; cost: string }[],
  rows: number,
  tag: string,
) {
  await admin.query(
    `INSERT INTO usage_logs (id, company_id, entity_id, sku_id, service_sku, timestamp, raw_quantity,
                             calculated_cost, idempotency_key)
     SELECT gen_random_uuid(), ($2::uuid[])[1 + t], ($3::uuid[])[1 + t * ${ENTITIES} + e],
            ($4::uuid[])[1 + s], ($5::text[])[1 + s],
            date_trunc('day', now()) - (d || ' days')::interval + ((i % 86400) || ' seconds')::interval,
            100 + i % 900, (100 + i % 900) * ($6::numeric[])[1 + s] / 1000000, $7 || ':' || i
       FROM generate_series(0, $1::int - 1) i,
            -- Mixed radix: consecutive rows walk every (tenant, day, SKU, entity) combination.
            LATERAL (SELECT i % ${TENANTS} AS t, (i / ${TENANTS}) % ${DAYS} AS d,
                            (i / ${TENANTS * DAYS}) % 4 AS s, (i / ${TENANTS * DAYS * 4}) % ${ENTITIES} AS e) k`,
    [rows, tenants, entities, skus.map((s) => s.id), skus.map((s) => s.sku), skus.map((s) => s.cost), tag],
  );
}

async function main(): Promise<void> {
  await prepareTemplate();
  await flushTestRedis();
  const db = await createTestDatabase();
  const app = await startApi(db, {
    overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' },
  });
  const admin = new Client({ connectionString: db.adminUrl });
  await admin.connect();
  try {
    const platform = await createCompany(db.admin, { type: 'APP' });
    const skus: { id: string; sku: string; cost: string }[] = [];
    for (const [kind, cost] of [
      ['input', '3'],
      ['output', '15'],
      ['cache_read', '0.3'],
      ['cache_write', '3.75'],
    ]) {
      const row = await db.admin.integrationRegistry.create({
        data: {
          companyId: platform.id,
          providerName: 'anthropic',
          modelName: 'claude-sonnet-5-5',
          serviceSku: `anthropic/claude-sonnet-5-5:${kind}`,
          componentType: 'llm',
          internalCost: cost,
          costUnit: 'TOKENS_1M',
        },
      });
      skus.push({ id: row.id, sku: row.serviceSku, cost });
    }
    const partners: { name: string; rows: number; headers: Record<string, string> }[] = [];
    for (const [name, rows] of [
      ['small', SMALL],
      ['large', LARGE],
    ] as const) {
      const partner = await createCompany(db.admin, { type: 'PARTNER', parentId: platform.id });
      const tenants: string[] = [];
      const entities: string[] = [];
      for (let i = 0; i < TENANTS; i++) {
        const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: partner.id });
        tenants.push(tenant.id);
        await db.admin.hierarchicalEntity.createMany({
          data: Array.from({ length: ENTITIES }, (_, e) => ({
            companyId: tenant.id,
            type: 'ACTION' as const,
            name: `action_${e}`,
          })),
        });
        const own = await db.admin.hierarchicalEntity.findMany({
          where: { companyId: tenant.id },
          orderBy: { id: 'asc' },
        });
        entities.push(...own.map((entity) => entity.id));
      }
      const started = performance.now();
      await fillLedger(admin, tenants, entities, skus, rows, name);
      console.log(
        `${name}: ${rows} ledger rows written in ${fmt((performance.now() - started) / 1000, 1)} s`,
      );
      const user = await createUser(db.admin, { companyId: partner.id, role: 'partner_admin' });
      partners.push({ name, rows, headers: bearer(await login(app, user.email)) });
    }
    // The roll-up, as usage_settle keeps it row by row.
    await admin.query(
      `INSERT INTO usage_daily (company_id, day, sku_id, entity_id, quantity, cost_usd, calls)
       SELECT company_id, (timestamp AT TIME ZONE 'UTC')::date, sku_id, entity_id,
              sum(raw_quantity), sum(calculated_cost), count(*)
         FROM usage_logs GROUP BY 1, 2, 3, 4`,
    );
    await admin.query('ANALYZE');
    const daily = await admin.query<{ count: string }>('SELECT count(*) FROM usage_daily');
    console.log(`usage_daily: ${daily.rows[0].count} rows in all`);

    const from = new Date(Date.now() - DAYS * 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    console.log(
      `\nGET /api/v1/usage/summary?from=${from}&to=${to}&groupBy=…, as each partner's admin (its ${TENANTS} tenants rolled up)`,
    );
    console.log(`median of ${ROUNDS} interleaved rounds\n`);
    console.log('groupBy   10k rows (ms)   1M rows (ms)   ratio   target < 10 ×');
    let met = true;
    for (const group of GROUPS) {
      const samples: Record<string, number[]> = { small: [], large: [] };
      for (let round = 0; round < ROUNDS + 1; round++) {
        for (const partner of partners) {
          const start = performance.now();
          const response = await app.inject({
            method: 'GET',
            url: `/api/v1/usage/summary?from=${from}&to=${to}&groupBy=${group}`,
            headers: partner.headers,
          });
          const elapsed = performance.now() - start;
          if (response.statusCode !== 200) throw new Error(`summary answered ${response.statusCode}`);
          if (round > 0) samples[partner.name].push(elapsed); // round 0 warms up
        }
      }
      const small = median(samples.small);
      const large = median(samples.large);
      met &&= large / small < 10;
      console.log(
        `${group.padEnd(9)} ${fmt(small).padStart(13)} ${fmt(large).padStart(14)} ${fmt(large / small).padStart(7)} ×  ${large / small < 10 ? 'met' : 'NOT met'}`,
      );
    }
    console.log(`\nall groupings: ${met ? 'met' : 'NOT met'}`);

    // The plan of the largest summary, as the application role under RLS.
    const large = await admin.query<{ id: string }>(
      `SELECT id FROM companies WHERE parent_id = (SELECT parent_id FROM companies WHERE type = 'TENANT'
         ORDER BY id DESC LIMIT 1)`,
    );
    const appClient = new Client({ connectionString: db.appUrl });
    await appClient.connect();
    await appClient.query('BEGIN');
    const ids = `{${large.rows.map((r) => r.id).join(',')}}`;
    await appClient.query(
      `SELECT set_config('app.company_ids', $1, true), set_config('app.catalog_company_ids', $2, true)`,
      [ids, `{${platform.id}}`],
    );
    const plan = await appClient.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, COSTS OFF)
       SELECT d.sku_id::text AS key, min(r.service_sku) AS label, sum(d.quantity)::text, sum(d.cost_usd)::text
         FROM usage_daily d LEFT JOIN integration_registry r ON r.id = d.sku_id
        WHERE d.company_id = ANY ($1::uuid[]) AND d.day >= $2::date AND d.day < $3::date
        GROUP BY d.sku_id ORDER BY 1`,
      [ids, from, to],
    );
    await appClient.query('ROLLBACK');
    await appClient.end();
    console.log('\nplan of groupBy=sku over the 1M-row partner:');
    for (const row of plan.rows) console.log(`  ${row['QUERY PLAN']}`);
  } finally {
    await admin.end();
    await app.close();
    await db.drop();
    await dropTemplate();
  }
}

runBenchmark(main);
