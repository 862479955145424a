import { isUniqueViolation } from '../infra/database/prisma-errors';
import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  Prisma,
  type ExecutionRun,
  type LlmInteractionLog,
  type RunEvent,
  type RunStatus,
  type ToolInteractionLog,
} from '../infra/database/generated/client';
import { byScopePerTurn, readsByIdPerTurn } from '../infra/database/batched';
import { ScopedDb, type Tx, type TenantScope } from '../infra/database/tenant-scope';
import { contextOfRun, startRunSpan } from '../infra/tracing/tracing';
import { settleUsage } from '../billing/ledger';
import { runBudget } from '../billing/run-budget';
import type { UsageRow } from '../billing/pricing';
import { BudgetExhausted } from '../billing/billing.errors';
import {
  claimRuns,
  endRuns,
  type ClaimedRun,
  insertRootRuns,
  type NewRootRun,
  type RunEnding,
  type RunRef,
  type ToolLog,
} from './run-batches';
import { CompanySuspended } from '../tenancy/tenancy.errors';
import { EntityChanged } from './execution.errors';
import { RunEventsBus } from './run-events.bus';
import { sourcesOf } from './run-status';

export type { ClaimedRun, RunEnding, RunRef, ToolLog } from './run-batches';

export interface RunFilters {
  status?: RunStatus;
  entityId?: string;
  parentRunId?: string;
  rootOnly?: boolean;
  from?: string;
  to?: string;
}

const treeRow = z.object({
  id: z.string(),
  entity_id: z.string(),
  parent_run_id: z.string().nullable(),
  status: z.string(),
  error_code: z.string().nullable(),
  total_cost_usd: z.string(),
  total_tokens: z.string(),
  started_at: z.date().nullable(),
  completed_at: z.date().nullable(),
});
export type TreeRow = z.infer<typeof treeRow>;

/** How deep a run sits in its tree (the root is 0), recorded when a child is made. */
export function depthOf(run: Pick<ExecutionRun, 'metadata'>): number {
  const depth = (run.metadata as { depth?: unknown } | null)?.depth;
  return typeof depth === 'number' ? depth : 0;
}

/** Run events are stored (for SSE replay) in the same transaction as what they report.
 *  One fixed SQL text for every event, so nothing is compiled per event. */
export async function appendEvent(tx: Tx, run: RunRef, type: string, data: object) {
  await tx.$executeRaw`
    INSERT INTO run_events (company_id, run_id, root_run_id, type, data)
    VALUES (${run.companyId}::uuid, ${run.id}::uuid, ${run.rootRunId ?? run.id}::uuid, ${type},
            ${JSON.stringify(data)}::jsonb)`;
}

type ChildRow = Pick<ExecutionRun, 'id' | 'entityId' | 'status'>;

/** The direct children (id, entity, status) of each parent, oldest first, in one query. */
async function childrenOf(tx: Tx, parentRunIds: string[]): Promise<Map<string, ChildRow[]>> {
  const byParent = new Map<string, ChildRow[]>(parentRunIds.map((id) => [id, []]));
  if (!parentRunIds.length) return byParent;
  const rows = await tx.executionRun.findMany({
    where: { parentRunId: { in: parentRunIds } },
    select: { id: true, entityId: true, status: true, parentRunId: true },
    orderBy: { id: 'asc' },
  });
  for (const { parentRunId, ...child } of rows) byParent.get(parentRunId ?? '')?.push(child);
  return byParent;
}

/**
 * Moves a run to `to` only from a status that may lead there (a conditional update),
 * recording the event in the same transaction. False when the run was elsewhere:
 * another worker, a cancel or an answer got there first.
 */
export async function transitionInTx(
  tx: Tx,
  run: RunRef,
  to: RunStatus,
  data: Prisma.ExecutionRunUncheckedUpdateManyInput = {},
  event: object = {},
  /** Narrower than every status that may lead to `to`: only from these. */
  from: RunStatus[] = sourcesOf(to),
): Promise<boolean> {
  const moved = await moveInTx(tx, run, to, data, from);
  if (moved) await appendEvent(tx, run, 'run.status', { status: to, ...event });
  return moved;
}

