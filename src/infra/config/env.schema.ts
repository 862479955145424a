import { z } from 'zod';

const url = (protocols: string[]) =>
  z.url().refine((value) => protocols.some((p) => value.startsWith(`${p}://`)), {
    message: `must start with ${protocols.map((p) => `${p}://`).join(' or ')}`,
  });

const port = z.coerce.number().int().min(1).max(65535);

/**
 * Every environment variable the platform reads, parsed once at boot.
 * `.env.example` documents each one; keep the two in step.
 */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: port.default(3000),
  PUBLIC_BASE_URL: z.url().default('http://localhost:3000'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** Application role: no table ownership, no BYPASSRLS. */
  DATABASE_URL: url(['postgresql', 'postgres']),
  /** Owner role: migrations and the first-start bootstrap only. */
  DATABASE_ADMIN_URL: url(['postgresql', 'postgres']),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  REDIS_URL: url(['redis', 'rediss']),

  /** Time the process gives in-flight requests and jobs to finish after SIGTERM. */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(8_000),
  /** The worker's own small HTTP server: health and metrics only. */
  WORKER_HTTP_PORT: port.default(3001),

  BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).optional(),
});

export type Env = z.infer<typeof envSchema>;
