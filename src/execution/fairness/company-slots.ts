import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { AppConfig } from '../../infra/config/config';
import { loaderPerTurn } from '../../infra/database/batched';
import { REDIS } from '../../infra/redis/redis.module';

/** One sorted set per company: members are the job ids holding a slot, scored by the
 *  time (Redis clock, ms) their lease runs out. Shared by every worker process. */
const keyOf = (companyId: string) => `hb:fairness:execution:${companyId}`;

// Every script reads the clock from Redis, so workers with skewed clocks agree on
// which leases have run out. The key expires with its longest lease: a company that
// stops running leaves nothing behind.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** The key lives at least as long as a lease (ARGV[1]) from now. */
const KEEP_KEY = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`;

const ACQUIRE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0`;

// Renews every lease a process holds in one company: one call per company per renewal.
const RENEW = `${NOW}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i]) end${KEEP_KEY}`;

// Hands leases from the holders that released them to the jobs taking them over, in
// pairs (from, to): the company's count does not change.
const HAND_OVER = `${NOW}
for i = 2, #ARGV, 2 do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[i + 1])
end${KEEP_KEY}`;

interface SlotCommands {
  hbSlotAcquire(key: string, holder: string, cap: number, leaseMs: number): Promise<number>;
  hbSlotRenew(key: string, leaseMs: number, ...holders: string[]): Promise<number>;
  hbSlotHandOver(key: string, leaseMs: number, ...fromTo: string[]): Promise<number>;
}

/** How long a released lease stays with its process for the next job of its company:
 *  the time a worker slot takes to finish one job and fetch the next, with room. */
const LINGER_MS = 50;

/** A lease its job released, kept for the next job of the company in this process. */
interface IdleLease {
  holder: string;
  since: number;
  /** Resolves the release of the job that held it. */
  done: () => void;
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
 * releases of one turn of the event loop go out together (a ZREM per company).
 *
 * A released lease stays with the process for LINGER_MS: the next job of the same
 * company that this process picks up in that time takes it over without waiting for
 * Redis (the hand-over goes out with the turn's others; the count never changes, so
 * the cap holds). A company whose runs keep a worker busy costs no Redis round trip
 * per job; a lease nobody takes is released when its time is up.
 */
@Injectable()
export class CompanySlots implements OnApplicationShutdown {
  private readonly logger = new Logger(CompanySlots.name);
  private readonly redis: Redis & SlotCommands;
  /** Leases held by this process: company → holder → how many (a takeover holds twice). */
  private readonly held = new Map<string, Map<string, number>>();
  private renewal?: NodeJS.Timeout;
  /** Released leases kept for the company's next job here: company → oldest first. */
  private readonly idle = new Map<string, IdleLease[]>();
  private lingering?: NodeJS.Timeout;
  /** Hand-overs of one turn go out together (a call per company). */
  private readonly handOvers = this.perCompanyPerTurn(
    (move: { companyId: string; from: string; to: string }) => [move.from, move.to],
    (companyId, pairs) => this.redis.hbSlotHandOver(keyOf(companyId), this.leaseMs, ...pairs),
    // The old holder's entry expires (nobody renews it); the new one is added by the
    // next renewal. Until then the company counts one slot too many, never too few.
    'handed over',
  );
  /** Releases made in one turn of the event loop go out together. */
  private readonly releases = this.perCompanyPerTurn(
    (slot: { companyId: string; holder: string }) => [slot.holder],
    (companyId, holders) => this.redis.zrem(keyOf(companyId), ...holders),
    'released',
  );
  /** Set once the process shuts down: leases go straight back, none lingers. */
  private closing = false;

  /** Calls of one turn (loaderPerTurn) sent as one Redis call per company, with the
   *  arguments of all its calls; a failed call is logged (its leases expire). */
  private perCompanyPerTurn<K extends { companyId: string }>(
    argsOf: (key: K) => string[],
    send: (companyId: string, args: string[]) => Promise<unknown>,
    done: string,
  ) {
    return loaderPerTurn(async (keys: readonly K[]) => {
      const byCompany = new Map<string, string[]>();
      for (const key of keys) {
        const args = byCompany.get(key.companyId) ?? [];
        args.push(...argsOf(key));
        byCompany.set(key.companyId, args);
      }
      await Promise.all(
        [...byCompany].map(([companyId, args]) =>
          send(companyId, args).catch((error: unknown) => {
            this.logger.warn(`fairness leases of company ${companyId} not ${done}: ${String(error)}`);
          }),
        ),
      );
      return keys.map(() => undefined);
    });
  }

  constructor(
    @Inject(REDIS) redis: Redis,
    private readonly config: AppConfig,
  ) {
    // defineCommand sends EVALSHA and loads the script once per connection.
    if (!('hbSlotAcquire' in redis)) {
      redis.defineCommand('hbSlotAcquire', { numberOfKeys: 1, lua: ACQUIRE });
      redis.defineCommand('hbSlotRenew', { numberOfKeys: 1, lua: RENEW });
      redis.defineCommand('hbSlotHandOver', { numberOfKeys: 1, lua: HAND_OVER });
    }
    this.redis = redis as Redis & SlotCommands;
  }

