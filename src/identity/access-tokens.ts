import { createHash, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { createSigner, createVerifier } from 'fast-jwt';
import type { UserRole } from '../infra/database/generated/client';
import { AppConfig } from '../infra/config/config';
import { Unauthenticated } from './identity.errors';

export interface AccessClaims {
  sub: string;
  cid: string;
  role: UserRole;
  /** Session: the refresh family this token was minted with. */
  sid: string;
  jti: string;
  typ: 'access';
}

/** A short, stable id of a secret, carried in the token header so verification
 *  picks the right key during a rotation (without revealing the secret). */
function kidOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 12);
}

/**
 * Access tokens: HS256 only (pinned), issuer and audience checked, expiry required.
 * fast-jwt imports each key once when its signer/verifier is built; a first
 * verification costs about 3 bare HMACs and a repeated one less than one
 * (bench/auth), where jsonwebtoken with a string secret costs over 12.
 */
@Injectable()
export class AccessTokens {
  readonly ttlSeconds: number;
  private readonly signer: (payload: AccessClaims) => string;
  /** Keyed by the exact encoded header our signer writes for each key (it carries the
   *  key id): a token is checked only against the key it names, without parsing a
   *  header first, and a header we never write is refused outright. */
  private readonly verifiers: Map<string, (token: string) => Partial<AccessClaims>>;

  constructor(config: AppConfig) {
    const { JWT_SECRET, JWT_PREVIOUS_SECRETS, JWT_ISSUER, JWT_AUDIENCE, ACCESS_TOKEN_TTL_SECONDS } =
      config.env;
    this.ttlSeconds = ACCESS_TOKEN_TTL_SECONDS;
    const signerFor = (secret: string) =>
      createSigner({
        key: secret,
        algorithm: 'HS256',
        kid: kidOf(secret),
        iss: JWT_ISSUER,
        aud: JWT_AUDIENCE,
        expiresIn: ACCESS_TOKEN_TTL_SECONDS * 1000,
      });
    this.signer = signerFor(JWT_SECRET);
    const headerOf = (secret: string) => signerFor(secret)({}).split('.')[0];
    this.verifiers = new Map(
      [JWT_SECRET, ...JWT_PREVIOUS_SECRETS].map((secret) => [
        headerOf(secret),
        createVerifier({
          key: secret,
          algorithms: ['HS256'],
          allowedIss: JWT_ISSUER,
          allowedAud: JWT_AUDIENCE,
          requiredClaims: ['exp', 'sub', 'sid', 'typ'],
          // A client sends the same token with every request for its whole life:
          // remember verified tokens (never past their exp). Sessions are still
          // checked in the database on every request (JwtStrategy).
          cache: 10_000,
        }),
      ]),
    );
  }

  sign(user: { id: string; companyId: string; role: UserRole }, sessionId: string): string {
    return this.signer({
      sub: user.id,
      cid: user.companyId,
      role: user.role,
      sid: sessionId,
      jti: randomUUID(),
      typ: 'access',
    });
  }

  /** The claims of a genuine, current access token; throws Unauthenticated otherwise. */
  verify(token: string): Partial<AccessClaims> {
    const verifier = this.verifiers.get(token.slice(0, token.indexOf('.')));
    if (!verifier) throw new Unauthenticated();
    try {
      return verifier(token);
    } catch {
      throw new Unauthenticated();
    }
  }
}
