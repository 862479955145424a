import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { AppConfig } from '../infra/config/config';
import type { User } from '../infra/database/generated/client';
import { DomainError, NotFound } from '../infra/http/domain-error';
import type { Caller } from '../tenancy/caller';
import { CompaniesService, toCompanyResponse } from '../tenancy/companies.service';
import { CompanySuspended } from '../tenancy/tenancy.errors';
import { AccessTokens } from './access-tokens';
import { AuthRepository } from './auth.repository';
import type { ChangePasswordDto, MeResponse, TokenPairResponse } from './dto/auth.dto';
import { InvalidCredentials, InvalidRefreshToken } from './identity.errors';
import { hashPassword, verifyPassword } from './password-hasher';
import { newRefreshToken, hashRefreshToken } from './refresh-token';
import { toUserResponse } from './user-response';
import { UsersRepository } from './users.repository';

const DAY_MS = 86_400_000;

/** Said only after the password matched, so it reveals nothing to a guesser. */
class EmailNotVerified extends DomainError {
  constructor() {
    super(
      'forbidden',
      'EMAIL_NOT_VERIFIED',
      'Confirm your email address first; the link is in your mailbox.',
    );
  }
}

class WrongCurrentPassword extends DomainError {
  constructor() {
    super('forbidden', 'WRONG_PASSWORD', 'The current password is wrong.');
  }
}

@Injectable()
export class AuthService {
  /** Verified against when the email is unknown, so both answers take as long. */
  private readonly dummyHash = hashPassword('not-a-real-password-only-for-timing');

  constructor(
    private readonly config: AppConfig,
    private readonly auth: AuthRepository,
    private readonly users: UsersRepository,
    private readonly tokens: AccessTokens,
    private readonly companies: CompaniesService,
  ) {}

  async login(email: string, password: string): Promise<TokenPairResponse> {
    const candidate = await this.auth.findLoginCandidate(email);
    const matches = await verifyPassword(candidate?.password_hash ?? (await this.dummyHash), password);
    if (!candidate?.password_hash || !matches || !candidate.is_active) throw new InvalidCredentials();
    if (candidate.suspended) throw new CompanySuspended();
    if (!candidate.is_verified && !candidate.allow_unverified) throw new EmailNotVerified();
    return this.openSession(candidate.id);
  }

  /** Records a login and opens a new session (refresh family) for the user. */
  async openSession(userId: string): Promise<TokenPairResponse> {
    const now = Date.now();
    const familyId = uuidv7();
    const refresh = newRefreshToken();
    const user = await this.auth.startSession({
      userId,
      tokenId: uuidv7(),
      tokenHash: refresh.hash,
      familyId,
      expiresAt: new Date(now + this.config.env.REFRESH_TOKEN_TTL_DAYS * DAY_MS),
      familyExpiresAt: new Date(now + this.config.env.REFRESH_FAMILY_MAX_DAYS * DAY_MS),
    });
    return this.pair(user, familyId, refresh.token);
  }

  /** Rotation: the presented token is spent and a successor issued in its family.
   *  A spent token presented again is taken as theft: the whole family is revoked. */
  async refresh(presented: string): Promise<TokenPairResponse> {
    const presentedHash = hashRefreshToken(presented);
    const successor = newRefreshToken();
    const rotated = await this.auth.rotateRefreshToken(presentedHash, {
      id: uuidv7(),
      tokenHash: successor.hash,
      ttlDays: this.config.env.REFRESH_TOKEN_TTL_DAYS,
    });
    if (!rotated) {
      const family = await this.auth.findFamilyOf(presentedHash);
      if (family) await this.auth.revokeFamily(family.familyId);
      throw new InvalidRefreshToken();
    }
    const principal = await this.auth.findPrincipal(rotated.userId, rotated.familyId);
    if (!principal?.is_active || principal.suspended) {
      await this.auth.revokeFamily(rotated.familyId);
      if (principal?.is_active && principal.suspended) throw new CompanySuspended();
      throw new InvalidRefreshToken();
    }
    const user = await this.users.findById({ companyIds: [principal.company_id] }, principal.id);
    if (!user) throw new InvalidRefreshToken();
    return this.pair(user, rotated.familyId, successor.token);
  }

  /** Ends the session the refresh token belongs to, if it is the caller's. */
  async logout(caller: Caller, presented: string): Promise<void> {
    const family = await this.auth.findFamilyOf(hashRefreshToken(presented));
    if (family && family.userId === caller.userId) await this.auth.revokeFamily(family.familyId);
  }

  async changePassword(caller: Caller, dto: ChangePasswordDto): Promise<void> {
    const scope = { companyIds: [caller.companyId] };
    const user = await this.users.findById(scope, caller.userId);
    if (!user?.passwordHash || !(await verifyPassword(user.passwordHash, dto.currentPassword))) {
      throw new WrongCurrentPassword();
    }
    await this.users.update(scope, user.id, { passwordHash: await hashPassword(dto.newPassword) });
    await this.auth.revokeAllOfUser(user.id);
  }

  async me(caller: Caller): Promise<MeResponse> {
    const user = await this.users.findById(caller.scope, caller.userId);
    if (!user) throw new NotFound('User');
    const company = await this.companies.get(caller, user.companyId);
    return {
      ...toUserResponse(user),
      company: toCompanyResponse(company),
      scope: [...caller.scope.companyIds],
    };
  }

  private pair(user: User, familyId: string, refreshToken: string): TokenPairResponse {
    return {
      accessToken: this.tokens.sign(user, familyId),
      refreshToken,
      expiresIn: this.tokens.ttlSeconds,
      user: toUserResponse(user),
    };
  }
}
