import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Redis } from 'ioredis';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

export interface ThrottleHit {
  key: string;
  /** Window length, ms. */
  ttl: number;
  limit: number;
  /** How long a key stays blocked once over its limit, ms. */
  blockDuration: number;
  throttlerName: string;
}

/**
 * Fixed-window counters in Redis, so a limit holds across every API replica. One
 * script call counts any number of limits at once (a login's per-IP and per-email
 * limits cost one round trip): for each, count, start the window, and block for
 * its block duration once the limit is passed.
 */
const SCRIPT = `
local out = {}
for i = 1, #KEYS, 2 do
  local a = (i - 1) / 2 * 3
  local ttl, limit, block = ARGV[a + 1], tonumber(ARGV[a + 2]), ARGV[a + 3]
  local hits = redis.call('INCR', KEYS[i])
  if hits == 1 then redis.call('PEXPIRE', KEYS[i], ttl) end
  local left = redis.call('PTTL', KEYS[i])
  local blocked = redis.call('PTTL', KEYS[i + 1])
  if blocked < 0 then blocked = 0 end
  if blocked == 0 and hits > limit then
    redis.call('SET', KEYS[i + 1], '1', 'PX', block)
    blocked = tonumber(block)
  end
  table.insert(out, hits)
  table.insert(out, left)
  table.insert(out, blocked)
end
return out
`;

type ThrottleRedis = Redis & { hbThrottle(numKeys: number, ...args: string[]): Promise<number[]> };

export class RedisThrottlerStorage implements ThrottlerStorage {
  private readonly redis: ThrottleRedis;

  constructor(redis: Redis) {
    // defineCommand sends the script once and then calls it by its SHA.
    if (!('hbThrottle' in redis)) redis.defineCommand('hbThrottle', { lua: SCRIPT });
    this.redis = redis as ThrottleRedis;
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const [record] = await this.incrementAll([{ key, ttl, limit, blockDuration, throttlerName }]);
    return record;
  }

  async incrementAll(hits: ThrottleHit[]): Promise<ThrottlerStorageRecord[]> {
    const keys = hits.flatMap((h) => {
      const base = `hb:throttle:${h.throttlerName}:${h.key}`;
      return [`${base}:hits`, `${base}:blocked`];
    });
    const args = hits.flatMap((h) => [
      String(h.ttl),
      String(h.limit),
      String(h.blockDuration > 0 ? h.blockDuration : h.ttl),
    ]);
    const flat = await this.redis.hbThrottle(keys.length, ...keys, ...args);
    return hits.map((_, i) => {
      const [count, ttlMs, blockedMs] = flat.slice(i * 3, i * 3 + 3);
      return {
        totalHits: count,
        timeToExpire: Math.ceil(Math.max(ttlMs, 0) / 1000),
        isBlocked: blockedMs > 0,
        timeToBlockExpire: Math.ceil(blockedMs / 1000),
      };
    });
  }
}
