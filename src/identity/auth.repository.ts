import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { loaderPerTurn } from '../infra/database/batched';
import { Prisma, type User } from '../infra/database/generated/client';
import { ScopedDb } from '../infra/database/tenant-scope';

const ROLE = z.enum(['app_admin', 'partner_admin', 'tenant_admin', 'approver', 'member', 'viewer']);

const loginRow = z.object({
  id: z.string(),
  company_id: z.string(),
  role: ROLE,
  password_hash: z.string().nullable(),
  is_active: z.boolean(),
  is_verified: z.boolean(),
  suspended: z.boolean(),
  allow_unverified: z.boolean(),
});
export type LoginCandidate = z.infer<typeof loginRow>;

const principalRow = z.object({
  id: z.string(),
  company_id: z.string(),
  role: ROLE,
  email: z.string(),
  is_active: z.boolean(),
  suspended: z.boolean(),
  session_active: z.boolean(),
  scope: z.array(z.string()),
  catalog: z.array(z.string()),
});
export type PrincipalRow = z.infer<typeof principalRow>;

const userRow = z.object({
  id: z.string(),
  company_id: z.string(),
  email: z.string(),
  password_hash: z.string().nullable(),
  full_name: z.string(),
  role: ROLE,
  is_active: z.boolean(),
  is_verified: z.boolean(),
  profile_picture_url: z.string().nullable(),
  last_login_at: z.date().nullable(),
  created_at: z.date(),
  updated_at: z.date(),
});

const rotatedRow = z.object({ user_id: z.string(), family_id: z.string() });

/** A session's identity as Postgres prints uuids (lower case). */
const keyOf = (userId: string, familyId: string) => `${userId}/${familyId}`.toLowerCase();

/**
 * Authentication's reads and writes. They run before a caller's scope exists, so
 * user lookups go through SECURITY DEFINER functions (see the row_level_security
 * migration) that return only what authentication needs.
 */
@Injectable()
export class AuthRepository {
  constructor(private readonly db: ScopedDb) {}

  async findLoginCandidate(email: string): Promise<LoginCandidate | null> {
    const rows = await this.db.unscoped.$queryRaw<unknown[]>`SELECT * FROM auth_user_by_email(${email})`;
    return rows.length ? loginRow.parse(rows[0]) : null;
  }

  /** Session checks of requests that arrive together share one query (loaderPerTurn). */
  private readonly principals = loaderPerTurn(
    (keys: readonly { userId: string; familyId: string }[]) => this.loadPrincipals(keys),
    (key) => keyOf(key.userId, key.familyId),
  );

  /** The user behind a token, the state of its session, and its role's scope. */
  findPrincipal(userId: string, familyId: string): Promise<PrincipalRow | null> {
    return this.principals.load({ userId, familyId });
  }

  private async loadPrincipals(
    keys: readonly { userId: string; familyId: string }[],
  ): Promise<(PrincipalRow | null)[]> {
    // On the pool directly: one prepared statement, no Prisma on the way of every request.
    const rows = await this.db.rows(Prisma.sql`
      SELECT * FROM auth_principals(${keys.map((key) => key.userId)}::uuid[],
                                    ${keys.map((key) => key.familyId)}::uuid[])`);
    const found = new Map(
      rows.map((row) => {
        const { key_user, key_family } = row as { key_user: string; key_family: string };
        return [keyOf(key_user, key_family), principalRow.parse(row)];
      }),
    );
    return keys.map((key) => found.get(keyOf(key.userId, key.familyId)) ?? null);
  }

  /** Records the login and opens the session (first token of a new family) in one
   *  round trip; returns the user. */
  async startSession(session: {
    userId: string;
    tokenId: string;
    tokenHash: string;
    familyId: string;
    expiresAt: Date;
    familyExpiresAt: Date;
  }): Promise<User> {
    const rows = await this.db.unscoped.$queryRaw<unknown[]>`
      SELECT * FROM auth_start_session(${session.userId}::uuid, ${session.tokenId}::uuid, ${session.tokenHash},
        ${session.familyId}::uuid, ${session.expiresAt}, ${session.familyExpiresAt})`;
    const row = userRow.parse(rows[0]);
    return {
      id: row.id,
      companyId: row.company_id,
      email: row.email,
      passwordHash: row.password_hash,
      fullName: row.full_name,
      role: row.role,
      isActive: row.is_active,
      isVerified: row.is_verified,
      profilePictureUrl: row.profile_picture_url,
      lastLoginAt: row.last_login_at,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  /**
   * Rotates a refresh token in one statement: the presented token is spent by a
   * conditional update and its successor inserted in the same family, so of any
   * number of parallel refreshes exactly one mints a successor. Null when the token
   * is unknown, already spent or expired.
   */
  async rotateRefreshToken(
    presentedHash: string,
    successor: { id: string; tokenHash: string; ttlDays: number },
  ): Promise<{ userId: string; familyId: string } | null> {
    const rows = await this.db.unscoped.$queryRaw<unknown[]>`
      WITH spent AS (
        UPDATE refresh_tokens SET revoked_at = now()
         WHERE token_hash = ${presentedHash} AND revoked_at IS NULL
           AND expires_at > now() AND family_expires_at > now()
        RETURNING user_id, family_id, family_expires_at
      )
      INSERT INTO refresh_tokens (id, user_id, token_hash, family_id, expires_at, family_expires_at)
      SELECT ${successor.id}::uuid, user_id, ${successor.tokenHash}, family_id,
             least(now() + make_interval(days => ${successor.ttlDays}::int), family_expires_at), family_expires_at
        FROM spent
      RETURNING user_id, family_id`;
    if (!rows.length) return null;
    const row = rotatedRow.parse(rows[0]);
    return { userId: row.user_id, familyId: row.family_id };
  }

  async findFamilyOf(tokenHash: string): Promise<{ familyId: string; userId: string } | null> {
    const token = await this.db.unscoped.refreshToken.findUnique({
      where: { tokenHash },
      select: { familyId: true, userId: true },
    });
    return token;
  }

  async revokeFamily(familyId: string): Promise<void> {
    await this.db.unscoped.refreshToken.updateMany({
      where: { familyId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
  }

  async revokeAllOfUser(userId: string): Promise<void> {
    await this.db.unscoped.refreshToken.updateMany({
      where: { userId, revokedAt: null },
      data: { revokedAt: new Date() },
    });
  }
}