/** The conditional status update alone (the caller records its event). */
async function moveInTx(
  tx: Tx,
  run: Pick<ExecutionRun, 'id'>,
  to: RunStatus,
  data: Prisma.ExecutionRunUncheckedUpdateManyInput,
  from: RunStatus[] = sourcesOf(to),
): Promise<boolean> {
  const { count } = await tx.executionRun.updateMany({
    where: { id: run.id, status: { in: from.filter((status) => sourcesOf(to).includes(status)) } },
    data: { ...data, status: to },
  });
  return count > 0;
}

interface EndKey {
  scope: TenantScope;
  run: RunRef;
  ending: RunEnding;
  event: object;
  logs: ToolLog[];
}

/** The run event of a logged tool call. */
function toolCallEvent(log: ToolLog, costUsd?: Prisma.Decimal | string) {
  return {
    stepKey: log.stepKey,
    toolName: log.toolName,
    status: log.status ?? 'success',
    latencyMs: log.latencyMs ?? 0,
    ...(costUsd !== undefined ? { costUsd } : {}),
  };
}

export interface RunWithChildren {
  run: ExecutionRun;
  children: ChildRow[];
}

@Injectable()
export class RunsRepository {
  constructor(
    private readonly db: ScopedDb,
    private readonly bus: RunEventsBus,
  ) {}

  /** A transaction that appends run events, then the nudge to their live streams. */
  private async withEvents<T>(
    scope: TenantScope,
    rootRunId: string,
    work: (tx: Tx) => Promise<T>,
  ): Promise<T> {
    const result = await this.db.run(scope, work);
    this.bus.publish(rootRunId);
    return result;
  }

  /**
   * Writes a QUEUED root run and its first event, once its company is admitted (not
   * suspended, no budget spent), all in one statement (insertRootRuns). Null when the
   * idempotency key is taken (a concurrent request with the same key won); rejects with
   * EntityChanged when `data.entityVersion` is no longer the entity row's version.
   *
   * Runs posted together share that statement, in one transaction per scope
   * (byScopePerTurn). Each run keeps its own answer: a refused company, or a key
   * taken, affects only its own calls.
   */
  createRoot(scope: TenantScope, data: NewRootRun): Promise<ExecutionRun | null> {
    return this.rootCreates.load({ scope, data });
  }

  private readonly rootCreates = byScopePerTurn<
    { scope: TenantScope; data: NewRootRun },
    ExecutionRun | null
  >(async (scope, keys) => {
    const answers = await insertRootRuns(
      this.db,
      scope,
      keys.map((key) => key.data),
    );
    // No stream can be waiting on a run that did not exist: nothing to publish.
    return answers.map(({ run, suspended, exhausted, entityChanged }) => {
      if (suspended) return new CompanySuspended();
      if (exhausted !== null) return new BudgetExhausted(exhausted);
      if (entityChanged) return new EntityChanged();
      return run;
    });
  });

  /**
   * The child run of a parent's step, created once: the idempotency key
   * `step-<parent>-<step>` makes a retried parent find the child it already made.
   */
  async createChild(
    scope: TenantScope,
    parent: ExecutionRun,
    step: { entityId: string; stepKey: string; input: unknown },
  ): Promise<ExecutionRun> {
    const idempotencyKey = `step-${parent.id}-${step.stepKey}`;
    const existing = await this.findByIdempotencyKey(scope, parent.companyId, idempotencyKey);
    if (existing) return existing;
    const id = uuidv7();
    try {
      return await this.withEvents(scope, parent.rootRunId ?? parent.id, async (tx) => {
        const entity = await tx.hierarchicalEntity.findUnique({
          where: { id: step.entityId },
          select: { governance: true },
        });
        const child = await tx.executionRun.create({
          data: {
            id,
            companyId: parent.companyId,
            entityId: step.entityId,
            parentRunId: parent.id,
            rootRunId: parent.rootRunId ?? parent.id,
            triggeredBy: parent.triggeredBy,
            isTest: parent.isTest,
            inputData: (step.input ?? null) as Prisma.InputJsonValue,
            context: parent.context as Prisma.InputJsonValue,
            ...startRunSpan(contextOfRun(parent), 'run.create', {
              'hirebuddha.entity.id': step.entityId,
              'hirebuddha.step': step.stepKey,
            }),
            idempotencyKey,
            metadata: { depth: depthOf(parent) + 1 },
            ...runBudget(entity?.governance),
          },
        });
        await appendEvent(tx, child, 'run.status', { status: child.status, parentRunId: parent.id });
        return child;
      });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return (await this.findByIdempotencyKey(scope, parent.companyId, idempotencyKey))!;
    }
  }

