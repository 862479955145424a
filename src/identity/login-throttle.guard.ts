import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard, type ThrottlerLimitDetail } from '@nestjs/throttler';
import { RateLimited } from './identity.errors';

/** Throttles login per client IP and per email (the throttlers are configured in
 *  IdentityModule); a refusal is a 429 problem with Retry-After. */
@Injectable()
export class LoginThrottleGuard extends ThrottlerGuard {
  protected override throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw new RateLimited(detail.timeToBlockExpire);
  }
}
