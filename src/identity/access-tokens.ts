import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import type { UserRole } from '../infra/database/generated/client';
import { AppConfig } from '../infra/config/config';
import { TokenKeys } from './token-keys';

export interface AccessClaims {
  sub: string;
  cid: string;
  role: UserRole;
  /** Session: the refresh family this token was minted with. */
  sid: string;
  jti: string;
  typ: 'access';
}

/** Signs access tokens (HS256, pinned) with the current key; JwtStrategy verifies. */
@Injectable()
export class AccessTokens {
  readonly keys: TokenKeys;

  constructor(private readonly config: AppConfig) {
    this.keys = new TokenKeys(config.env.JWT_SECRET, config.env.JWT_PREVIOUS_SECRETS);
  }

  get ttlSeconds(): number {
    return this.config.env.ACCESS_TOKEN_TTL_SECONDS;
  }

  sign(user: { id: string; companyId: string; role: UserRole }, sessionId: string): Promise<string> {
    const claims: Omit<AccessClaims, 'sub'> = {
      cid: user.companyId,
      role: user.role,
      sid: sessionId,
      jti: randomUUID(),
      typ: 'access',
    };
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: this.keys.current.kid })
      .setSubject(user.id)
      .setIssuer(this.config.env.JWT_ISSUER)
      .setAudience(this.config.env.JWT_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${this.ttlSeconds}s`)
      .sign(this.keys.current.key);
  }
}
