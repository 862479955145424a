import { createHmac } from 'node:crypto';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SignJWT } from 'jose';
import { startApi, TEST_JWT_SECRET } from '../support/app';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { flushTestRedis } from '../support/redis';
import { createCompany, createUser, login, type Session } from '../factories/tenancy';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('access token tampering', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  let session: Session;
  let claims: Record<string, unknown>;
  let header: Record<string, unknown>;

  beforeAll(async () => {
    await flushTestRedis();
    db = await createTestDatabase();
    app = await startApi(db);
    const platform = await createCompany(db.admin, { type: 'APP' });
    const user = await createUser(db.admin, { companyId: platform.id, role: 'app_admin' });
    session = await login(app, user.email);
    const [h, p] = session.accessToken.split('.');
    header = JSON.parse(Buffer.from(h, 'base64url').toString());
    claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const me = (authorization?: string) =>
    app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: authorization ? { authorization } : {} });

  /** Signs arbitrary header and claims with HS256 under `secret`. */
  const forge = (h: object, c: object, secret = TEST_JWT_SECRET) => {
    const input = `${b64(h)}.${b64(c)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };

  it('accepts the genuine token, and one forged with the right secret (so the forgeries below test what they say)', async () => {
    expect((await me(`Bearer ${session.accessToken}`)).statusCode).toBe(200);
    expect((await me(`Bearer ${forge(header, { ...claims, jti: 'another' })}`)).statusCode).toBe(200);
  });

  const cases: [string, () => string | Promise<string> | undefined][] = [
    ['no Authorization header', () => undefined],
    ['a non-bearer scheme', () => `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['garbage', () => 'Bearer not.a.jwt'],
    ['alg none', () => `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`],
    ['signature stripped', () => `Bearer ${session.accessToken.split('.').slice(0, 2).join('.')}.`],
    ['signature of another token', () => `Bearer ${session.accessToken.slice(0, -4)}AAAA`],
    [
      'claims changed, signature kept',
      () => {
        const [h, , s] = session.accessToken.split('.');
        return `Bearer ${h}.${b64({ ...claims, role: 'app_admin', sub: '00000000-0000-0000-0000-000000000000' })}.${s}`;
      },
    ],
    [
      'wrong secret',
      () => `Bearer ${forge(header, claims, 'another-secret-that-is-long-enough-0123456789')}`,
    ],
    ['expired', () => `Bearer ${forge(header, { ...claims, iat: 1_000, exp: 2_000 })}`],
    ['wrong issuer', () => `Bearer ${forge(header, { ...claims, iss: 'evil' })}`],
    ['wrong audience', () => `Bearer ${forge(header, { ...claims, aud: 'another-api' })}`],
    ['unknown key id', () => `Bearer ${forge({ ...header, kid: 'nope' }, claims)}`],
    [
      'HS512 instead of the pinned HS256',
      async () =>
        `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'HS512', kid: header.kid as string }).sign(Buffer.from(TEST_JWT_SECRET))}`,
    ],
    [
      'not an access token (typ missing)',
      () => {
        const { typ: _typ, ...rest } = claims;
        return `Bearer ${forge(header, rest)}`;
      },
    ],
    ['a subject that is not a uuid', () => `Bearer ${forge(header, { ...claims, sub: "1' OR '1'='1" })}`],
    [
      'a session that does not exist',
      () => `Bearer ${forge(header, { ...claims, sid: '00000000-0000-7000-8000-000000000000' })}`,
    ],
    ['the refresh token used as a bearer', () => `Bearer ${session.refreshToken}`],
  ];

  it.each(cases)('answers 401 problem+json, never 500: %s', async (_name, make) => {
    const response = await me(await make());
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('accepts tokens signed with a previous secret during a rotation, and only those listed', async () => {
    const old = 'the-previous-secret-that-is-long-enough-0123';
    const rotated = await startApi(db, {
      overrides: { JWT_SECRET: 'the-new-secret-that-is-long-enough-0123456', JWT_PREVIOUS_SECRETS: old },
    });
    try {
      const { createHash } = await import('node:crypto');
      const kid = createHash('sha256').update(old).digest('hex').slice(0, 12);
      const signedWithOld = forge({ ...header, kid }, claims, old);
      const answer = await rotated.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: `Bearer ${signedWithOld}` },
      });
      expect(answer.statusCode).toBe(200);
      // The token of the un-rotated app was signed with a secret no longer listed.
      const stale = await rotated.inject({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: `Bearer ${session.accessToken}` },
      });
      expect(stale.statusCode).toBe(401);
    } finally {
      await rotated.close();
    }
  });
});
