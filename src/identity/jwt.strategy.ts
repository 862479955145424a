import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy } from 'passport-jwt';
import { AppConfig } from '../infra/config/config';
import type { Caller } from '../tenancy/caller';
import { CompanySuspended } from '../tenancy/tenancy.errors';
import type { AccessClaims } from './access-tokens';
import { AccessTokens } from './access-tokens';
import { AuthRepository } from './auth.repository';
import { Unauthenticated } from './identity.errors';

/** Reads the `kid` of a compact JWS header without trusting anything else in it. */
function kidOf(rawJwt: string): unknown {
  try {
    const header = JSON.parse(Buffer.from(rawJwt.split('.')[0] ?? '', 'base64url').toString('utf8')) as {
      kid?: unknown;
    };
    return header.kid;
  } catch {
    return undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Bearer access tokens: signature (HS256 only), issuer, audience and expiry are
 * checked by passport-jwt; then the user, their company and their session are
 * checked in the database on every request, so deactivation, suspension, logout
 * and password changes take effect at once, not after the token's TTL.
 */
@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(
    config: AppConfig,
    tokens: AccessTokens,
    private readonly auth: AuthRepository,
  ) {
    super({
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKeyProvider: (_request, rawJwt: string, done) => {
        const key = tokens.keys.forKid(kidOf(rawJwt));
        // jsonwebtoken accepts a KeyObject (imported once) where the typings say
        // string | Buffer; a string would be re-imported on every verification.
        if (key) done(null, key as unknown as Buffer);
        else done(new Unauthenticated());
      },
      algorithms: ['HS256'],
      issuer: config.env.JWT_ISSUER,
      audience: config.env.JWT_AUDIENCE,
      ignoreExpiration: false,
    });
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
      scope: { companyIds: principal.scope },
    };
  }
}
