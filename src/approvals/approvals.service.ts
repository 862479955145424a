import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { EntitiesService } from '../entities/entities.service';
import { contractViolations } from '../execution/contract';
import type { HumanApproval } from '../infra/database/generated/client';
import type { TenantScope } from '../infra/database/tenant-scope';
import { NotFound } from '../infra/http/domain-error';
import { Metrics } from '../infra/metrics/metrics';
import { keyset, toPage, type Page } from '../infra/http/pagination';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { requireRole, type Caller } from '../tenancy/caller';
import { CompaniesService } from '../tenancy/companies.service';
import { ApprovalNotifier } from './approval-notifier';
import { toApprovalResponse } from './approval-response';
import { rulesOf } from './approval-rules';
import { ApprovalNotPending, EditInvalid, EditNotApplicable } from './approvals.errors';
import { ApprovalsRepository, type Answer } from './approvals.repository';
import type { AnswerApprovalDto, ListApprovalsQuery, RejectApprovalDto } from './dto/approval.dto';

/** A budget approval's edit: the run's new caps. */
const BUDGET_EDIT_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    maxCostUsd: {
      anyOf: [
        { type: 'string', pattern: '^(?:0|[1-9][0-9]{0,11})(?:\\.[0-9]{1,10})?$' },
        { type: 'number', minimum: 0 },
      ],
    },
    maxTokens: { type: 'integer', minimum: 1, maximum: 100_000_000 },
  },
};

/** What the approver sees and may edit (see RunExecutor's checkpoints). */
export interface ApprovalSnapshot {
  rule: number;
  trigger: string;
  pending?: { kind: 'tool' | 'child' | 'run' | 'budget'; name: string; entityId: string; arguments: unknown };
  output?: unknown;
}

/**
 * Answers to human approvals. An answer is one conditional update (exactly one wins);
 * the run it releases is resumed by a job with the approval's id, so it continues
 * once. Timeouts apply `onTimeout` the same way.
 */
@Injectable()
export class ApprovalsService {
  constructor(
    private readonly approvals: ApprovalsRepository,
    private readonly entities: EntitiesService,
    private readonly companies: CompaniesService,
    private readonly notifier: ApprovalNotifier,
    private readonly metrics: Metrics,
    @InjectQueue(QueueName.Execution) private readonly execution: Queue,
  ) {}

  async list(
    caller: Caller,
    query: ListApprovalsQuery,
  ): Promise<Page<ReturnType<typeof toApprovalResponse>>> {
    const rows = await this.approvals.list(
      caller.scope,
      { status: query.status ?? 'PENDING', runId: query.runId },
      keyset(query),
    );
    return toPage(rows, query, toApprovalResponse);
  }

  async get(caller: Caller, id: string): Promise<HumanApproval> {
    const approval = await this.approvals.findVisible(caller.scope, id);
    if (!approval) throw new NotFound('Approval');
    return approval;
  }

  async approve(caller: Caller, id: string, dto: AnswerApprovalDto): Promise<HumanApproval> {
    const approval = await this.answerable(caller, id);
    const snapshot = approval.contextSnapshot as unknown as ApprovalSnapshot;
    // null is "no edit", like an absent field.
    const editedInput = dto.editedInput ?? undefined;
    const editedOutput = dto.editedOutput ?? undefined;
    if (editedInput !== undefined) await this.checkEditedInput(caller, approval, snapshot, editedInput);
    if (editedOutput !== undefined) await this.checkEditedOutput(caller, approval, editedOutput);
    return this.settle(caller.scope, approval, {
      status: 'APPROVED',
      respondedBy: caller.userId,
      reviewerNotes: dto.notes ?? null,
      editedInput: editedInput,
      editedOutput: editedOutput,
    });
  }

  async reject(caller: Caller, id: string, dto: RejectApprovalDto): Promise<HumanApproval> {
    const approval = await this.answerable(caller, id);
    return this.settle(caller.scope, approval, {
      status: 'REJECTED',
      respondedBy: caller.userId,
      reviewerNotes: dto.notes ?? null,
    });
  }

  /** The id of a run's most recently answered approval (whose resume job may be live). */
  async latestAnswered(scope: TenantScope, runId: string): Promise<string | null> {
    return this.approvals.latestAnswered(scope, runId);
  }

