import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DelayedError, type Job } from 'bullmq';
import { AppConfig } from '../infra/config/config';
import { Metrics } from '../infra/metrics/metrics';
import type { JobPayloads } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { configureWorker } from '../infra/queue/worker-options';
import { writesPerTurn } from '../infra/redis/writes-per-turn';
import { RunExecutor } from './engine/run-executor';
import { CompanySlots } from './fairness/company-slots';
import { deferralDelay, deferralsOf } from './fairness/deferral';

/**
 * Consumes the execution queue: parse the payload, take one of the company's slots,
 * hand the run to the executor. A job of a company at its cap goes back to delayed
 * before anything touches the run, so it holds no worker slot, spends no attempt and
 * leaves the run as it was (QUEUED stays QUEUED); the reconciler sees a live delayed
 * job under the same id.
 */
@Processor(QueueName.Execution)
export class ExecutionProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(ExecutionProcessor.name);

  constructor(
    private readonly executor: RunExecutor,
    private readonly slots: CompanySlots,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
  ) {
    super();
    configureWorker(ExecutionProcessor, QueueName.Execution, config, {
      lockDuration: config.env.EXECUTION_LOCK_DURATION_MS,
      stalledInterval: config.env.EXECUTION_STALLED_INTERVAL_MS,
    });
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.env.EXECUTION_CONCURRENCY;
    // The runs of one batch end together (their statements are batched per turn), and
    // BullMQ sends each job's completion, which also fetches its next job, as its own
    // command: they share one write. The connection resolves once Redis answers;
    // until then there is nothing to send, and BullMQ reports connection errors itself.
    this.worker
      .getBackend()
      .client.then(writesPerTurn)
      .catch((error: unknown) => this.logger.debug(`per-turn writes not set up: ${String(error)}`));
  }

  async process(job: Job<JobPayloads['run.execute']>, token?: string): Promise<void> {
    const { runId, companyId } = job.data;
    const lease = await this.slots.tryAcquire(companyId, job.id ?? runId);
    if (!lease) {
      const delay = deferralDelay(this.config.env.EXECUTION_FAIRNESS_DELAY_MS, deferralsOf(job));
      // moveToDelayed skips the attempt counter; DelayedError tells BullMQ the job
      // has been moved, so it neither completes nor fails it.
      await job.moveToDelayed(Date.now() + delay, token);
      this.metrics.executionDeferred.inc();
      throw new DelayedError();
    }
    try {
      await this.executor.execute(runId, companyId);
    } finally {
      // Not waited for: the lease lingers for the company's next job here, else goes
      // back with other releases; one lost to a Redis error expires with its lease.
      void lease.release();
    }
  }
}
