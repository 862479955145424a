import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { createCompany, createUser, PASSWORD } from '../factories/tenancy';

describe('login throttling', () => {
  let db: TestDatabase;
  // Two API instances sharing one Redis, as two replicas behind a load balancer.
  let apps: [NestFastifyApplication, NestFastifyApplication];
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const overrides = {
      LOGIN_LIMIT_PER_EMAIL: '4',
      LOGIN_LIMIT_PER_IP: '10',
      LOGIN_LIMIT_WINDOW_SECONDS: '60',
    };
    apps = [await startApi(db, { overrides }), await startApi(db, { overrides })];
    const platform = await createCompany(db.admin, { type: 'APP' });
    tenantId = (await createCompany(db.admin, { type: 'TENANT', parentId: platform.id })).id;
  });

  beforeEach(() => flushTestRedis());

  afterAll(async () => {
    for (const app of apps) await app.close();
    await db.drop();
  });

  const attempt = (instance: number, email: string, password: string, ip = '127.0.0.1') =>
    apps[instance].inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { email, password },
      remoteAddress: ip,
    });

  it('limits attempts per email across both instances, with Retry-After', async () => {
    const user = await createUser(db.admin, { companyId: tenantId, role: 'member' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await attempt(i % 2, user.email, 'wrong-password-1', `10.0.0.${i}`)).statusCode);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);

    const limited = await attempt(1, user.email, PASSWORD, '10.0.1.1');
    expect(limited.statusCode).toBe(429); // even the right password waits
    expect(limited.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);

    // Another email from the same addresses is not affected.
    const other = await createUser(db.admin, { companyId: tenantId, role: 'member' });
    expect((await attempt(0, other.email, PASSWORD, '10.0.1.2')).statusCode).toBe(200);
  });

  it('limits attempts per client IP across both instances, whatever the email', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(
        (await attempt(i % 2, `nobody${i}@example.test`, 'wrong-password-1', '192.0.2.7')).statusCode,
      );
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    expect((await attempt(0, 'someone@example.test', 'x-password-123', '192.0.2.8')).statusCode).toBe(401);
  });
});
