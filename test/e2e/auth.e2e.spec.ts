import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { hashRefreshToken } from '../../src/identity/refresh-token';
import { startApi } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { bearer, createCompany, createUser, login, PASSWORD, type Session } from '../factories/tenancy';

describe('auth', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let tenantId: string;
  let partnerId: string;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    app = await startApi(db, { overrides: { LOGIN_LIMIT_PER_EMAIL: '1000', LOGIN_LIMIT_PER_IP: '1000' } });
    const platform = await createCompany(db.admin, { type: 'APP' });
    const partner = await createCompany(db.admin, { type: 'PARTNER', parentId: platform.id });
    const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: partner.id });
    partnerId = partner.id;
    tenantId = tenant.id;
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const newMember = () => createUser(db.admin, { companyId: tenantId, role: 'member' });
  const refresh = (refreshToken: string) =>
    app.inject({ method: 'POST', url: '/api/v1/auth/refresh', payload: { refreshToken } });
  const me = (session: Pick<Session, 'accessToken'>) =>
    app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(session) });
  const familyOf = async (refreshToken: string) =>
    (await db.admin.refreshToken.findUniqueOrThrow({ where: { tokenHash: hashRefreshToken(refreshToken) } }))
      .familyId;

  describe('login', () => {
    it('returns a token pair and the user, never a password hash', async () => {
      const user = await newMember();
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email.toUpperCase(), password: PASSWORD },
      });
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body).toMatchObject({
        expiresIn: 900,
        user: { id: user.id, email: user.email, role: 'member' },
      });
      expect(body.accessToken.split('.')).toHaveLength(3);
      expect(body.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(response.body).not.toMatch(/passwordHash|argon2/);
      // Only the hash of the refresh token is stored.
      const stored = await db.admin.refreshToken.findMany({ where: { userId: user.id } });
      expect(stored).toHaveLength(1);
      expect(stored[0].tokenHash).toBe(hashRefreshToken(body.refreshToken));
      expect(JSON.stringify(stored)).not.toContain(body.refreshToken);
    });

    it('answers unknown email, wrong password and inactive user identically', async () => {
      const user = await newMember();
      const inactive = await createUser(db.admin, { companyId: tenantId, role: 'member', isActive: false });
      const attempts = [
        { email: 'nobody@example.test', password: PASSWORD },
        { email: user.email, password: 'wrong-password-123' },
        { email: inactive.email, password: PASSWORD },
      ];
      const answers = await Promise.all(
        attempts.map((payload) => app.inject({ method: 'POST', url: '/api/v1/auth/login', payload })),
      );
      for (const answer of answers) expect(answer.statusCode).toBe(401);
      const normalise = (body: string): object => ({
        ...(JSON.parse(body) as object),
        requestId: '',
        instance: '',
      });
      expect(new Set(answers.map((a) => JSON.stringify(normalise(a.body)))).size).toBe(1);
      expect(answers[0].json().code).toBe('INVALID_CREDENTIALS');
    });

    it('answers 423 for a user of a suspended company, or below a suspended partner', async () => {
      const platform = await db.admin.company.findFirstOrThrow({ where: { type: 'APP' } });
      const partner = await createCompany(db.admin, {
        type: 'PARTNER',
        parentId: platform.id,
        status: 'suspended',
      });
      const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: partner.id });
      const user = await createUser(db.admin, { companyId: tenant.id, role: 'member' });
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { email: user.email, password: PASSWORD },
      });
      expect(response.statusCode).toBe(423);
      expect(response.json().code).toBe('COMPANY_SUSPENDED');
    });
  });

  describe('refresh', () => {
    it('rotates: the old token is spent and a new one works', async () => {
      const session = await login(app, (await newMember()).email);
      const rotated = await refresh(session.refreshToken);
      expect(rotated.statusCode).toBe(200);
      const next = rotated.json();
      expect(next.refreshToken).not.toBe(session.refreshToken);
      expect(await familyOf(next.refreshToken)).toBe(await familyOf(session.refreshToken));
      expect((await me(next)).statusCode).toBe(200);
    });

    it('treats reuse of a rotated token as theft and revokes the whole family', async () => {
      const session = await login(app, (await newMember()).email);
      const next = (await refresh(session.refreshToken)).json();

      const reuse = await refresh(session.refreshToken);
      expect(reuse.statusCode).toBe(401);
      // The successor minted before the reuse is dead too, and so is the access token of the family.
      expect((await refresh(next.refreshToken)).statusCode).toBe(401);
      expect((await me(next)).statusCode).toBe(401);
      const family = await db.admin.refreshToken.findMany({
        where: { familyId: await familyOf(session.refreshToken) },
      });
      expect(family.every((token) => token.revokedAt !== null)).toBe(true);
    });

    it('mints exactly one successor for 20 parallel refreshes of one token', async () => {
      const session = await login(app, (await newMember()).email);
      const familyId = await familyOf(session.refreshToken);
      const answers = await Promise.all(Array.from({ length: 20 }, () => refresh(session.refreshToken)));
      expect(answers.filter((a) => a.statusCode === 200)).toHaveLength(1);
      expect(answers.filter((a) => a.statusCode === 401)).toHaveLength(19);
      expect(await db.admin.refreshToken.count({ where: { familyId } })).toBe(2);
    });

    it('refuses an unknown or malformed token without a 500', async () => {
      for (const token of ['nope', 'x'.repeat(43), '']) {
        const response = await refresh(token);
        expect([400, 401]).toContain(response.statusCode);
      }
    });

    it('refuses refresh once the company is suspended', async () => {
      const platform = await db.admin.company.findFirstOrThrow({ where: { type: 'APP' } });
      const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: platform.id });
      const session = await login(
        app,
        (await createUser(db.admin, { companyId: tenant.id, role: 'member' })).email,
      );
      await db.admin.company.update({ where: { id: tenant.id }, data: { status: 'suspended' } });
      expect((await me(session)).statusCode).toBe(423);
      const response = await refresh(session.refreshToken);
      expect(response.statusCode).toBe(423);
      expect(response.json().code).toBe('COMPANY_SUSPENDED');
      // The refused refresh also ended the session.
      expect((await me(session)).statusCode).toBe(401);
    });
  });

  describe('session revocation', () => {
    it('logout revokes the family: refresh and access token stop working at once', async () => {
      const session = await login(app, (await newMember()).email);
      const out = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(session),
        payload: { refreshToken: session.refreshToken },
      });
      expect(out.statusCode).toBe(204);
      expect((await refresh(session.refreshToken)).statusCode).toBe(401);
      expect((await me(session)).statusCode).toBe(401);
    });

    it('concurrent requests of live, logged-out and deactivated sessions each get their own answer', async () => {
      // Session checks of requests arriving together share one query; each answer must
      // still be its own request's.
      const live = await login(app, (await newMember()).email);
      const admin = await createUser(db.admin, { companyId: partnerId, role: 'partner_admin' });
      const adminSession = await login(app, admin.email);
      const loggedOut = await login(app, (await newMember()).email);
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(loggedOut),
        payload: { refreshToken: loggedOut.refreshToken },
      });
      const deactivated = await newMember();
      const deactivatedSession = await login(app, deactivated.email);
      await db.admin.user.update({ where: { id: deactivated.id }, data: { isActive: false } });

      const sessions = [live, adminSession, loggedOut, deactivatedSession];
      const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => me(sessions[i % 4])));
      answers.forEach((answer, i) => {
        const session = sessions[i % 4];
        if (session === live || session === adminSession) {
          expect(answer.statusCode).toBe(200);
          expect(answer.json()).toMatchObject({ id: session.user.id, role: session.user.role });
        } else {
          expect(answer.statusCode).toBe(401);
        }
      });
    });

    it('logout leaves the user’s other sessions alone', async () => {
      const user = await newMember();
      const first = await login(app, user.email);
      const second = await login(app, user.email);
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: bearer(first),
        payload: { refreshToken: first.refreshToken },
      });
      expect((await me(second)).statusCode).toBe(200);
    });

    it('password change revokes every family and the new password works', async () => {
      const user = await newMember();
      const first = await login(app, user.email);
      const second = await login(app, user.email);
      const wrong = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/change-password',
        headers: bearer(first),
        payload: { currentPassword: 'not-my-password', newPassword: 'a-brand-new-password' },
      });
      expect(wrong.statusCode).toBe(403);
      const changed = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/change-password',
        headers: bearer(first),
        payload: { currentPassword: PASSWORD, newPassword: 'a-brand-new-password' },
      });
      expect(changed.statusCode).toBe(204);
      for (const session of [first, second]) {
        expect((await me(session)).statusCode).toBe(401);
        expect((await refresh(session.refreshToken)).statusCode).toBe(401);
      }
      await expect(login(app, user.email)).rejects.toThrow(/401/);
      expect((await login(app, user.email, 'a-brand-new-password')).accessToken).toBeTruthy();
    });

    it('rejects a new password shorter than 12 characters', async () => {
      const session = await login(app, (await newMember()).email);
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/change-password',
        headers: bearer(session),
        payload: { currentPassword: PASSWORD, newPassword: 'short' },
      });
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].pointer).toBe('/newPassword');
    });

    it('deactivation revokes the user’s sessions', async () => {
      const user = await newMember();
      const session = await login(app, user.email);
      const admin = await login(
        app,
        (await createUser(db.admin, { companyId: tenantId, role: 'tenant_admin' })).email,
      );
      const response = await app.inject({
        method: 'PATCH',
        url: `/api/v1/users/${user.id}`,
        headers: bearer(admin),
        payload: { isActive: false },
      });
      expect(response.statusCode).toBe(200);
      expect((await me(session)).statusCode).toBe(401);
      expect((await refresh(session.refreshToken)).statusCode).toBe(401);
      expect(await db.admin.refreshToken.count({ where: { userId: user.id, revokedAt: null } })).toBe(0);
    });

    it('suspension by a partner admin revokes the sessions of the tenant’s users', async () => {
      const tenant = await createCompany(db.admin, { type: 'TENANT', parentId: partnerId });
      const member = await createUser(db.admin, { companyId: tenant.id, role: 'member' });
      const session = await login(app, member.email);
      const partnerAdmin = await login(
        app,
        (await createUser(db.admin, { companyId: partnerId, role: 'partner_admin' })).email,
      );
      const response = await app.inject({
        method: 'PATCH',
        url: `/api/v1/companies/${tenant.id}`,
        headers: bearer(partnerAdmin),
        payload: { status: 'suspended' },
      });
      expect(response.statusCode).toBe(200);
      expect(await db.admin.refreshToken.count({ where: { userId: member.id, revokedAt: null } })).toBe(0);
      expect((await me(session)).statusCode).not.toBe(200);
    });
  });

  describe('me', () => {
    it('returns the user with company and effective scope', async () => {
      const partnerAdmin = await createUser(db.admin, { companyId: partnerId, role: 'partner_admin' });
      const session = await login(app, partnerAdmin.email);
      const response = await me(session);
      expect(response.statusCode).toBe(200);
      const body = response.json();
      expect(body.company.id).toBe(partnerId);
      expect(body.scope).toEqual(expect.arrayContaining([partnerId, tenantId]));
      expect(body).not.toHaveProperty('passwordHash');
    });
  });
});
