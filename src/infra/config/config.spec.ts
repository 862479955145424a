import { ConfigError, loadEnv } from './config';

const valid = {
  DATABASE_URL: 'postgresql://app:app@127.0.0.1:5432/hb',
  DATABASE_ADMIN_URL: 'postgresql://postgres@127.0.0.1:5432/hb',
  REDIS_URL: 'redis://127.0.0.1:6379',
  JWT_SECRET: 'a-test-secret-that-is-long-enough-0123',
  ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 1).toString('base64')}`,
};

function issuesOf(env: Record<string, string>): string[] {
  try {
    loadEnv(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadEnv', () => {
  it('applies defaults to a minimal valid environment', () => {
    const env = loadEnv({ ...valid });
    expect(env).toMatchObject({
      PORT: 3000,
      NODE_ENV: 'development',
      SHUTDOWN_GRACE_MS: 8000,
      WORKER_HTTP_PORT: 3001,
    });
  });

  it('treats an empty value as unset', () => {
    const env = loadEnv({ ...valid, SMTP_URL: '', PORT: '' });
    expect(env.SMTP_URL).toBeUndefined();
    expect(env.PORT).toBe(3000);
    const { REDIS_URL: _omitted, ...rest } = valid;
    expect(issuesOf({ ...rest, REDIS_URL: '' })).toEqual(['REDIS_URL: is required but not set']);
  });

  it('coerces numbers from strings', () => {
    expect(loadEnv({ ...valid, PORT: '8080' }).PORT).toBe(8080);
  });

  it('names a missing variable', () => {
    const { REDIS_URL: _omitted, ...rest } = valid;
    expect(issuesOf(rest)).toEqual(['REDIS_URL: is required but not set']);
  });

  it('names each malformed variable', () => {
    const issues = issuesOf({ ...valid, PORT: 'eighty', DATABASE_URL: 'mysql://x@y/z', LOG_LEVEL: 'loud' });
    expect(issues.map((issue) => issue.split(':')[0]).sort()).toEqual(['DATABASE_URL', 'LOG_LEVEL', 'PORT']);
    expect(issues.find((issue) => issue.startsWith('DATABASE_URL'))).toContain('postgresql://');
  });

  it('parses the encryption master keys, the first one active, and rejects malformed ones', () => {
    const keys = loadEnv({
      ...valid,
      ENCRYPTION_KEYS: `k2:${Buffer.alloc(32, 2).toString('base64')},${valid.ENCRYPTION_KEYS}`,
    }).ENCRYPTION_KEYS;
    expect(keys.map((k) => k.id)).toEqual(['k2', 'k1']);
    expect(issuesOf({ ...valid, ENCRYPTION_KEYS: 'k1:c2hvcnQ=' })[0]).toMatch(
      /^ENCRYPTION_KEYS: key k1 must be 32 bytes/,
    );
    const { ENCRYPTION_KEYS: _, ...missing } = valid;
    expect(issuesOf(missing)[0]).toMatch(/^ENCRYPTION_KEYS/);
  });

  it('parses the worker’s queue role and refuses unknown queues', () => {
    expect(loadEnv({ ...valid, WORKER_QUEUES: ' execution , maintenance' }).WORKER_QUEUES).toEqual([
      'execution',
      'maintenance',
    ]);
    expect(loadEnv(valid).WORKER_QUEUES).toHaveLength(5);
    expect(issuesOf({ ...valid, WORKER_QUEUES: 'execution,mail' })[0]).toMatch(/^WORKER_QUEUES/);
  });

  it('rejects a short JWT secret and short previous secrets', () => {
    expect(issuesOf({ ...valid, JWT_SECRET: 'short' })[0]).toMatch(/^JWT_SECRET:/);
    expect(issuesOf({ ...valid, JWT_PREVIOUS_SECRETS: `${'x'.repeat(40)}, tiny` })[0]).toMatch(
      /^JWT_PREVIOUS_SECRETS/,
    );
    expect(loadEnv({ ...valid, JWT_PREVIOUS_SECRETS: ` ${'x'.repeat(40)} ,` }).JWT_PREVIOUS_SECRETS).toEqual([
      'x'.repeat(40),
    ]);
  });

  it('rejects a bootstrap password too short to be safe', () => {
    expect(issuesOf({ ...valid, BOOTSTRAP_ADMIN_PASSWORD: 'short' })[0]).toMatch(
      /^BOOTSTRAP_ADMIN_PASSWORD:/,
    );
  });
});
