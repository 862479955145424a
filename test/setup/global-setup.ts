import { execFileSync } from 'node:child_process';
import { baseEnv, ROOT, TEMPLATE_DATABASE, TEST_DATABASE_PREFIX, withDatabase } from '../support/env';
import { dropDatabase, quoteIdent, withMaintenanceClient } from '../support/postgres';

/**
 * Once per `npm test`: a template database migrated with the project's own
 * migration command. Each test file clones it (CREATE DATABASE … TEMPLATE), which
 * takes a fraction of a second instead of a full migration.
 */
export default async function globalSetup(): Promise<void> {
  await withMaintenanceClient(async (client) => {
    const leftovers = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`${TEST_DATABASE_PREFIX}%`],
    );
    for (const { datname } of leftovers.rows) await dropDatabase(client, datname);
    await dropDatabase(client, TEMPLATE_DATABASE);
    await client.query(`CREATE DATABASE ${quoteIdent(TEMPLATE_DATABASE)}`);
  });
  execFileSync(process.execPath, ['scripts/db/cli.mjs', 'migrate'], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_ADMIN_URL: withDatabase(baseEnv.adminUrl, TEMPLATE_DATABASE),
      DATABASE_URL: withDatabase(baseEnv.appUrl, TEMPLATE_DATABASE),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
