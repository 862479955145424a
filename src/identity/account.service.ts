import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../infra/config/config';
import type { TokenPurpose, User } from '../infra/database/generated/client';
import { DomainError, NotFound } from '../infra/http/domain-error';
import { MailService } from '../notifications/mail.service';
import { inScope, requireRole, type Caller } from '../tenancy/caller';
import { CompaniesService } from '../tenancy/companies.service';
import { AccountTokensRepository } from './account-tokens.repository';
import { invitationMail, passwordResetMail, verificationMail } from './account-mail';
import { AuthRepository } from './auth.repository';
import { AuthService } from './auth.service';
import type { TokenPairResponse } from './dto/auth.dto';
import type { InviteUserDto } from './dto/user.dto';
import { EmailTaken } from './identity.errors';
import { hashPassword } from './password-hasher';
import { newRefreshToken, hashRefreshToken } from './refresh-token';
import { UsersRepository } from './users.repository';
import { assertGrantable } from './grant-policy';

/** One answer for every unusable token: used, expired, unknown, or for another purpose. */
export class InvalidToken extends DomainError {
  constructor() {
    super('invalid', 'INVALID_TOKEN', 'The link is invalid or has expired.');
  }
}

const HOUR_MS = 3_600_000;

/**
 * Invitations, email verification and password reset: everything that reaches a
 * person by mail. Tokens are 256 random bits, stored hashed, single use, bound to
 * a user and a purpose.
 */
@Injectable()
export class AccountService {
  private readonly logger = new Logger(AccountService.name);

  constructor(
    private readonly config: AppConfig,
    private readonly tokens: AccountTokensRepository,
    private readonly users: UsersRepository,
    private readonly auth: AuthRepository,
    private readonly authService: AuthService,
    private readonly companies: CompaniesService,
    private readonly mail: MailService,
  ) {}

  /** Creates an inactive, unverified user and mails a link; inviting a pending
   *  invitee again replaces the link. Same scope and role rules as creating a user. */
  async invite(caller: Caller, dto: InviteUserDto): Promise<User> {
    if (!inScope(caller, dto.companyId)) throw new NotFound('Company');
    requireRole(caller, 'tenant_admin');
    const company = await this.companies.get(caller, dto.companyId);
    assertGrantable(caller, dto.role, company);
    const candidate = await this.auth.findLoginCandidate(dto.email);
    let user: User;
    if (candidate) {
      const pending =
        candidate.password_hash === null && !candidate.is_active && inScope(caller, candidate.company_id);
      if (!pending || candidate.company_id !== dto.companyId) throw new EmailTaken();
      user = (await this.users.findById(caller.scope, candidate.id))!;
    } else {
      user = await this.users.create(caller.scope, {
        email: dto.email,
        fullName: dto.fullName,
        role: dto.role,
        companyId: dto.companyId,
        passwordHash: null,
        isActive: false,
        isVerified: false,
      });
    }
    const hours = this.config.env.INVITATION_TTL_HOURS;
    const token = await this.issue(user.id, 'invitation', hours * HOUR_MS);
    await this.mail.send(
      invitationMail({
        to: user.email,
        fullName: user.fullName,
        companyName: company.name,
        token,
        baseUrl: this.config.env.PUBLIC_BASE_URL,
        hours,
      }),
    );
    return user;
  }

  /** Sets the password, verifies and activates the invitee, and signs them in. */
  async acceptInvitation(token: string, password: string): Promise<TokenPairResponse> {
    const spent = await this.consume(token, 'invitation');
    const scope = { companyIds: [spent.company_id] };
    await this.users.update(scope, spent.user_id, {
      passwordHash: await hashPassword(password),
      isActive: true,
      isVerified: true,
    });
    return this.authService.openSession(spent.user_id);
  }

  async verifyEmail(token: string): Promise<void> {
    const spent = await this.consume(token, 'email_verification');
    await this.users.update({ companyIds: [spent.company_id] }, spent.user_id, { isVerified: true });
  }

  /** Mails a verification link to a user (after an email change, or on request). */
  async sendVerification(user: User): Promise<void> {
    const hours = this.config.env.EMAIL_VERIFICATION_TTL_HOURS;
    const token = await this.issue(user.id, 'email_verification', hours * HOUR_MS);
    await this.mail.send(
      verificationMail({
        to: user.email,
        fullName: user.fullName,
        token,
        baseUrl: this.config.env.PUBLIC_BASE_URL,
        hours,
      }),
    );
  }

  /**
   * The answer never depends on whether the address is known: the request only
   * schedules the work, which runs after the response is sent, so known and unknown
   * addresses get the same bytes in the same time.
   */
  forgotPassword(email: string): void {
    this.afterResponse(async () => {
      const user = await this.activeUserByEmail(email);
      if (!user) return;
      const minutes = this.config.env.PASSWORD_RESET_TTL_MINUTES;
      const token = await this.issue(user.id, 'password_reset', minutes * 60_000);
      await this.mail.send(
        passwordResetMail({
          to: user.email,
          fullName: user.fullName,
          token,
          baseUrl: this.config.env.PUBLIC_BASE_URL,
          minutes,
        }),
      );
    });
  }

  /** Like forgotPassword, for a user who lost their verification mail. */
  resendVerification(email: string): void {
    this.afterResponse(async () => {
      const user = await this.activeUserByEmail(email);
      if (user && !user.isVerified) await this.sendVerification(user);
    });
  }

  /** Sets the password and ends every session of the user. */
  async resetPassword(token: string, password: string): Promise<void> {
    const spent = await this.consume(token, 'password_reset');
    await this.users.update({ companyIds: [spent.company_id] }, spent.user_id, {
      passwordHash: await hashPassword(password),
    });
    await this.auth.revokeAllOfUser(spent.user_id);
  }

  private async activeUserByEmail(email: string): Promise<User | null> {
    const candidate = await this.auth.findLoginCandidate(email);
    if (!candidate?.is_active) return null;
    return this.users.findById({ companyIds: [candidate.company_id] }, candidate.id);
  }

  private async issue(userId: string, purpose: TokenPurpose, ttlMs: number): Promise<string> {
    const { token, hash } = newRefreshToken();
    await this.tokens.issue(userId, purpose, hash, new Date(Date.now() + ttlMs));
    return token;
  }

  private async consume(token: string, purpose: TokenPurpose) {
    const spent = await this.tokens.consume(hashRefreshToken(token), purpose);
    if (!spent) throw new InvalidToken();
    return spent;
  }

  private afterResponse(work: () => Promise<void>): void {
    setImmediate(() => {
      work().catch((error: unknown) => this.logger.error(`account mail failed: ${String(error)}`));
    });
  }
}