  private get leaseMs(): number {
    return this.config.env.EXECUTION_LOCK_DURATION_MS;
  }

  /** A slot for `holder` (a job id) among the company's, or null when all are taken. */
  async tryAcquire(companyId: string, holder: string): Promise<SlotLease | null> {
    if (!this.takeIdle(companyId, holder)) {
      const cap = this.config.env.EXECUTION_COMPANY_CONCURRENCY;
      if (!(await this.redis.hbSlotAcquire(keyOf(companyId), holder, cap, this.leaseMs))) return null;
      this.hold(companyId, holder);
    }
    let released: Promise<void> | undefined;
    return { release: () => (released ??= this.release(companyId, holder)) };
  }

  /** Takes over a lease of the company released here in the last LINGER_MS, if any. A
   *  holder this process holds already (a stalled job taken over) goes to Redis, which
   *  knows it. */
  private takeIdle(companyId: string, holder: string): boolean {
    const idle = this.idle.get(companyId);
    if (!idle) return false;
    // The same job again while its lease lingers (rare: retries back off for longer):
    // its own lease, still held here, is kept as it is.
    const own = idle.findIndex((lease) => lease.holder === holder);
    if (own < 0 && this.held.get(companyId)?.has(holder)) return false;
    const [lease] = idle.splice(own < 0 ? idle.length - 1 : own, 1);
    if (!idle.length) this.idle.delete(companyId);
    if (own >= 0) {
      lease.done();
      return true;
    }
    this.unhold(companyId, lease.holder);
    this.hold(companyId, holder);
    void this.handOvers.load({ companyId, from: lease.holder, to: holder }).finally(lease.done);
    return true;
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

  private unhold(companyId: string, holder: string): void {
    const holders = this.held.get(companyId);
    const count = holders?.get(holder) ?? 0;
    if (count > 1) holders!.set(holder, count - 1);
    else holders?.delete(holder);
    if (holders && !holders.size) this.held.delete(companyId);
    if (!this.held.size && this.renewal) {
      clearInterval(this.renewal);
      this.renewal = undefined;
    }
  }

  /** Keeps the lease for the company's next job here (takeIdle), or gives the slot
   *  back after LINGER_MS with the turn's other releases. Resolves once Redis has it
   *  (released or handed over); one lost to a Redis error expires with its lease. */
  private release(companyId: string, holder: string): Promise<void> {
    if ((this.held.get(companyId)?.get(holder) ?? 0) > 1) {
      // A takeover held it twice here: the other hold keeps the lease.
      this.unhold(companyId, holder);
      return Promise.resolve();
    }
    // No next job is coming once the process shuts down (and Redis closes soon).
    if (this.closing) return this.giveBack(companyId, holder);
    return new Promise((done) => {
      const idle = this.idle.get(companyId) ?? [];
      idle.push({ holder, since: Date.now(), done });
      this.idle.set(companyId, idle);
      this.lingering ??= setTimeout(() => void this.releaseIdle(LINGER_MS), LINGER_MS).unref();
    });
  }

  /** Stops renewing the lease and gives the slot back with the turn's other releases. */
  private giveBack(companyId: string, holder: string): Promise<void> {
    this.unhold(companyId, holder);
    return this.releases.load({ companyId, holder });
  }

  /** Releases the leases idle for at least `minIdleMs`; waits for the rest. */
  private releaseIdle(minIdleMs: number): Promise<unknown> {
    this.lingering = undefined;
    const due = Date.now() - minIdleMs;
    const released: Promise<void>[] = [];
    for (const [companyId, idle] of this.idle) {
      while (idle.length && idle[0].since <= due) {
        const lease = idle.shift()!;
        released.push(this.giveBack(companyId, lease.holder).finally(lease.done));
      }
      if (!idle.length) this.idle.delete(companyId);
    }
    if (this.idle.size) {
      const oldest = Math.min(...[...this.idle.values()].map((idle) => idle[0].since));
      this.lingering = setTimeout(
        () => void this.releaseIdle(LINGER_MS),
        oldest + LINGER_MS - Date.now(),
      ).unref();
    }
    return Promise.all(released);
  }

  /** Job ids holding a slot of the company now (expired leases excluded). */
  async holders(companyId: string): Promise<string[]> {
    const [seconds, micros] = await this.redis.time();
    const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
    return this.redis.zrangebyscore(keyOf(companyId), `(${now}`, '+inf');
  }

  /** Gives back the leases kept for a next job: none is coming. */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    if (this.lingering) clearTimeout(this.lingering);
    await this.releaseIdle(0);
    if (this.renewal) clearInterval(this.renewal);
  }
}
