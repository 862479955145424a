import { ApprovalNotifier } from '../../approvals/approval-notifier';
import { ApprovalsService } from '../../approvals/approvals.service';
import { Ledger } from '../../billing/ledger';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { z } from 'zod';
import { AppConfig } from '../../infra/config/config';
import { PrismaService } from '../../infra/database/prisma.service';
import type { ExecutionRun } from '../../infra/database/generated/client';
import { JOB_OPTIONS, Jobs } from '../../infra/queue/jobs';
import { QueueName } from '../../infra/queue/queue-names';
import { CompaniesService } from '../../tenancy/companies.service';
import { isTerminal } from '../run-status';
import { RunsRepository } from '../runs.repository';

const candidate = z.object({
  id: z.string(),
  company_id: z.string(),
  status: z.string(),
  overdue: z.boolean(),
});

/** Job states in which a run's job will still run. */
const LIVE = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

export interface ReconcileReport {
  requeued: string[];
  resumed: string[];
  expired: string[];
  /** Budget reservations of calls whose worker died, given back. */
  reservationsReleased: number;
  /** Approvals past their deadline whose timeout job was lost, settled by onTimeout. */
  approvalsExpired: string[];
  /** Webhooks and mails recorded but never queued (their enqueue was lost), queued again. */
  notificationsRequeued: number;
}

/**
 * Postgres is the truth about runs; Redis only carries the work. The reconciler
 * (a repeatable job) finds unfinished runs that have not moved for a while and
 * makes sure each has a live job: a run whose job Redis lost is queued again (it
 * continues from its logged steps), a parent whose children all ended is woken, and
 * a run past its governance.budget.maxDurationMs fails with DURATION_EXCEEDED, and
 * budget reservations of calls whose worker died are released.
 */
@Injectable()
export class Reconciler {
  private readonly logger = new Logger(Reconciler.name);

  constructor(
    private readonly prisma: PrismaService,
    private readonly runs: RunsRepository,
    private readonly companies: CompaniesService,
    private readonly config: AppConfig,
    private readonly ledger: Ledger,
    private readonly approvals: ApprovalsService,
    private readonly notifier: ApprovalNotifier,
    @InjectQueue(QueueName.Execution) private readonly execution: Queue,
  ) {}

  async reconcile(staleAfterMs = this.config.env.RECONCILE_STALE_AFTER_MS): Promise<ReconcileReport> {
    const rows = await this.prisma.$queryRaw<unknown[]>`
      SELECT * FROM runs_needing_attention(make_interval(secs => ${staleAfterMs / 1000}::float8), 500)`;
    const report: ReconcileReport = {
      requeued: [],
      resumed: [],
      expired: [],
      reservationsReleased: await this.ledger.releaseExpired(),
      approvalsExpired: [],
      notificationsRequeued: 0,
    };
    report.notificationsRequeued = await this.requeueNotifications(staleAfterMs);
    const overdue = await this.prisma.$queryRaw<{ id: string; company_id: string }[]>`
      SELECT id, company_id FROM approvals_overdue(100)`;
    for (const approval of overdue) {
      await this.approvals.expire(approval.id, approval.company_id);
      report.approvalsExpired.push(approval.id);
    }
    const active = new Set(
      (await this.execution.getActive()).map((job) => (job.data as { runId?: string }).runId),
    );
    for (const row of z.array(candidate).parse(rows)) {
      const { scope } = await this.companies.runContext(row.company_id);
      const run = await this.runs.findById(scope, row.id);
      if (!run || isTerminal(run.status)) continue;
      if (row.overdue) {
        const failed = await this.runs.transition(scope, run, 'FAILED', {
          errorCode: 'DURATION_EXCEEDED',
          errorMessage: 'The run outlived governance.budget.maxDurationMs.',
          completedAt: new Date(),
        });
        if (failed) {
          report.expired.push(run.id);
          if (run.parentRunId)
            await this.enqueue({ runId: run.parentRunId, companyId: run.companyId, resumeAfter: run.id });
        }
        continue;
      }
      if (run.status === 'WAITING_CHILDREN') {
        const children = await this.runs.children(scope, run.id);
        if (children.every((child) => isTerminal(child.status)) && (await this.recover(run))) {
          report.resumed.push(run.id);
        }
        continue;
      }
      // A run being worked on has a live job under its own id, or (resumed after an
      // approval) under resume-<approval id>; active jobs are checked by their payload.
      if (active.has(run.id)) continue;
      const answered = await this.approvals.latestAnswered(scope, run.id);
      const ids = [run.id, ...(answered ? [`resume-${answered}`] : [])];
      const states = await Promise.all(
        ids.map(async (id) => {
          const job = await this.execution.getJob(id);
          return job ? job.getState() : 'missing';
        }),
      );
      if (!states.some((state) => LIVE.has(state)) && (await this.recover(run))) {
        report.requeued.push(run.id);
      }
    }
    if (
      report.requeued.length ||
      report.resumed.length ||
      report.expired.length ||
      report.reservationsReleased
    ) {
      this.logger.warn(`reconciled runs: ${JSON.stringify(report)}`);
    }
    return report;
  }

  /** Outbox rows (webhook deliveries, mails) never attempted since `staleAfterMs` ago. */
  private async requeueNotifications(staleAfterMs: number): Promise<number> {
    const webhooks = await this.prisma.$queryRaw<{ id: string; company_id: string }[]>`
      SELECT id, company_id FROM webhook_deliveries_unsent(make_interval(secs => ${staleAfterMs / 1000}::float8), 200)`;
    // The mail outbox is platform infrastructure without row-level security.
    const mails = await this.prisma.mailOutbox.findMany({
      where: { status: 'pending', attempts: 0, createdAt: { lt: new Date(Date.now() - staleAfterMs) } },
      select: { id: true },
      take: 200,
    });
    for (const row of webhooks)
      await this.notifier.dispatch({ companyId: row.company_id, deliveryIds: [row.id], mailIds: [] });
    await this.notifier.dispatch({ companyId: '', deliveryIds: [], mailIds: mails.map((m) => m.id) });
    return webhooks.length + mails.length;
  }

  /**
   * Enqueues a recovery job for a stuck run, named after the run's last change: while
   * the run has not changed, later sweeps find the same job (waiting, or deferred by
   * the fairness cap) instead of adding another. A finished job of that name (it ran
   * and the run is still stuck) is removed first, or BullMQ would ignore the new one.
   * False when a recovery job for this state is still live.
   */
  private async recover(run: ExecutionRun): Promise<boolean> {
    const payload = {
      runId: run.id,
      companyId: run.companyId,
      recovery: run.updatedAt.getTime().toString(36),
    };
    const existing = await this.execution.getJob(JOB_OPTIONS['run.execute'](payload).jobId!);
    if (existing) {
      if (LIVE.has(await existing.getState())) return false;
      await existing.remove();
    }
    await this.enqueue(payload);
    return true;
  }

  private async enqueue(payload: Parameters<(typeof JOB_OPTIONS)['run.execute']>[0]): Promise<void> {
    await this.execution.add(Jobs.ExecuteRun.name, payload, JOB_OPTIONS['run.execute'](payload));
  }
}
