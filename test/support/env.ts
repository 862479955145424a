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

export const TEMPLATE_DATABASE = 'hirebuddha_test_template';
export const TEST_DATABASE_PREFIX = 'hb_test_';

/** The same URL pointing at another database. */
export function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
}
