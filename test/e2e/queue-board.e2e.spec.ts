import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { bearer, createWorld, login, type World } from '../factories/tenancy';

describe('the queue dashboard (Bull Board) at /admin/queues', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let base: string;
  let world: World;
  let browser: Browser;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    app = await startApi(db, { overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' } });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    world = await createWorld(db.admin);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app.close();
    await db.drop();
  });

  it('answers 404 to anyone but an app admin', async () => {
    const tenant = world.partners[0].tenants[0];
    for (const user of [world.partners[0].admin, tenant.users.tenant_admin, tenant.users.member]) {
      const response = await fetch(`${base}/admin/queues`, { headers: bearer(await login(app, user.email)) });
      expect(response.status).toBe(404);
    }
    expect((await fetch(`${base}/admin/queues`)).status).toBe(404);
    expect(
      (await fetch(`${base}/admin/queues/api/queues`, { headers: { authorization: 'Bearer forged' } }))
        .status,
    ).toBe(404);
  });

  it('renders the queues for an app admin, in headless Chromium', async () => {
    const headers = bearer(await login(app, world.appAdmin.email));
    const context = await browser.newContext({ extraHTTPHeaders: headers });
    const page = await context.newPage();
    const response = await page.goto(`${base}/admin/queues`);
    expect(response?.status()).toBe(200);
    for (const queue of ['execution', 'ingestion', 'webhooks', 'maintenance'])
      await page.getByText(queue, { exact: false }).first().waitFor({ timeout: 20_000 });
    await context.close();
  }, 60_000);
});
