import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../support/browser';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { waitForQueuesDrained } from '../support/queues';
import { flushTestRedis } from '../support/redis';
import { createEntity } from '../factories/entities';
import { bearer, createWorld, login, PASSWORD, type World } from '../factories/tenancy';

describe('the approvals inbox page, in headless Chromium', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  let browser: Browser;
  let base: string;
  let world: World;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const overrides = { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' };
    app = await startApi(db, { overrides });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
    worker = await startWorker(db, overrides);
    world = await createWorld(db.admin);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await worker.close();
    await app.close();
    await db.drop();
  });

  it('logs in, shows pending approvals with their context, approves with an edit and rejects with notes', async () => {
    const tenant = world.partners[0].tenants[0];
    const member = bearer(await login(app, tenant.users.member.email));
    const make = (template: string) =>
      createEntity(db.admin, {
        companyId: tenant.company.id,
        type: 'ACTION',
        status: 'ACTIVE',
        capabilities: { action: { kind: 'builtin', name: 'text.template', args: { template } } },
      }).then((entity) =>
        db.admin.hierarchicalEntity.update({
          where: { id: entity.id },
          data: { governance: { approvals: [{ trigger: 'before_run' }] } },
        }),
      );
    const runIds: string[] = [];
    for (const [template, input] of [
      ['hello {{input.name}}', { name: 'Ada' }],
      ['bye {{input.name}}', { name: '<img src=x onerror=alert(1)>' }],
    ] as const) {
      const entity = await make(template);
      const created = await app.inject({
        method: 'POST',
        url: `/api/v1/entities/${entity.id}/runs`,
        headers: member,
        payload: { input },
      });
      runIds.push(created.json().id);
    }
    await waitForQueuesDrained(worker, 30_000);
    const approvals = await db.admin.humanApproval.findMany({
      where: { runId: { in: runIds } },
      orderBy: { id: 'asc' },
    });

    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const response = await page.goto(`${base}/console/approvals`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.fill('input[name=email]', tenant.users.approver.email);
    await page.fill('input[name=password]', PASSWORD);
    await page.click('button[type=submit]');
    const first = page.locator(`#approval-${approvals[0].id}`);
    const second = page.locator(`#approval-${approvals[1].id}`);
    await first.waitFor();
    await expect(first.locator('pre').textContent()).resolves.toContain('"name": "Ada"');
    // Model or user text is shown as text, never run as HTML.
    await expect(second.locator('pre').textContent()).resolves.toContain('<img src=x onerror=alert(1)>');
    expect(await second.locator('img').count()).toBe(0);

    await first.locator('textarea').fill(JSON.stringify({ name: 'Grace' }));
    await first.locator('input[name=notes]').fill('renamed');
    await first.getByRole('button', { name: 'Approve' }).click();
    await first.getByText('Approved.').waitFor();
    await second.locator('input[name=notes]').fill('not today');
    await second.getByRole('button', { name: 'Reject' }).click();
    await second.getByText('Rejected.').waitFor();
    expect(dialogs).toEqual([]);

    await waitForQueuesDrained(worker, 30_000);
    const [approved, rejected] = await db.admin.humanApproval.findMany({
      where: { id: { in: approvals.map((a) => a.id) } },
      orderBy: { id: 'asc' },
    });
    expect(approved).toMatchObject({
      status: 'APPROVED',
      editedInput: { name: 'Grace' },
      reviewerNotes: 'renamed',
      respondedBy: tenant.users.approver.id,
    });
    expect(rejected).toMatchObject({ status: 'REJECTED', reviewerNotes: 'not today' });
    const runs = await db.admin.executionRun.findMany({
      where: { id: { in: runIds } },
      orderBy: { id: 'asc' },
    });
    expect(runs.map((r) => [r.status, r.resultData])).toEqual([
      ['COMPLETED', 'hello Grace'],
      ['REJECTED', null],
    ]);
    await page.close();
  }, 60_000);
});