  /** A run and all its descendants, in one recursive query. */
  subtree(scope: TenantScope, rootId: string): Promise<TreeRow[]> {
    return this.db.read(scope, async (tx) => {
      const rows = await tx.$queryRaw<unknown[]>`
        WITH RECURSIVE down AS (
          SELECT * FROM execution_runs WHERE id = ${rootId}::uuid
          UNION ALL
          SELECT r.* FROM execution_runs r JOIN down ON r.parent_run_id = down.id
        )
        SELECT id::text, entity_id::text, parent_run_id::text, status::text, error_code,
               total_cost_usd::text, total_tokens::text, started_at, completed_at
          FROM down ORDER BY id`;
      return z.array(treeRow).parse(rows);
    });
  }

  /** Every child run of a parent, in one query. */
  childRuns(scope: TenantScope, parentRunId: string): Promise<ExecutionRun[]> {
    return this.db.read(scope, (tx) => tx.executionRun.findMany({ where: { parentRunId } }));
  }

  /** A run's own budget, as an approver raised it. */
  async setBudget(
    scope: TenantScope,
    runId: string,
    budget: { budgetUsd?: Prisma.Decimal | string; budgetTokens?: bigint },
  ): Promise<void> {
    await this.db.run(scope, (tx) => tx.executionRun.update({ where: { id: runId }, data: budget }));
  }

  /** The run's input as a before_run approval edited it. */
  async saveInput(scope: TenantScope, runId: string, input: Prisma.JsonValue): Promise<void> {
    await this.db.run(scope, (tx) =>
      tx.executionRun.update({ where: { id: runId }, data: { inputData: input as Prisma.InputJsonValue } }),
    );
  }

  async saveState(scope: TenantScope, runId: string, state: object): Promise<void> {
    await this.db.run(scope, (tx) =>
      tx.executionRun.update({
        where: { id: runId },
        data: { contextState: state },
      }),
    );
  }

  findByIdempotencyKey(scope: TenantScope, companyId: string, key: string): Promise<ExecutionRun | null> {
    return this.db.read(scope, (tx) =>
      tx.executionRun.findUnique({ where: { companyId_idempotencyKey: { companyId, idempotencyKey: key } } }),
    );
  }

  /** Frees an expired idempotency key (older than its window) for reuse. */
  async releaseIdempotencyKey(scope: TenantScope, runId: string): Promise<void> {
    await this.db.run(scope, (tx) =>
      tx.executionRun.update({ where: { id: runId }, data: { idempotencyKey: null, idempotencyHash: null } }),
    );
  }

  findById(scope: TenantScope, id: string): Promise<ExecutionRun | null> {
    return this.db.read(scope, (tx) =>
      tx.executionRun.findFirst({ where: { id, companyId: { in: [...scope.companyIds] } } }),
    );
  }

  /**
   * What a worker needs to start on a run (claimRuns): the run as it was, its entity
   * as `scope` sees it, whether its company is suspended, and its QUEUED → RUNNING
   * start unless it is (a conditional update with its event; `started` says whether
   * this call made it). `scope` is the run's company and its catalog.
   *
   * Jobs that start together share one statement in the transaction of their scope
   * (byScopePerTurn, sent at the end of the callback that started them: BatchWindow
   * `tick`). Two claims of one run in a batch start it once: the first is told it
   * started it.
   */
  async claim(scope: TenantScope, runId: string): Promise<ClaimedRun | null> {
    const found = await this.claims.load({ scope, runId });
    if (found?.started) this.bus.publish(found.run.rootRunId ?? found.run.id);
    return found;
  }

  private readonly claims = byScopePerTurn(
    async (scope, keys: { scope: TenantScope; runId: string }[]) => {
      const runs = new Map(
        (
          await claimRuns(
            this.db,
            scope,
            keys.map((key) => key.runId),
          )
        ).map((found) => [found.run.id, found]),
      );
      const told = new Set<string>();
      return keys.map((key): ClaimedRun | null => {
        const found = runs.get(key.runId);
        if (!found) return null;
        // Told once per run; each claim gets its own copy (the executor keeps per-run state by object).
        const started = found.started && !told.has(key.runId);
        if (started) told.add(key.runId);
        return { ...found, run: { ...found.run }, started };
      });
    },
    undefined,
    'tick',
  );

