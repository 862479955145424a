import type { INestApplicationContext } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { startApi, startWorker } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { SmtpSink, tokenIn } from '../support/smtp';
import { bearer, createCompany, createUser, login, PASSWORD } from '../factories/tenancy';
import { median } from '../../bench/lib';
import { waitForQueuesDrained } from '../support/queues';

describe('account lifecycle', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let worker: INestApplicationContext;
  const smtp = new SmtpSink();
  let tenantId: string;
  let adminEmail: string;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    const overrides = {
      SMTP_URL: await smtp.start(),
      PUBLIC_BASE_URL: 'https://app.example.test',
      LOGIN_LIMIT_PER_EMAIL: '1000',
      LOGIN_LIMIT_PER_IP: '1000',
    };
    app = await startApi(db, { overrides });
    worker = await startWorker(db, overrides);
    const platform = await createCompany(db.admin, { type: 'APP' });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id, name: 'Acme' });
    tenantId = tenant.id;
    adminEmail = (await createUser(db.admin, { companyId: tenantId, role: 'tenant_admin' })).email;
  });

  afterAll(async () => {
    await worker.close();
    await app.close();
    await smtp.stop();
    await db.drop();
  });

  const post = (url: string, payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: `/api/v1${url}`, payload, headers });
  const admin = async () => bearer(await login(app, adminEmail));

  describe('invitations', () => {
    it('invites, mails a link, and the invitee accepts, is signed in, and can log in', async () => {
      const invited = await post(
        '/users/invitations',
        { email: 'New.Hire@Example.test', fullName: 'New Hire', role: 'member', companyId: tenantId },
        await admin(),
      );
      expect(invited.statusCode).toBe(201);
      expect(invited.json()).toMatchObject({
        email: 'new.hire@example.test',
        isActive: false,
        isVerified: false,
      });

      const mail = await smtp.waitFor('new.hire@example.test');
      expect(mail.subject).toContain('Acme');
      expect(mail.text).toContain('https://app.example.test/accept-invitation?token=');
      expect(mail.html).toContain('https://app.example.test/accept-invitation?token=');
      await expect(login(app, 'new.hire@example.test', 'a-long-enough-password')).rejects.toThrow(/401/);

      const accepted = await post('/auth/accept-invitation', {
        token: tokenIn(mail),
        password: 'a-long-enough-password',
      });
      expect(accepted.statusCode).toBe(200);
      expect(accepted.json().user).toMatchObject({ isActive: true, isVerified: true });
      expect((await login(app, 'new.hire@example.test', 'a-long-enough-password')).user.role).toBe('member');
      expect(
        (await db.admin.mailOutbox.findFirstOrThrow({ where: { toAddress: 'new.hire@example.test' } }))
          .status,
      ).toBe('sent');
    });

    it('replaces the link when an invitation is sent again, and refuses a registered email', async () => {
      const headers = await admin();
      const body = { email: 'twice@example.test', fullName: 'Twice', role: 'viewer', companyId: tenantId };
      await post('/users/invitations', body, headers);
      const first = tokenIn(await smtp.waitFor('twice@example.test'));
      expect((await post('/users/invitations', body, headers)).statusCode).toBe(201);
      const second = tokenIn(await smtp.waitFor('twice@example.test', 1));
      expect(second).not.toBe(first);
      expect(
        (await post('/auth/accept-invitation', { token: first, password: 'a-long-enough-password' }))
          .statusCode,
      ).toBe(400);
      expect(
        (await post('/auth/accept-invitation', { token: second, password: 'a-long-enough-password' }))
          .statusCode,
      ).toBe(200);
      const again = await post('/users/invitations', body, headers);
      expect(again.statusCode).toBe(409);
    });

    it('applies the same role rules as creating a user', async () => {
      const response = await post(
        '/users/invitations',
        { email: 'boss@example.test', fullName: 'Boss', role: 'app_admin', companyId: tenantId },
        await admin(),
      );
      expect(response.statusCode).toBe(403);
      expect(await db.admin.user.count({ where: { email: 'boss@example.test' } })).toBe(0);
    });
  });

  describe('email verification', () => {
    it('unverifies a changed address, refuses login until it is confirmed, then lets the user in', async () => {
      const user = await createUser(db.admin, { companyId: tenantId, role: 'member' });
      const session = await login(app, user.email);
      const changed = await app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${user.id}`,
        headers: bearer(session),
        payload: { email: 'moved@example.test' },
      });
      expect(changed.statusCode).toBe(200);
      expect(changed.json()).toMatchObject({ email: 'moved@example.test', isVerified: false });

      const refused = await post('/auth/login', { email: 'moved@example.test', password: PASSWORD });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('EMAIL_NOT_VERIFIED');

      const mail = await smtp.waitFor('moved@example.test');
      expect((await post('/auth/verify-email', { token: tokenIn(mail) })).statusCode).toBe(204);
      expect(
        (await post('/auth/login', { email: 'moved@example.test', password: PASSWORD })).statusCode,
      ).toBe(200);
    });

    it('lets unverified users in when their company allows it', async () => {
      const platform = await db.admin.company.findFirstOrThrow({ where: { type: 'APP' } });
      const lenient = await createCompany(db.admin, {
        type: 'TENANT',
        parentId: platform.id,
        name: 'Lenient',
      });
      const user = await createUser(db.admin, { companyId: lenient.id, role: 'member' });
      await db.admin.user.update({ where: { id: user.id }, data: { isVerified: false } });
      expect((await post('/auth/login', { email: user.email, password: PASSWORD })).statusCode).toBe(403);

      // The company's admin opts in through the API.
      const owner = await createUser(db.admin, { companyId: lenient.id, role: 'tenant_admin' });
      const allowed = await app.inject({
        method: 'PATCH',
        url: `/api/v1/companies/${lenient.id}`,
        headers: bearer(await login(app, owner.email)),
        payload: { allowUnverifiedLogin: true },
      });
      expect(allowed.json()).toMatchObject({ allowUnverifiedLogin: true });
      expect((await post('/auth/login', { email: user.email, password: PASSWORD })).statusCode).toBe(200);
    });
  });

  describe('password reset', () => {
    it('mails a link; the reset sets the password and ends every session', async () => {
      const user = await createUser(db.admin, { companyId: tenantId, role: 'member' });
      const session = await login(app, user.email);
      expect((await post('/auth/forgot-password', { email: user.email.toUpperCase() })).statusCode).toBe(202);
      const token = tokenIn(await smtp.waitFor(user.email));

      expect(
        (await post('/auth/reset-password', { token, password: 'the-new-secret-phrase' })).statusCode,
      ).toBe(204);
      expect((await post('/auth/refresh', { refreshToken: session.refreshToken })).statusCode).toBe(401);
      expect(
        (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(session) })).statusCode,
      ).toBe(401);
      await expect(login(app, user.email)).rejects.toThrow(/401/);
      expect((await login(app, user.email, 'the-new-secret-phrase')).user.id).toBe(user.id);
    });

    it('refuses common and short passwords with the same policy everywhere', async () => {
      const user = await createUser(db.admin, { companyId: tenantId, role: 'member' });
      await post('/auth/forgot-password', { email: user.email });
      const token = tokenIn(await smtp.waitFor(user.email));
      for (const password of ['qwerty123456', '1q2w3e4r5t6y', 'short']) {
        const response = await post('/auth/reset-password', { token, password });
        expect(response.statusCode).toBe(400);
        expect(response.json().errors[0].pointer).toBe('/password');
      }
      const created = await post(
        '/users',
        {
          email: 'weak@example.test',
          fullName: 'Weak',
          password: '123qweasdzxc',
          companyId: tenantId,
          role: 'member',
        },
        await admin(),
      );
      expect(created.statusCode).toBe(400);
    });

    it('answers known and unknown addresses identically, in the same time', async () => {
      const user = await createUser(db.admin, { companyId: tenantId, role: 'member' });
      const limited = await startApi(db, {
        overrides: { LOGIN_LIMIT_PER_EMAIL: '100000', LOGIN_LIMIT_PER_IP: '100000' },
      });
      try {
        const ask = async (email: string) => {
          const start = process.hrtime.bigint();
          const response = await limited.inject({
            method: 'POST',
            url: '/api/v1/auth/forgot-password',
            payload: { email },
          });
          const ms = Number(process.hrtime.bigint() - start) / 1e6;
          // Let the deferred work of this request finish, so it cannot slow the next sample.
          await new Promise((resolve) => setTimeout(resolve, 5));
          await waitForQueuesDrained(worker);
          return { ms, response };
        };
        const known: number[] = [];
        const unknown: number[] = [];
        const known2: number[] = [];
        let sample = await ask(user.email);
        const reference = {
          status: sample.response.statusCode,
          body: sample.response.body,
          type: sample.response.headers['content-type'],
        };
        for (let i = 0; i < 50; i++) {
          // Interleaved, so drift affects both alike.
          sample = await ask(user.email);
          known.push(sample.ms);
          expect({
            status: sample.response.statusCode,
            body: sample.response.body,
            type: sample.response.headers['content-type'],
          }).toEqual(reference);
          sample = await ask(`nobody-${i}@example.test`);
          unknown.push(sample.ms);
          expect({
            status: sample.response.statusCode,
            body: sample.response.body,
            type: sample.response.headers['content-type'],
          }).toEqual(reference);
          known2.push((await ask(user.email)).ms);
        }
        // Run-to-run noise: how far two series of the very same request drift apart.
        const noise = Math.abs(median(known) - median(known2));
        const gap = Math.abs(median(known) - median(unknown));
        expect(gap).toBeLessThanOrEqual(Math.max(noise, 0.5));
      } finally {
        await limited.close();
      }
    });
  });

  describe('tokens', () => {
    it('are refused on second use, after expiry, for another purpose, and bind to their own user', async () => {
      const alice = await createUser(db.admin, { companyId: tenantId, role: 'member' });
      const bob = await createUser(db.admin, { companyId: tenantId, role: 'member' });
      await post('/auth/forgot-password', { email: alice.email });
      const token = tokenIn(await smtp.waitFor(alice.email));

      // Another purpose: a reset token does not verify an email or accept an invitation.
      const wrongPurpose = await post('/auth/verify-email', { token });
      expect(wrongPurpose.statusCode).toBe(400);
      expect(wrongPurpose.json().code).toBe('INVALID_TOKEN');
      expect(
        (await post('/auth/accept-invitation', { token, password: 'a-long-enough-password' })).statusCode,
      ).toBe(400);

      // It resets Alice (its user) and nobody else.
      expect((await post('/auth/reset-password', { token, password: 'alice-new-password' })).statusCode).toBe(
        204,
      );
      expect((await login(app, bob.email)).user.id).toBe(bob.id);
      // Second use.
      const again = await post('/auth/reset-password', { token, password: 'alice-other-password' });
      expect(again.statusCode).toBe(400);
      expect(again.json().code).toBe('INVALID_TOKEN');

      // Expiry.
      await post('/auth/forgot-password', { email: bob.email });
      const bobToken = tokenIn(await smtp.waitFor(bob.email));
      await db.admin.userToken.updateMany({
        where: { userId: bob.id },
        data: { expiresAt: new Date(Date.now() - 1000) },
      });
      expect(
        (await post('/auth/reset-password', { token: bobToken, password: 'bob-new-password-1' })).statusCode,
      ).toBe(400);
      expect(await db.admin.userToken.count({ where: { userId: alice.id } })).toBe(1);
      const stored = await db.admin.userToken.findFirstOrThrow({ where: { userId: alice.id } });
      expect(stored.tokenHash).not.toBe(token);
    });
  });

  describe('rate limits', () => {
    it('limits forgot-password and invitation resends per email and per IP', async () => {
      const strict = await startApi(db, {
        overrides: { LOGIN_LIMIT_PER_EMAIL: '2', LOGIN_LIMIT_PER_IP: '4' },
      });
      try {
        await flushTestRedis();
        const forgot = (email: string, ip: string) =>
          strict.inject({
            method: 'POST',
            url: '/api/v1/auth/forgot-password',
            payload: { email },
            remoteAddress: ip,
          });
        expect([
          (await forgot('a@x.test', '10.1.0.1')).statusCode,
          (await forgot('a@x.test', '10.1.0.2')).statusCode,
        ]).toEqual([202, 202]);
        const perEmail = await forgot('a@x.test', '10.1.0.3');
        expect(perEmail.statusCode).toBe(429);
        expect(perEmail.headers['retry-after']).toBeDefined();
        for (let i = 0; i < 4; i++) expect((await forgot(`p${i}@x.test`, '10.2.0.1')).statusCode).toBe(202);
        expect((await forgot('p9@x.test', '10.2.0.1')).statusCode).toBe(429);

        const session = await login(strict, adminEmail);
        const invite = () =>
          strict.inject({
            method: 'POST',
            url: '/api/v1/users/invitations',
            headers: bearer(session),
            payload: {
              email: 'pending@example.test',
              fullName: 'Pending',
              role: 'viewer',
              companyId: tenantId,
            },
            remoteAddress: '10.3.0.1',
          });
        expect((await invite()).statusCode).toBe(201);
        expect((await invite()).statusCode).toBe(201);
        expect((await invite()).statusCode).toBe(429);
      } finally {
        await strict.close();
      }
    });
  });

  it('keeps mail in the outbox when no SMTP relay is configured', async () => {
    const offlineWorker = await startWorker(db, {});
    const offlineApi = await startApi(db, {
      overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' },
    });
    await worker.close();
    try {
      const user = await createUser(db.admin, { companyId: tenantId, role: 'member' });
      await offlineApi.inject({
        method: 'POST',
        url: '/api/v1/auth/forgot-password',
        payload: { email: user.email },
      });
      const deadline = Date.now() + 10_000;
      let row = await db.admin.mailOutbox.findFirst({ where: { toAddress: user.email } });
      while ((!row || row.status === 'pending') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        row = await db.admin.mailOutbox.findFirst({ where: { toAddress: user.email } });
      }
      expect(row).toMatchObject({ status: 'stored' });
      expect(row!.text).toContain('/reset-password?token=');
      expect(smtp.count(user.email)).toBe(0);
    } finally {
      await offlineApi.close();
      await offlineWorker.close();
      worker = await startWorker(db, { SMTP_URL: 'smtp://127.0.0.1:1' });
    }
  });
});
