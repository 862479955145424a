import { Injectable, type ExecutionContext } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { RedisThrottlerStorage } from '../infra/http/redis-throttler.storage';
import { RateLimited } from './identity.errors';

/**
 * Limits a route per client IP and per email in the body (the throttlers are
 * configured in IdentityModule): login, forgot-password, resending verification,
 * invitations. Each route counts separately. Both limits are counted in a single
 * Redis round trip rather than one per limit: on this 2-core machine a round trip
 * costs as much CPU as the rest of the request's JavaScript (bench/auth). A refusal
 * is a 429 problem with Retry-After.
 */
@Injectable()
export class EmailRateLimitGuard extends ThrottlerGuard {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const { req } = this.getRequestResponse(context);
    const storage = this.storageService as RedisThrottlerStorage;
    const hits = await Promise.all(
      this.throttlers.map(async (throttler) => {
        const tracker = await (throttler.getTracker ?? this.commonOptions.getTracker!)(req, context);
        const ttl = throttler.ttl as number;
        return {
          key: this.generateKey(context, tracker, throttler.name ?? 'default'),
          ttl,
          limit: throttler.limit as number,
          blockDuration: (throttler.blockDuration as number | undefined) ?? ttl,
          throttlerName: throttler.name ?? 'default',
        };
      }),
    );
    const blocked = (await storage.incrementAll(hits)).filter((record) => record.isBlocked);
    if (blocked.length) throw new RateLimited(Math.max(...blocked.map((record) => record.timeToBlockExpire)));
    return true;
  }
}
