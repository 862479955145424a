import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import { envSchema, type Env } from './env.schema';

/** Raised when the environment is unusable; entrypoints print it and exit 1. */
export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * Parses the environment (after `.env`, which never overrides variables already set).
 * Any other record is parsed as given, so tests can feed it what they like.
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const envFile = resolve('.env');
  if (source === process.env && existsSync(envFile)) process.loadEnvFile(envFile);
  // An empty value (`SMTP_URL=` in .env) means "not set", as most tools read it.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.') || '(root)';
        const received = issue.code === 'invalid_type' && present[name] === undefined;
        return received ? `${name}: is required but not set` : `${name}: ${issue.message}`;
      }),
    );
  }
  return parsed.data;
}

/** Typed, read-only configuration. Code injects this, never reads process.env. */
export class AppConfig {
  constructor(readonly env: Readonly<Env>) {}
}
