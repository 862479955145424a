import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import {
  Prisma,
  type ApprovalStatus,
  type ExecutionRun,
  type HumanApproval,
  type WebhookDelivery,
} from '../infra/database/generated/client';
import { ScopedDb, type TenantScope, type Tx } from '../infra/database/tenant-scope';
import type { Outgoing } from './approval-notifier';
import { RunEventsBus } from '../execution/run-events.bus';
import { appendEvent, transitionInTx, type RunRef } from '../execution/runs.repository';

export interface NewApproval {
  checkpoint: string;
  stepKey: string;
  callHash: string | null;
  contextSnapshot: Prisma.InputJsonObject;
  timeoutMs: number | null;
  onTimeout: 'reject' | 'approve' | null;
}

export interface Answer {
  status: Extract<ApprovalStatus, 'APPROVED' | 'REJECTED' | 'EXPIRED'>;
  respondedBy?: string | null;
  reviewerNotes?: string | null;
  editedInput?: Prisma.InputJsonValue;
  editedOutput?: Prisma.InputJsonValue;
}

@Injectable()
export class ApprovalsRepository {
  constructor(
    private readonly db: ScopedDb,
    private readonly bus: RunEventsBus,
  ) {}

  findForCheckpoint(scope: TenantScope, runId: string, stepKey: string): Promise<HumanApproval | null> {
    return this.db.read(scope, (tx) =>
      tx.humanApproval.findUnique({ where: { runId_stepKey: { runId, stepKey } } }),
    );
  }

  async latestAnswered(scope: TenantScope, runId: string): Promise<string | null> {
    const row = await this.db.read(scope, (tx) =>
      tx.humanApproval.findFirst({
        where: { runId, status: { not: 'PENDING' } },
        orderBy: { respondedAt: 'desc' },
        select: { id: true },
      }),
    );
    return row?.id ?? null;
  }

  runOf(scope: TenantScope, runId: string): Promise<ExecutionRun | null> {
    return this.db.read(scope, (tx) => tx.executionRun.findUnique({ where: { id: runId } }));
  }

  findVisible(scope: TenantScope, id: string): Promise<HumanApproval | null> {
    return this.db.read(scope, (tx) =>
      tx.humanApproval.findFirst({ where: { id, companyId: { in: [...scope.companyIds] } } }),
    );
  }

  list(
    scope: TenantScope,
    filters: { status: ApprovalStatus; runId?: string },
    page: { take: number; afterId?: string },
  ): Promise<HumanApproval[]> {
    return this.db.read(scope, (tx) =>
      tx.humanApproval.findMany({
        where: {
          companyId: { in: [...scope.companyIds] },
          status: filters.status,
          runId: filters.runId,
          id: page.afterId ? { gt: page.afterId } : undefined,
        },
        // Ids are UUIDv7: id order is creation order, oldest first.
        orderBy: { id: 'asc' },
        take: page.take,
      }),
    );
  }

  /**
   * Pauses a run at a checkpoint, in one transaction: the approval (PENDING), the run
   * RUNNING → AWAITING_APPROVAL with the state it continues from, and the event. A
   * retried job finds the approval it made before (unique per run and checkpoint).
   * Null when the run was no longer RUNNING (cancelled meanwhile).
   */
  async open(
    scope: TenantScope,
    run: RunRef,
    approval: NewApproval,
    state: Prisma.ExecutionRunUncheckedUpdateManyInput,
    onCreated: (tx: Tx, approval: HumanApproval) => Promise<Outgoing>,
  ): Promise<{ approval: HumanApproval; created: boolean; outgoing: Outgoing | null } | null> {
    const opened = await this.db.run(scope, async (tx) => {
      const expiresAt = approval.timeoutMs ? new Date(Date.now() + approval.timeoutMs) : null;
      const { count } = await tx.humanApproval.createMany({
        data: [{ id: uuidv7(), companyId: run.companyId, runId: run.id, expiresAt, ...approval }],
        skipDuplicates: true,
      });
      const row = await tx.humanApproval.findUniqueOrThrow({
        where: { runId_stepKey: { runId: run.id, stepKey: approval.stepKey } },
      });
      if (!(await transitionInTx(tx, run, 'AWAITING_APPROVAL', state, { approvalId: row.id }, ['RUNNING'])))
        return null;
      if (count)
        await appendEvent(tx, run, 'approval.requested', {
          approvalId: row.id,
          checkpoint: row.checkpoint,
          expiresAt: row.expiresAt?.toISOString() ?? null,
        });
      // The channels' messages commit with the approval (see ApprovalNotifier).
      return { approval: row, created: count > 0, outgoing: count ? await onCreated(tx, row) : null };
    });
    this.bus.publish(run.rootRunId ?? run.id);
    return opened;
  }

  /**
   * Answers a PENDING approval as one conditional update (the loser of a race changes
   * nothing) and, in the same transaction, moves its run AWAITING_APPROVAL → QUEUED:
   * a run that is QUEUED in Postgres is always resumed, by the job enqueued after the
   * commit or, if that enqueue was lost, by the reconciler. `beforeDeadline` refuses
   * an answer after expires_at (the timeout job itself passes false).
   */
  async answer(
    scope: TenantScope,
    id: string,
    answer: Answer,
    beforeDeadline: boolean,
    onAnswered: (tx: Tx, approval: HumanApproval) => Promise<Outgoing>,
  ): Promise<{ approval: HumanApproval; run: ExecutionRun; outgoing: Outgoing } | null> {
    const answered = await this.db.run(scope, async (tx) => {
      const { count } = await tx.humanApproval.updateMany({
        where: {
          id,
          status: 'PENDING',
          ...(beforeDeadline ? { OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] } : {}),
        },
        data: { ...answer, respondedAt: new Date() },
      });
      if (!count) return null;
      const approval = await tx.humanApproval.findUniqueOrThrow({ where: { id } });
      const run = await tx.executionRun.findUniqueOrThrow({ where: { id: approval.runId } });
      // Only a run that is waiting for this answer moves on (not one cancelled or running).
      await transitionInTx(tx, run, 'QUEUED', {}, { approvalId: id }, ['AWAITING_APPROVAL']);
      await appendEvent(tx, run, 'approval.resolved', {
        approvalId: id,
        checkpoint: approval.checkpoint,
        status: approval.status,
        respondedBy: approval.respondedBy,
      });
      return { approval, run, outgoing: await onAnswered(tx, approval) };
    });
    if (answered) this.bus.publish(answered.run.rootRunId ?? answered.run.id);
    return answered;
  }

  findDelivery(scope: TenantScope, id: string): Promise<WebhookDelivery | null> {
    return this.db.read(scope, (tx) => tx.webhookDelivery.findUnique({ where: { id } }));
  }

  deliveries(scope: TenantScope, approvalId: string): Promise<WebhookDelivery[]> {
    return this.db.read(scope, (tx) =>
      tx.webhookDelivery.findMany({ where: { approvalId }, orderBy: { id: 'asc' } }),
    );
  }

  async recordAttempt(
    scope: TenantScope,
    id: string,
    outcome: { delivered: boolean; statusCode?: number; error?: string; final: boolean },
  ): Promise<void> {
    await this.db.run(scope, (tx) =>
      tx.webhookDelivery.update({
        where: { id },
        data: {
          attempts: { increment: 1 },
          lastStatusCode: outcome.statusCode ?? null,
          lastError: outcome.error?.slice(0, 2000) ?? null,
          status: outcome.delivered ? 'delivered' : outcome.final ? 'failed' : 'pending',
          deliveredAt: outcome.delivered ? new Date() : undefined,
        },
      }),
    );
  }
}
