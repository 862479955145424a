import { TEMPLATE_DATABASE, TEST_DATABASE_PREFIX } from '../support/env';
import { dropDatabase, withMaintenanceClient } from '../support/postgres';

export default async function globalTeardown(): Promise<void> {
  await withMaintenanceClient(async (client) => {
    const clones = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE $1`,
      [`${TEST_DATABASE_PREFIX}%`],
    );
    for (const { datname } of clones.rows) await dropDatabase(client, datname);
    await dropDatabase(client, TEMPLATE_DATABASE);
  });
}
