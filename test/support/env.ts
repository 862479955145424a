import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Repository root. */
export const ROOT = resolve(__dirname, '../..');

// Tests take the same .env a developer has (never overriding variables already set),
// falling back to .env.example so a fresh clone works without copying it.
for (const file of ['.env', '.env.example']) {
  const path = resolve(ROOT, file);
  if (existsSync(path)) process.loadEnvFile(path);
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set for the tests (see .env.example)`);
  return value;
}

/** Connection strings of the local services, as configured for development. */
export const baseEnv = {
  adminUrl: required('DATABASE_ADMIN_URL'),
  appUrl: required('DATABASE_URL'),
  redisUrl: required('REDIS_URL'),
};

/**
 * Parallel test runs on one machine (a developer's suite beside a helper's single file)
 * must not drop each other's databases or flush each other's queues: `TEST_SLOT=N`
 * (a small integer) gives a run its own template, database prefix and Redis database.
 * Unset, slot 0 keeps the usual names.
 */
export const TEST_SLOT = Number(process.env.TEST_SLOT ?? 0);
if (!Number.isInteger(TEST_SLOT) || TEST_SLOT < 0 || TEST_SLOT > 9) {
  throw new Error('TEST_SLOT must be an integer from 0 to 9');
}

export const TEMPLATE_DATABASE = TEST_SLOT
  ? `hirebuddha_test_template_${TEST_SLOT}`
  : 'hirebuddha_test_template';
export const TEST_DATABASE_PREFIX = TEST_SLOT ? `hbs${TEST_SLOT}_test_` : 'hb_test_';

/** The same URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
