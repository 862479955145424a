import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { REDIS } from '../infra/redis/redis.module';

/** One channel for every run tree; a message is the root run ids whose events grew,
 *  separated by spaces. */
const CHANNEL = 'hb:run-events';
const NUDGE_EVERY_MS = 10;

/**
 * Redis pub/sub for run events. Postgres stays the record (an SSE stream always reads
 * its events from run_events, in order, after its Last-Event-ID): a message only
 * wakes the streams of that run tree at once, instead of at their next poll. A lost
 * message costs latency, never an event.
 */
@Injectable()
export class RunEventsBus implements OnApplicationShutdown {
  private readonly logger = new Logger(RunEventsBus.name);
  private subscriber?: Redis;
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Run trees that grew since the last message, told together. */
  private pending = new Set<string>();

  /**
   * Tells every API process that this run tree has new events (call it after the
   * commit). Does not wait: the trees that grew within NUDGE_EVERY_MS share one
   * message, so a busy worker sends a hundred a second at most, and a stream wakes
   * at most that much later.
   */
  publish(rootRunId: string | null | undefined): void {
    if (!rootRunId) return;
    if (!this.pending.size) setTimeout(() => this.flush(), NUDGE_EVERY_MS).unref();
    this.pending.add(rootRunId);
  }

  private flush(): void {
    const rootRunIds = [...this.pending];
    this.pending = new Set();
    // Best effort: readers fall back to polling Postgres if Redis is down.
    this.redis.publish(CHANNEL, rootRunIds.join(' ')).catch((error: unknown) => {
      this.logger.debug(`run events not published: ${String(error)}`);
    });
  }

  /** Resolves when the tree of `rootRunId` has new events, or after `timeoutMs`. */
  async wait(rootRunId: string, timeoutMs: number): Promise<void> {
    this.listen();
    await new Promise<void>((resolve) => {
      const listeners = this.waiting.get(rootRunId) ?? new Set<() => void>();
      const done = () => {
        clearTimeout(timer);
        listeners.delete(done);
        if (!listeners.size) this.waiting.delete(rootRunId);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      listeners.add(done);
      this.waiting.set(rootRunId, listeners);
    });
  }

  /** One subscriber connection per process, opened by the first stream. */
  private listen(): void {
    if (this.subscriber) return;
    this.subscriber = this.redis.duplicate({ maxRetriesPerRequest: null, commandTimeout: undefined });
    this.subscriber.on('message', (_channel: string, rootRunIds: string) => {
      for (const rootRunId of rootRunIds.split(' '))
        for (const wake of [...(this.waiting.get(rootRunId) ?? [])]) wake();
    });
    this.subscriber.on('error', (error: unknown) =>
      this.logger.debug(`run events subscriber: ${String(error)}`),
    );
    void this.subscriber.subscribe(CHANNEL).catch(() => undefined);
  }

  async onApplicationShutdown(): Promise<void> {
    for (const listeners of this.waiting.values()) for (const wake of [...listeners]) wake();
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }
}
