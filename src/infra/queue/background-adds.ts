import type { Logger } from '@nestjs/common';
import type { JobsOptions, Queue } from 'bullmq';
import { addsPerTurn, type AddJob } from './adds-per-turn';

/**
 * Jobs added without their caller waiting for Redis, for work whose record is in
 * Postgres and which a sweep queues again if its job never arrives (the reconciler,
 * for runs). The adds of one turn still go out as one addBulk (addsPerTurn). A failed
 * add is logged; while Redis is unreachable, adds wait in the connection's offline
 * queue and go out once it is back. `settled` lets a shutting-down process hand over
 * what it has accepted before its connection closes.
 */
export class BackgroundAdds {
  private readonly add: AddJob;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    queue: Queue,
    private readonly logger: Logger,
    /** What recovers a job that was never added, for the log line. */
    private readonly fallback: string,
  ) {
    this.add = addsPerTurn(queue);
  }

  /** Starts adding the job; returns at once. */
  start(name: string, data: object, opts: JobsOptions): void {
    const added = this.add(name, data, opts).then(
      () => undefined,
      (error: unknown) => {
        this.logger.warn(`job ${opts.jobId ?? name} not added (${String(error)}); ${this.fallback}`);
      },
    );
    this.pending.add(added);
    void added.finally(() => this.pending.delete(added));
  }

  /**
   * Resolves when no add is pending (those started meanwhile included), or after
   * `timeoutMs`. Adds handed to the connection go out before it closes (commands on one
   * connection keep their order, and its QUIT comes last); what this waits for are the
   * adds of a turn not yet handed over, and the answers. Redis still down at the
   * timeout: shutdown goes on, and the runs whose jobs never arrive are queued by the
   * fallback.
   */
  async settled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    while (this.pending.size && Date.now() < deadline) {
      await Promise.race([Promise.all(this.pending), timeout]);
    }
    clearTimeout(timer);
  }
}
