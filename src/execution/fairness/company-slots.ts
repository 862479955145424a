import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../../infra/config/config';
import { loaderPerTurn } from '../../infra/database/batched';
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

// Renews every lease a process holds in one company: one call per company per renewal.
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`;

interface SlotCommands {
  hbSlotAcquire(key: string, holder: string, cap: number, leaseMs: number): Promise<number>;
  hbSlotRenew(key: string, leaseMs: number, ...holders: string[]): Promise<number>;
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
 *
 * One timer renews all the leases a process holds (a call per company), and the
 * releases of one turn of the event loop go out together (a ZREM per company), so a
 * job costs one Redis call of its own: its acquire.
 */
@Injectable()
export class CompanySlots implements OnApplicationShutdown {
  private readonly logger = new Logger(CompanySlots.name);
  private readonly redis: Redis & SlotCommands;
  /** Leases held by this process: company → holder → how many (a takeover holds twice). */
  private readonly held = new Map<string, Map<string, number>>();
  private renewal?: NodeJS.Timeout;
  /** Releases made in one turn of the event loop go out together (loaderPerTurn). */
  private readonly releases = loaderPerTurn(
    async (slots: readonly { companyId: string; holder: string }[]) => {
      const byCompany = new Map<string, string[]>();
      for (const { companyId, holder } of slots) {
        const holders = byCompany.get(companyId) ?? [];
        holders.push(holder);
        byCompany.set(companyId, holders);
      }
      await Promise.all(
        [...byCompany].map(([companyId, holders]) =>
          this.redis.zrem(keyOf(companyId), ...holders).catch((error: unknown) => {
            this.logger.warn(`fairness slots of company ${companyId} not released: ${String(error)}`);
          }),
        ),
      );
      return slots.map(() => undefined);
    },
  );

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
    const cap = this.config.env.EXECUTION_COMPANY_CONCURRENCY;
    if (!(await this.redis.hbSlotAcquire(keyOf(companyId), holder, cap, this.leaseMs))) return null;
    this.hold(companyId, holder);
    let released: Promise<void> | undefined;
    return { release: () => (released ??= this.release(companyId, holder)) };
  }

  private hold(companyId: string, holder: string): void {
    const holders = this.held.get(companyId) ?? new Map<string, number>();
    holders.set(holder, (holders.get(holder) ?? 0) + 1);
    this.held.set(companyId, holders);
    // Renewed three times per lease, so one renewal lost to a Redis hiccup costs nothing.
    this.renewal ??= setInterval(() => this.renewAll(), this.leaseMs / 3).unref();
  }

  private renewAll(): void {
    for (const [companyId, holders] of this.held) {
      this.redis.hbSlotRenew(keyOf(companyId), this.leaseMs, ...holders.keys()).catch((error: unknown) => {
        this.logger.warn(`fairness leases of company ${companyId} not renewed: ${String(error)}`);
      });
    }
  }

  /** Stops renewing the lease and gives the slot back with the turn's other releases.
   *  Resolves once Redis has it; a release lost to a Redis error expires with its lease. */
  private release(companyId: string, holder: string): Promise<void> {
    const holders = this.held.get(companyId);
    const count = holders?.get(holder) ?? 0;
    if (count > 1) holders!.set(holder, count - 1);
    else holders?.delete(holder);
    if (holders && !holders.size) this.held.delete(companyId);
    if (!this.held.size && this.renewal) {
      clearInterval(this.renewal);
      this.renewal = undefined;
    }
    if (count > 1) return Promise.resolve();
    return this.releases.load({ companyId, holder });
  }

  /** Job ids holding a slot of the company now (expired leases excluded). */
  async holders(companyId: string): Promise<string[]> {
    const [seconds, micros] = await this.redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return this.redis.zrangebyscore(keyOf(companyId), `(${now}`, '+inf');
  }

  onApplicationShutdown(): void {
    if (this.renewal) clearInterval(this.renewal);
  }
}