  /** The delayed timeout job: applies onTimeout if the approval is still PENDING. */
  async expire(approvalId: string, companyId: string): Promise<void> {
    const { scope } = await this.companies.runContext(companyId);
    const approval = await this.approvals.findVisible(scope, approvalId);
    if (!approval || approval.status !== 'PENDING') return;
    const answer: Answer =
      approval.onTimeout === 'approve'
        ? { status: 'APPROVED', reviewerNotes: 'Approved automatically when the deadline passed.' }
        : { status: 'EXPIRED', reviewerNotes: 'No answer before the deadline.' };
    await this.settle(scope, approval, answer, false).catch((error: unknown) => {
      // Answered by a person meanwhile: nothing left to do.
      if (!(error instanceof ApprovalNotPending)) throw error;
    });
  }

  private async answerable(caller: Caller, id: string): Promise<HumanApproval> {
    const approval = await this.get(caller, id);
    requireRole(caller, 'approver');
    if (approval.status !== 'PENDING') throw new ApprovalNotPending(approval.status);
    return approval;
  }

  private async settle(
    scope: TenantScope,
    approval: HumanApproval,
    answer: Answer,
    beforeDeadline = true,
  ): Promise<HumanApproval> {
    // The rule (for its channels) is read first: the resolved notice commits with the answer.
    const run = await this.approvals.runOf(scope, approval.runId);
    const entity = run ? await this.entities.findForRun(scope, run.entityId) : null;
    const snapshot = approval.contextSnapshot as unknown as ApprovalSnapshot;
    const rule = entity ? rulesOf(entity)[snapshot.rule] : undefined;
    const result = await this.approvals.answer(scope, approval.id, answer, beforeDeadline, (tx, answered) =>
      this.notifier.record(tx, answered, rule, 'approval.resolved'),
    );
    if (!result) {
      const now = await this.approvals.findVisible(scope, approval.id);
      const expired = now?.status === 'PENDING' && !!now.expiresAt && now.expiresAt <= new Date();
      throw new ApprovalNotPending(now?.status ?? approval.status, expired || now?.status === 'EXPIRED');
    }
    this.metrics.approvalWait.observe(
      { checkpoint: result.approval.checkpoint, status: result.approval.status },
      ((result.approval.respondedAt ?? new Date()).getTime() - result.approval.createdAt.getTime()) / 1000,
    );
    const payload = { runId: result.run.id, companyId: result.run.companyId, approvalId: approval.id };
    await this.execution.add(Jobs.ExecuteRun.name, payload, JOB_OPTIONS['run.execute'](payload));
    await this.notifier.dispatch(result.outgoing);
    return result.approval;
  }

  /** editedInput replaces the pending call's arguments: it must fit the callee's input contract. */
  private async checkEditedInput(
    caller: Caller,
    approval: HumanApproval,
    snapshot: ApprovalSnapshot,
    edited: unknown,
  ): Promise<void> {
    if (!snapshot.pending) throw new EditNotApplicable('editedInput', approval.checkpoint);
    if (snapshot.pending.kind === 'budget') {
      const violations = contractViolations(BUDGET_EDIT_SCHEMA, edited, '/editedInput');
      if (violations.length) throw new EditInvalid(violations);
      return;
    }
    const callee = await this.entities.findForRun(caller.scope, snapshot.pending.entityId);
    const violations = contractViolations(
      (callee?.ioContract as { input?: unknown } | null)?.input,
      edited,
      '/editedInput',
    );
    if (violations.length) throw new EditInvalid(violations);
  }

  /** editedOutput replaces the output under review: it must fit the run's output contract. */
  private async checkEditedOutput(caller: Caller, approval: HumanApproval, edited: unknown): Promise<void> {
    if (approval.checkpoint !== 'output_review')
      throw new EditNotApplicable('editedOutput', approval.checkpoint);
    const run = await this.approvals.runOf(caller.scope, approval.runId);
    const entity = run ? await this.entities.findForRun(caller.scope, run.entityId) : null;
    const violations = contractViolations(
      (entity?.ioContract as { output?: unknown } | null)?.output,
      edited,
      '/editedOutput',
    );
    if (violations.length) throw new EditInvalid(violations);
  }
}
