import { randomBytes } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../src/infra/database/generated/client';
import { baseEnv, TEMPLATE_DATABASE, TEST_DATABASE_PREFIX, withDatabase } from './env';
import { dropDatabase, quoteIdent, withMaintenanceClient } from './postgres';

export interface TestDatabase {
  name: string;
  /** Owner role: factories and assertions that must see every row. */
  adminUrl: string;
  /** Application role, as the platform connects. */
  appUrl: string;
  /** Prisma on the owner connection, for factories and before/after comparisons. */
  admin: PrismaClient;
  drop(): Promise<void>;
}

/** A fresh clone of the migrated template, for one test file. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DATABASE_PREFIX}${randomBytes(5).toString('hex')}`;
  await withMaintenanceClient((client) =>
    client.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(TEMPLATE_DATABASE)}`),
  );
  const adminUrl = withDatabase(baseEnv.adminUrl, name);
  const admin = new PrismaClient({ adapter: new PrismaPg({ connectionString: adminUrl, max: 2 }) });
  return {
    name,
    adminUrl,
    appUrl: withDatabase(baseEnv.appUrl, name),
    admin,
    async drop() {
      await admin.$disconnect();
      await withMaintenanceClient((client) => dropDatabase(client, name));
    },
  };
}
