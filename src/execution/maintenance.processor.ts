import { InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { AppConfig } from '../infra/config/config';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { configureWorker } from '../infra/queue/worker-options';
import { ApprovalsService } from '../approvals/approvals.service';
import type { JobPayloads } from '../infra/queue/jobs';
import { Reconciler } from './engine/reconciler';
import { RetentionService } from './retention/retention.service';

/** The retention pruning's scheduler id: one schedule however many workers register it. */
export const RETENTION_SCHEDULER = 'prune-retention';

/** Housekeeping on the maintenance queue. The reconciler and the retention pruning are
 *  job schedulers: however many workers register them, BullMQ runs one per interval. */
@Processor(QueueName.Maintenance)
export class MaintenanceProcessor extends WorkerHost implements OnApplicationBootstrap {
  constructor(
    private readonly reconciler: Reconciler,
    private readonly approvals: ApprovalsService,
    private readonly retention: RetentionService,
    private readonly config: AppConfig,
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
  ) {
    super();
    configureWorker(MaintenanceProcessor, QueueName.Maintenance, config);
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      'reconcile-runs',
      { every: this.config.env.RECONCILE_INTERVAL_MS },
      { name: Jobs.Reconcile.name, data: {}, opts: JOB_OPTIONS['maintenance.reconcile']({}) },
    );
    await this.queue.upsertJobScheduler(
      RETENTION_SCHEDULER,
      { every: this.config.env.RETENTION_INTERVAL_MS },
      { name: Jobs.PruneRetention.name, data: {}, opts: JOB_OPTIONS['maintenance.retention']({}) },
    );
  }

  async process(job: Job): Promise<unknown> {
    if (job.name === Jobs.Reconcile.name) return this.reconciler.reconcile();
    if (job.name === Jobs.PruneRetention.name) return this.retention.prune();
    if (job.name === Jobs.ApprovalTimeout.name) {
      const { approvalId, companyId } = job.data as JobPayloads['approval.timeout'];
      return this.approvals.expire(approvalId, companyId);
    }
    return undefined;
  }
}
