import { z } from 'zod';
import { EnvelopeError, parseMasterKeys } from '../crypto/envelope';

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
  /** Trust X-Forwarded-For (only behind a proxy that sets it): client IPs for rate limits. */
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
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

  /** HS256 key of access tokens (at least 32 characters of randomness). */
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters'),
  /** Comma-separated secrets still accepted for verification while tokens signed
   *  with them expire (rotation: move the old JWT_SECRET here). */
  JWT_PREVIOUS_SECRETS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().min(32, 'every previous secret must be at least 32 characters'))),
  JWT_ISSUER: z.string().min(1).default('hirebuddha'),
  JWT_AUDIENCE: z.string().min(1).default('hirebuddha-api'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** Absolute lifetime of a session (refresh family): rotation never extends it. */
  REFRESH_FAMILY_MAX_DAYS: z.coerce.number().int().min(1).max(730).default(90),
  /** Login attempts allowed per client IP and per email within the window. */
  LOGIN_LIMIT_PER_IP: z.coerce.number().int().min(1).default(30),
  LOGIN_LIMIT_PER_EMAIL: z.coerce.number().int().min(1).default(10),
  LOGIN_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).default(60),

  /** smtp:// or smtps:// URL of the mail relay; unset, mail stays in the outbox table. */
  SMTP_URL: url(['smtp', 'smtps']).optional(),
  MAIL_FROM: z.string().min(3).default('HireBuddha <no-reply@hirebuddha.local>'),
  INVITATION_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(168),
  EMAIL_VERIFICATION_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(48),
  PASSWORD_RESET_TTL_MINUTES: z.coerce.number().int().min(5).max(1440).default(30),
  /** Concurrent jobs per worker process on the notifications queue. */
  NOTIFICATIONS_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(5),

  /** Master keys of secrets at rest (integration API keys): `id:base64(32 bytes)`,
   *  comma-separated, the first one active. Rotation: put a new key first, run
   *  `npm run keys:rotate`, then drop the old one. */
  ENCRYPTION_KEYS: z.string().transform((value, context) => {
    try {
      return parseMasterKeys(value);
    } catch (error) {
      context.addIssue({
        code: 'custom',
        message: error instanceof EnvelopeError ? error.message : 'invalid',
      });
      return z.NEVER;
    }
  }),

  /** Platform-wide Anthropic key: the last fallback after tenant, partner and platform
   *  keys in the integration registry. */
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  /** The SDK's own variable: another Messages API endpoint (a proxy, or the local fake). */
  ANTHROPIC_BASE_URL: z.url().optional(),
  ANTHROPIC_DEFAULT_MODEL: z.string().min(1).default('claude-sonnet-5-5'),
  LLM_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(120_000),
  /** The SDK's retries of 429, 5xx and network errors, with its exponential backoff. */
  LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),

  /** Operator-only escape hatch: host:port pairs (comma-separated) that HTTP actions
   *  and webhooks may reach although they are loopback or private addresses. */
  EGRESS_ALLOW_PRIVATE_HOSTS: z.string().default(''),
  HTTP_ACTION_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(15_000),
  HTTP_ACTION_MAX_RESPONSE_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(50 * 1024 * 1024)
    .default(1024 * 1024),

  /** Default HMAC-SHA256 key of approval webhooks (a channel may set its own secret). */
  WEBHOOK_SIGNING_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),

  /** Largest document upload (bytes); bigger ones get 413. */
  DOCUMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(200 * 1024 * 1024)
    .default(20 * 1024 * 1024),
  /** Chunk size and overlap of ingested documents, in tokens. */
  CHUNK_SIZE_TOKENS: z.coerce.number().int().min(32).max(8_000).default(400),
  CHUNK_OVERLAP_TOKENS: z.coerce.number().int().min(0).max(2_000).default(60),
  /** Texts per embedding request. */
  EMBEDDING_BATCH_SIZE: z.coerce.number().int().min(1).max(1_000).default(64),
  /** Embedding requests per second to a provider, per worker process (a token bucket
   *  in front of the provider's own 429s, which are retried with backoff). */
  EMBEDDING_REQUESTS_PER_SECOND: z.coerce.number().min(0.1).max(1_000).default(10),
  /** Documents a worker process ingests at once. */
  INGESTION_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(2),

  /** The queues this worker process consumes (comma-separated; default all of them), so
   *  workers can be given roles: e.g. `execution,maintenance` and `ingestion`. */
  WORKER_QUEUES: z
    .string()
    .default('execution,ingestion,notifications,webhooks,maintenance')
    .transform((value) =>
      value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.enum(['execution', 'ingestion', 'notifications', 'webhooks', 'maintenance']))
        .min(1, 'name at least one queue'),
    ),

  /** Runs a worker process executes at once (they mostly wait on I/O). */
  EXECUTION_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(10),
  /** How long a worker holds a run's job before another may take it as stalled (it
   *  renews the lock every half of this while alive), and how often workers look for
   *  stalled jobs: a killed worker's run continues elsewhere within about these. */
  EXECUTION_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  EXECUTION_STALLED_INTERVAL_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /** Fairness: runs of one company executing at once across all workers; a job of a
   *  company over its cap is deferred (delayed) instead of taking a worker slot. */
  EXECUTION_COMPANY_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(20),
  /** How long a deferred job waits before it tries for a slot again. */
  EXECUTION_FAIRNESS_DELAY_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  /** Nesting limit of run trees (a root run has depth 0). */
  RUN_MAX_DEPTH: z.coerce.number().int().min(1).max(64).default(8),
  /** Most child runs one run may start (steps, parallel children, tool calls). */
  RUN_MAX_FANOUT: z.coerce.number().int().min(1).max(10_000).default(100),
  /** How often a worker sweeps for runs whose job was lost or that ran too long. */
  RECONCILE_INTERVAL_MS: z.coerce.number().int().min(1_000).default(30_000),
  /** An unfinished run that has not changed for this long is checked for a live job. */
  RECONCILE_STALE_AFTER_MS: z.coerce.number().int().min(0).default(60_000),

  /** Retention: run events, LLM/tool interaction logs and finished queue jobs older
   *  than these are pruned by the maintenance queue (0 keeps them forever). Usage rows
   *  are the billing ledger and are never pruned. */
  RETENTION_RUN_EVENTS_DAYS: z.coerce.number().int().min(0).max(3_650).default(30),
  RETENTION_INTERACTION_LOGS_DAYS: z.coerce.number().int().min(0).max(3_650).default(90),
  RETENTION_JOBS_DAYS: z.coerce.number().int().min(0).max(3_650).default(7),
  RETENTION_INTERVAL_MS: z.coerce.number().int().min(60_000).default(3_600_000),

  /** OpenTelemetry: traces are exported over OTLP/HTTP when this is set, off otherwise. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('hirebuddha'),

  BOOTSTRAP_ADMIN_EMAIL: z.email().optional(),
  BOOTSTRAP_ADMIN_PASSWORD: z.string().min(12).optional(),
});

export type Env = z.infer<typeof envSchema>;