  /**
   * A run and its direct children (id, entity, status). Reads of one scope that arrive
   * together share one read transaction of two queries (readsByIdPerTurn).
   */
  findWithChildren(scope: TenantScope, id: string): Promise<RunWithChildren | null> {
    return this.runReads.load({ scope, id });
  }

  private readonly runReads = readsByIdPerTurn((scope, ids) =>
    this.db.read(scope, async (tx) => {
      const runs = await tx.executionRun.findMany({
        where: { id: { in: ids }, companyId: { in: [...scope.companyIds] } },
      });
      const children = await childrenOf(
        tx,
        runs.map((run) => run.id),
      );
      return new Map(runs.map((run) => [run.id, { run, children: children.get(run.id) ?? [] }]));
    }),
  );

  list(
    scope: TenantScope,
    filters: RunFilters,
    page: { take: number; afterId?: string },
  ): Promise<ExecutionRun[]> {
    return this.db.read(scope, (tx) =>
      tx.executionRun.findMany({
        where: {
          companyId: { in: [...scope.companyIds] },
          status: filters.status,
          entityId: filters.entityId,
          parentRunId: filters.rootOnly ? null : filters.parentRunId,
          createdAt: filters.from || filters.to ? { gte: filters.from, lt: filters.to } : undefined,
          id: page.afterId ? { gt: page.afterId } : undefined,
        },
        orderBy: { id: 'asc' },
        take: page.take,
      }),
    );
  }

  async children(scope: TenantScope, parentRunId: string): Promise<ChildRow[]> {
    const byParent = await this.db.read(scope, (tx) => childrenOf(tx, [parentRunId]));
    return byParent.get(parentRunId) ?? [];
  }

  /**
   * A run's final step logs and its final status in one transaction (one commit for
   * the end of a single-step run): each log row once per (run, step key), its
   * `tool.call` event, then the conditional update and its `run.status` event. The
   * logs are written even when the status moved elsewhere meanwhile (a cancel): the
   * calls happened. True when the status moved.
   *
   * Runs that end together share one statement (endRuns) in the transaction of their
   * scope (byScopePerTurn, window `tick` as for claims). Two ends of one run in a
   * batch: the first applies, the other finds it moved.
   */
  async endWithLogs(
    scope: TenantScope,
    run: RunRef,
    ending: RunEnding,
    event: object,
    logs: ToolLog[],
  ): Promise<boolean> {
    const moved = await this.ends.load({ scope, run, ending, event, logs });
    this.bus.publish(run.rootRunId ?? run.id);
    return moved;
  }

  private readonly ends = byScopePerTurn(
    async (scope, keys: EndKey[]) => {
      // One ending per run: a second one of the same run in the batch finds it moved.
      const seen = new Set<string>();
      const first = keys.filter((key) => !seen.has(key.run.id) && seen.add(key.run.id));
      const moved = new Set(
        await endRuns(
          this.db,
          scope,
          first,
          keys.flatMap(({ run, logs }) => logs.map((log) => ({ run, log }))),
          keys.flatMap(({ run, logs, ending, event }) => [
            ...logs.map((log) => ({
              run,
              type: 'tool.call',
              data: toolCallEvent(log),
              stepKey: log.stepKey,
            })),
            { run, type: 'run.status', data: { status: ending.status, ...event } },
          ]),
        ),
      );
      return keys.map((key) => moved.delete(key.run.id));
    },
    undefined,
    'tick',
  );

  /** See transitionInTx: a conditional status update with its event. */
  transition(
    scope: TenantScope,
    run: RunRef,
    to: RunStatus,
    data: Prisma.ExecutionRunUncheckedUpdateManyInput = {},
    event: object = {},
  ): Promise<boolean> {
    return this.withEvents(scope, run.rootRunId ?? run.id, (tx) => transitionInTx(tx, run, to, data, event));
  }

  findLlmLog(scope: TenantScope, runId: string, stepKey: string): Promise<LlmInteractionLog | null> {
    return this.db.read(scope, (tx) =>
      tx.llmInteractionLog.findUnique({ where: { runId_stepKey: { runId, stepKey } } }),
    );
  }

  llmLogs(scope: TenantScope, runId: string): Promise<LlmInteractionLog[]> {
    return this.db.read(scope, (tx) =>
      tx.llmInteractionLog.findMany({ where: { runId }, orderBy: { createdAt: 'asc' } }),
    );
  }

