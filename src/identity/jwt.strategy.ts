import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { Caller } from '../tenancy/caller';
import { CompanySuspended } from '../tenancy/tenancy.errors';
import { AccessTokens, type AccessClaims } from './access-tokens';
import { AuthRepository } from './auth.repository';
import { BearerTokenStrategy } from './bearer-token.strategy';
import { Unauthenticated } from './identity.errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Bearer access tokens. After the signature and claims check (AccessTokens), the
 * user, their company and their session are checked in the database on every
 * request, so deactivation, suspension, logout and password changes take effect at
 * once, not after the token's TTL.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(BearerTokenStrategy, 'jwt') {
  constructor(
    tokens: AccessTokens,
    private readonly auth: AuthRepository,
  ) {
    super((token: string) => tokens.verify(token));
  }

  async validate(claims: Partial<AccessClaims>): Promise<Caller> {
    if (
      claims.typ !== 'access' ||
      !claims.sub ||
      !claims.sid ||
      !UUID.test(claims.sub) ||
      !UUID.test(claims.sid)
    ) {
      throw new Unauthenticated();
    }
    const principal = await this.auth.findPrincipal(claims.sub, claims.sid);
    if (!principal || !principal.is_active || !principal.session_active) throw new Unauthenticated();
    if (principal.suspended) throw new CompanySuspended();
    return {
      userId: principal.id,
      companyId: principal.company_id,
      role: principal.role,
      email: principal.email,
      sessionId: claims.sid,
      scope: { companyIds: principal.scope, catalogCompanyIds: principal.catalog },
    };
  }
}
