import { DomainError } from '../infra/http/domain-error';

/** One answer for every authentication failure, so responses reveal nothing. */
export class InvalidCredentials extends DomainError {
  constructor() {
    super('unauthenticated', 'INVALID_CREDENTIALS', 'Email or password is wrong.');
  }
}

export class Unauthenticated extends DomainError {
  constructor(detail = 'A valid access token is required.') {
    super('unauthenticated', 'UNAUTHENTICATED', detail);
  }
}

export class InvalidRefreshToken extends DomainError {
  constructor() {
    super('unauthenticated', 'INVALID_REFRESH_TOKEN', 'The refresh token is invalid, expired or revoked.');
  }
}

export class EmailTaken extends DomainError {
  constructor() {
    super('conflict', 'EMAIL_TAKEN', 'A user with this email exists.');
  }
}

export class RoleNotGrantable extends DomainError {
  constructor(detail: string) {
    super('forbidden', 'ROLE_NOT_GRANTABLE', detail);
  }
}

export class RoleNotAllowedForCompany extends DomainError {
  constructor(detail: string) {
    super('unprocessable', 'ROLE_NOT_ALLOWED_FOR_COMPANY', detail);
  }
}

export class CannotChangeOwnRole extends DomainError {
  constructor() {
    super(
      'forbidden',
      'CANNOT_CHANGE_OWN_ROLE',
      'Nobody can change their own role or deactivate themselves.',
    );
  }
}

export class RateLimited extends DomainError {
  constructor(retryAfterSeconds: number) {
    super('rate_limited', 'RATE_LIMITED', 'Too many attempts; try again later.', undefined, {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}