  /**
   * One row per (run, step key), in one transaction with its usage: the ledger rows
   * (usage_settle skips any already billed), the token and cost totals of the run and
   * its ancestors, and the release of the call's budget reservation. A replayed step
   * finds its log row and bills nothing.
   */
  async logLlmCall(
    scope: TenantScope,
    run: RunRef,
    log: Omit<Prisma.LlmInteractionLogUncheckedCreateInput, 'companyId' | 'runId'>,
    usage: { rows: UsageRow[]; total: string; unpriced: string[] },
  ): Promise<void> {
    await this.withEvents(scope, run.rootRunId ?? run.id, async (tx) => {
      const { count } = await tx.llmInteractionLog.createMany({
        data: [{ ...log, companyId: run.companyId, runId: run.id }],
        skipDuplicates: true,
      });
      const tokens =
        (log.inputTokens ?? 0) +
        (log.outputTokens ?? 0) +
        (log.cacheReadTokens ?? 0) +
        (log.cacheWriteTokens ?? 0);
      await settleUsage(tx, run.id, log.stepKey, count ? tokens : 0, count ? usage.rows : []);
      if (!count) return;
      await appendEvent(tx, run, 'llm.call', {
        stepKey: log.stepKey,
        model: log.modelName,
        inputTokens: log.inputTokens ?? 0,
        outputTokens: log.outputTokens ?? 0,
        cacheReadTokens: log.cacheReadTokens ?? 0,
        cacheWriteTokens: log.cacheWriteTokens ?? 0,
        costUsd: usage.total,
        latencyMs: log.latencyMs ?? 0,
        ...(usage.unpriced.length ? { unpriced: usage.unpriced } : {}),
      });
    });
  }

  /** Events of the run and its descendants after `afterId`, oldest first. */
  async eventsAfter(
    scope: TenantScope,
    run: Pick<ExecutionRun, 'id' | 'rootRunId'>,
    afterId: bigint,
    limit = 500,
  ): Promise<RunEvent[]> {
    return this.db.read(scope, async (tx) => {
      if (!run.rootRunId || run.rootRunId === run.id) {
        return tx.runEvent.findMany({
          where: { rootRunId: run.id, id: { gt: afterId } },
          orderBy: { id: 'asc' },
          take: limit,
        });
      }
      // A run inside a tree: its own subtree only.
      const ids = await tx.$queryRaw<{ id: string }[]>`
        WITH RECURSIVE down AS (
          SELECT id FROM execution_runs WHERE id = ${run.id}::uuid
          UNION ALL
          SELECT r.id FROM execution_runs r JOIN down ON r.parent_run_id = down.id
        )
        SELECT id FROM down`;
      // Within its tree's events (the tree's index), those of the subtree.
      return tx.runEvent.findMany({
        where: { rootRunId: run.rootRunId, runId: { in: ids.map((row) => row.id) }, id: { gt: afterId } },
        orderBy: { id: 'asc' },
        take: limit,
      });
    });
  }

  toolLogs(scope: TenantScope, runId: string): Promise<ToolInteractionLog[]> {
    return this.db.read(scope, (tx) =>
      tx.toolInteractionLog.findMany({ where: { runId }, orderBy: { createdAt: 'asc' } }),
    );
  }

  findToolLog(scope: TenantScope, runId: string, stepKey: string): Promise<ToolInteractionLog | null> {
    return this.db.read(scope, (tx) =>
      tx.toolInteractionLog.findUnique({ where: { runId_stepKey: { runId, stepKey } } }),
    );
  }

  /**
   * One row per (run, step key): a replayed step never logs twice. A priced call's
   * ledger row (and the release of its reservation) goes in the same transaction.
   */
  async logToolCall(
    scope: TenantScope,
    run: RunRef,
    log: ToolLog,
    usage?: { rows: UsageRow[] },
  ): Promise<void> {
    await this.withEvents(scope, run.rootRunId ?? run.id, async (tx) => {
      const { count } = await tx.toolInteractionLog.createMany({
        data: [{ ...log, companyId: run.companyId, runId: run.id }],
        skipDuplicates: true,
      });
      if (usage) await settleUsage(tx, run.id, log.stepKey, 0, count ? usage.rows : []);
      if (count) await appendEvent(tx, run, 'tool.call', toolCallEvent(log, usage?.rows[0]?.cost));
    });
  }
}
