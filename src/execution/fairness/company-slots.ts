import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../../infra/config/config';
import { REDIS } from '../../infra/redis/redis.module';

/** One sorted set per company: members are the job ids holding a slot, scored by the
 *  time (Redis clock, ms) their lease runs out. Shared by every worker process. */
const keyOf = (companyId: string) => `hb:fairness:execution:${companyId}`;

// Both scripts read the clock from Redis, so workers with skewed clocks agree on
// which leases have run out. The key expires with its longest lease: a company that
// stops running leaves nothing behind.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0`;

const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`;

interface SlotCommands {
  hbSlotAcquire(key: string, holder: string, cap: number, leaseMs: number): Promise<number>;
  hbSlotRenew(key: string, holder: string, leaseMs: number): Promise<number>;
}

/** A held slot; release it in a finally. */
export interface SlotLease {
  release(): Promise<void>;
}

/**
 * A counting semaphore per company in Redis: at most `EXECUTION_COMPANY_CONCURRENCY`
 * jobs of one company execute at once across all workers. A lease lasts
 * `EXECUTION_LOCK_DURATION_MS` and is renewed while its job runs, as BullMQ renews the
 * job's own lock; a SIGKILLed worker stops renewing, so its slot is
 * dropped by the next acquire after the lease runs out and never leaks. The holder is
 * the job id: a stalled job taken over by another worker keeps its slot.
 */
@Injectable()
export class CompanySlots {
  private readonly logger = new Logger(CompanySlots.name);
  private readonly redis: Redis & SlotCommands;

  constructor(
    @Inject(REDIS) redis: Redis,
    private readonly config: AppConfig,
  ) {
    // defineCommand sends EVALSHA and loads the script once per connection.
    if (!('hbSlotAcquire' in redis)) {
      redis.defineCommand('hbSlotAcquire', { numberOfKeys: 1, lua: ACQUIRE });
      redis.defineCommand('hbSlotRenew', { numberOfKeys: 1, lua: RENEW });
    }
    this.redis = redis as Redis & SlotCommands;
  }

  private get leaseMs(): number {
    return this.config.env.EXECUTION_LOCK_DURATION_MS;
  }

  /** A slot for `holder` (a job id) among the company's, or null when all are taken. */
  async tryAcquire(companyId: string, holder: string): Promise<SlotLease | null> {
    const key = keyOf(companyId);
    const cap = this.config.env.EXECUTION_COMPANY_CONCURRENCY;
    if (!(await this.redis.hbSlotAcquire(key, holder, cap, this.leaseMs))) return null;
    const renewal = setInterval(() => {
      // Renewed three times per lease, so one renewal lost to a Redis hiccup costs nothing.
      this.redis.hbSlotRenew(key, holder, this.leaseMs).catch((error: unknown) => {
        this.logger.warn(`fairness lease of ${holder} not renewed: ${String(error)}`);
      });
    }, this.leaseMs / 3);
    renewal.unref();
    return {
      release: async () => {
        clearInterval(renewal);
        // A release lost to a Redis error expires with its lease.
        await this.redis.zrem(key, holder).catch((error: unknown) => {
          this.logger.warn(`fairness slot of ${holder} not released: ${String(error)}`);
        });
      },
    };
  }

  /** Job ids holding a slot of the company now (expired leases excluded). */
  async holders(companyId: string): Promise<string[]> {
    const [seconds, micros] = await this.redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return this.redis.zrangebyscore(keyOf(companyId), `(${now}`, '+inf');
  }
}
