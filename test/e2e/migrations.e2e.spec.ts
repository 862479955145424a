import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { baseEnv, ROOT, TEST_DATABASE_PREFIX, withDatabase } from '../support/env';
import { dropDatabase, withMaintenanceClient } from '../support/postgres';

const run = promisify(execFile);

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function dbCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['scripts/db/cli.mjs', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

/** Every table and column of the data model, as the spec's field names require. */
const EXPECTED_COLUMNS: Record<string, string[]> = {
  companies: [
    'id',
    'name',
    'type',
    'parent_id',
    'status',
    'logo_url',
    'settings',
    'created_at',
    'updated_at',
  ],
  users: [
    'id',
    'company_id',
    'email',
    'password_hash',
    'full_name',
    'role',
    'is_active',
    'is_verified',
    'profile_picture_url',
    'last_login_at',
  ],
  refresh_tokens: ['id', 'user_id', 'token_hash', 'family_id', 'expires_at', 'revoked_at'],
  integration_registry: [
    'id',
    'company_id',
    'provider_name',
    'model_name',
    'service_sku',
    'component_type',
    'internal_cost',
    'cost_unit',
    'encrypted_api_key',
    'api_key_id',
    'base_url',
    'status',
  ],
  hierarchical_entities: [
    'id',
    'company_id',
    'parent_id',
    'type',
    'name',
    'version',
    'status',
    'identity',
    'hierarchy',
    'logic_gate',
    'planning',
    'capabilities',
    'governance',
    'io_contract',
    'observability',
    'metadata_extensions',
  ],
  execution_runs: [
    'id',
    'company_id',
    'entity_id',
    'parent_run_id',
    'status',
    'input_data',
    'context_state',
    'dynamic_plan',
    'result_data',
    'error_code',
    'error_message',
    'total_cost_usd',
    'total_tokens',
    'execution_time_ms',
    'trace_id',
    'span_id',
    'idempotency_key',
  ],
  llm_interaction_logs: [
    'id',
    'run_id',
    'step_key',
    'model_name',
    'reasoning_mode',
    'input_tokens',
    'output_tokens',
    'cache_read_tokens',
    'cache_write_tokens',
    'latency_ms',
    'cost_usd',
  ],
  tool_interaction_logs: ['id', 'run_id', 'step_key', 'tool_name', 'latency_ms'],
  human_approvals: [
    'id',
    'run_id',
    'status',
    'context_snapshot',
    'timeout_ms',
    'responded_by',
    'responded_at',
    'reviewer_notes',
  ],
  usage_logs: [
    'id',
    'company_id',
    'run_id',
    'sku_id',
    'timestamp',
    'raw_quantity',
    'calculated_cost',
    'log_metadata',
    'idempotency_key',
  ],
  documents: ['id', 'company_id', 'entity_id', 'filename', 'upload_status'],
  document_chunks: ['id', 'company_id', 'document_id', 'chunk_index', 'content', 'embedding', 'content_tsv'],
  run_events: ['id', 'run_id', 'type', 'data'],
};

describe('migrations', () => {
  const database = `${TEST_DATABASE_PREFIX}migrate_${process.pid}`;
  const env = {
    DATABASE_ADMIN_URL: withDatabase(baseEnv.adminUrl, database),
    DATABASE_URL: withDatabase(baseEnv.appUrl, database),
  };
  let client: Client;

  beforeAll(async () => {
    await withMaintenanceClient((maintenance) => dropDatabase(maintenance, database));
    const first = await dbCli(['migrate'], env);
    expect(first).toMatchObject({ code: 0 });
    client = new Client({ connectionString: env.DATABASE_ADMIN_URL });
    await client.connect();
  });

  afterAll(async () => {
    await client.end();
    await withMaintenanceClient((maintenance) => dropDatabase(maintenance, database));
  });

  it('creates every table with every column of the data model', async () => {
    const { rows } = await client.query<{ table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'`,
    );
    const actual = new Map<string, Set<string>>();
    for (const row of rows) {
      actual.set(row.table_name, (actual.get(row.table_name) ?? new Set()).add(row.column_name));
    }
    for (const [table, columns] of Object.entries(EXPECTED_COLUMNS)) {
      expect({ table, missing: columns.filter((c) => !actual.get(table)?.has(c)) }).toEqual({
        table,
        missing: [],
      });
    }
  });

  it('creates what Prisma cannot express: pgvector, HNSW and GIN indexes, a generated tsvector', async () => {
    const extension = await client.query(`SELECT extversion FROM pg_extension WHERE extname = 'vector'`);
    expect(extension.rowCount).toBe(1);
    const indexes = await client.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'document_chunks'`,
    );
    const defs = indexes.rows.map((row) => row.indexdef).join('\n');
    expect(defs).toMatch(/USING hnsw \(embedding vector_cosine_ops\)/);
    expect(defs).toMatch(/USING gin \(content_tsv\)/);
    const generated = await client.query<{ is_generated: string }>(
      `SELECT is_generated FROM information_schema.columns WHERE table_name = 'document_chunks' AND column_name = 'content_tsv'`,
    );
    expect(generated.rows[0].is_generated).toBe('ALWAYS');
  });

  it('is idempotent: a second run applies nothing and changes nothing', async () => {
    const before = await client.query(`SELECT migration_name, checksum, finished_at FROM _prisma_migrations`);
    const second = await dbCli(['migrate'], env);
    expect(second.code).toBe(0);
    expect(second.stdout + second.stderr).toMatch(/no pending migrations/);
    const after = await client.query(`SELECT migration_name, checksum, finished_at FROM _prisma_migrations`);
    expect(after.rows).toEqual(before.rows);
  });

  it('lets the application role use the tables without owning them or bypassing RLS', async () => {
    const role = new URL(env.DATABASE_URL).username;
    const { rows } = await client.query<{ rolsuper: boolean; rolbypassrls: boolean; owns: string }>(
      `SELECT rolsuper, rolbypassrls,
              (SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1)::text AS owns
         FROM pg_roles WHERE rolname = $1`,
      [role],
    );
    expect(rows[0]).toEqual({ rolsuper: false, rolbypassrls: false, owns: '0' });
    const company = await client.query<{ id: string }>(
      `INSERT INTO companies (id, name, type) VALUES (gen_random_uuid(), 'x', 'APP') RETURNING id`,
    );
    const app = new Client({ connectionString: env.DATABASE_URL });
    await app.connect();
    try {
      await app.query('BEGIN');
      await app.query(`SELECT set_config('app.company_ids', $1, true)`, [`{${company.rows[0].id}}`]);
      await app.query(
        `INSERT INTO users (id, company_id, email, full_name, role) VALUES (gen_random_uuid(), $1, 'a@b.test', 'A', 'member')`,
        [company.rows[0].id],
      );
      expect((await app.query('SELECT count(*)::int AS n FROM users')).rows[0].n).toBe(1);
      await app.query('ROLLBACK');
      await expect(app.query('CREATE TABLE sneaky (id int)')).rejects.toThrow(/permission denied/);
    } finally {
      await app.end();
    }
  });

  it('reports no drift between the committed schema and migrations', async () => {
    const result = await dbCli(['check'], env);
    expect(result.code).toBe(0);
  });

  describe('drift', () => {
    let dir: string;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'hb-drift-'));
      cpSync(join(ROOT, 'prisma'), dir, { recursive: true });
    });

    const args = () => ['--schema', join(dir, 'schema.prisma'), '--migrations', join(dir, 'migrations')];

    it('is detected when the schema changes without a migration, with the SQL printed', async () => {
      const schemaPath = join(dir, 'schema.prisma');
      const schema = readFileSync(schemaPath, 'utf8').replace(
        '  fullName          String   @map("full_name")',
        '  fullName          String   @map("full_name")\n  nickname          String?',
      );
      expect(schema).toContain('nickname');
      writeFileSync(schemaPath, schema);

      const result = await dbCli(['check', ...args()], env);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toMatch(/ALTER TABLE "users" ADD COLUMN\s+"nickname" TEXT/);
    });

    it('is detected when a migration is missing for a new model', async () => {
      const schemaPath = join(dir, 'schema.prisma');
      writeFileSync(
        schemaPath,
        `${readFileSync(schemaPath, 'utf8')}\nmodel Widget {\n  id String @id @db.Uuid\n  @@map("widgets")\n}\n`,
      );
      const result = await dbCli(['check', ...args()], env);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toContain('CREATE TABLE "widgets"');
    });

    it('writes the missing migration, after which the check passes', async () => {
      const schemaPath = join(dir, 'schema.prisma');
      writeFileSync(
        schemaPath,
        readFileSync(schemaPath, 'utf8').replace(
          '  logoUrl  String?       @map("logo_url")',
          '  logoUrl  String?       @map("logo_url")\n  website  String?',
        ),
      );
      const written = await dbCli(['migration', 'add_website', ...args()], env);
      expect(written.code).toBe(0);
      expect((await dbCli(['check', ...args()], env)).code).toBe(0);
    });
  });
});
