import { canonicalJson } from '../infra/crypto/canonical-json';
import { createHash } from 'node:crypto';
import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { runBudget } from '../billing/run-budget';
import { EntitiesService } from '../entities/entities.service';
import { LRUCache } from 'lru-cache';
import type { VersionedEntity } from '../entities/entities.repository';
import { scopeKey } from '../infra/database/batched';
import {
  Prisma,
  type ExecutionRun,
  type HierarchicalEntity,
  type RunStatus,
} from '../infra/database/generated/client';
import { DomainError, NotFound, ValidationFailed } from '../infra/http/domain-error';
import { keyset, toPage, type Page } from '../infra/http/pagination';
import { BackgroundAdds } from '../infra/queue/background-adds';
import { AppConfig } from '../infra/config/config';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { startRunSpan } from '../infra/tracing/tracing';
import { inScope, requireRole, type Caller } from '../tenancy/caller';
import { contractViolations } from './contract';
import type { CreateRunDto, ListRunsQuery, RunResponse, RunTreeNode } from './dto/run.dto';
import {
  EntityChanged,
  EntityNotRunnable,
  IdempotencyConflict,
  RunNotFinished,
  RunTerminal,
} from './execution.errors';
import { isTerminal } from './run-status';
import { toRunResponse } from './run-response';
import { RunEventsBus } from './run-events.bus';
import { RunsRepository } from './runs.repository';

const IDEMPOTENCY_WINDOW_MS = 24 * 3_600_000;

interface CreateOptions {
  idempotencyKey?: string;
  metadata?: Prisma.InputJsonObject;
  /** The request's trace: the run continues it (its trace id, a span of its own). */
  trace?: Context;
}

/** How often a live event stream looks for new events when no pub/sub message came. */
const EVENT_POLL_MS = 2_000;

class InvalidIdempotencyKey extends DomainError {
  constructor() {
    super('invalid', 'INVALID_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1 to 200 visible ASCII characters.');
  }
}

@Injectable()
export class RunsService implements BeforeApplicationShutdown {
  constructor(
    private readonly runs: RunsRepository,
    private readonly entities: EntitiesService,
    private readonly bus: RunEventsBus,
    private readonly config: AppConfig,
    @InjectQueue(QueueName.Execution) queue: Queue,
  ) {
    this.jobs = new BackgroundAdds(queue, new Logger(RunsService.name), 'the reconciler queues its run');
  }

  /**
   * A run's job, added once its row is committed. The answer does not wait for Redis:
   * Postgres is the record of the run (it is accepted once written), and a run whose
   * job never arrives is queued by the reconciler. Runs posted together are enqueued
   * together (one addBulk).
   */
  private readonly jobs: BackgroundAdds;

  /** The jobs of runs already answered go to Redis before its connection closes
   *  (the queues close after this hook, in onApplicationShutdown). */
  async beforeApplicationShutdown(): Promise<void> {
    // At most half the grace: with Redis down, a wait would not end sooner anyway,
    // and the reconciler queues those runs.
    await this.jobs.settled(this.config.env.SHUTDOWN_GRACE_MS / 2);
  }

  /** Entities recently run, by caller scope and id, with the row version each was
   *  read at: a run's creation skips its entity read when the row is remembered, and
   *  its insert checks that the row is still that version (insertRootRuns). Bounded,
   *  and each entry is read again after a minute anyway. */
  private readonly recentEntities = new LRUCache<string, VersionedEntity>({ max: 1_000, ttl: 60_000 });

  /**
   * Validates and records a run (QUEUED), then starts enqueueing it by id. With an
   * Idempotency-Key, the same key and body within 24 h return the same run.
   *
   * Every POST of a run used to read its entity first; the row is remembered instead,
   * and the run is written only if the row is still the version remembered and in the
   * caller's scope. A changed row, or any refusal decided on the remembered row, is
   * decided again on a fresh read: answers are those of the row as it is now. A
   * request with an Idempotency-Key always reads the row: it may be answered with an
   * earlier run before any insert could check the version.
   */
  async create(
    caller: Caller,
    entityId: string,
    dto: CreateRunDto,
    options: CreateOptions = {},
  ): Promise<ExecutionRun> {
    const key = `${scopeKey(caller.scope)}|${entityId}`;
    const recent = options.idempotencyKey === undefined ? this.recentEntities.get(key) : undefined;
    if (recent) {
      try {
        return await this.createFor(caller, recent, dto, options);
      } catch (error) {
        if (!(error instanceof DomainError || error instanceof EntityChanged)) throw error;
        this.recentEntities.delete(key);
      }
    }
    const current = await this.entities.getVersioned(caller, entityId);
    // Checked against the row just read, as before the cache: no version to compare.
    const run = await this.createFor(caller, { entity: current.entity }, dto, options);
    this.recentEntities.set(key, current);
    return run;
  }

  /** create, for the entity row given; with its version, written only if the row is
   *  still that version (else EntityChanged). */
  private async createFor(
    caller: Caller,
    { entity, version }: { entity: HierarchicalEntity; version?: string },
    dto: CreateRunDto,
    options: CreateOptions,
  ): Promise<ExecutionRun> {
    const entityId = entity.id;
    const { idempotencyKey, metadata = {} } = options;
    requireRole(caller, 'member');
    const runnable =
      entity.status === 'ACTIVE' ||
      entity.status === 'DEPRECATED' ||
      (entity.status === 'DRAFT' && dto.test === true);
    if (!runnable) throw new EntityNotRunnable(entity.status);
    // A catalog entity runs in the caller's company; an own entity in its company.
    const companyId = inScope(caller, entity.companyId) ? entity.companyId : caller.companyId;
    const violations = contractViolations(
      (entity.ioContract as { input?: unknown } | null)?.input,
      dto.input,
      '/input',
    );
    if (violations.length)
      throw new ValidationFailed(violations, 'The input does not match the entity’s input contract.');

    let hash: string | undefined;
    if (idempotencyKey !== undefined) {
      if (!/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) throw new InvalidIdempotencyKey();
      hash = createHash('sha256')
        .update(
          canonicalJson({ entityId, input: dto.input, context: dto.context ?? {}, test: dto.test ?? false }),
        )
        .digest('hex');
      const existing = await this.reuse(caller, companyId, idempotencyKey, hash);
      if (existing) return existing;
    }

    // Suspension and spent budgets refuse the run in the transaction that writes it.
    const run = await this.runs.createRoot(caller.scope, {
      companyId,
      entityId,
      triggeredBy: caller.userId,
      isTest: dto.test ?? false,
      inputData: dto.input ?? null,
      context: dto.context ?? {},
      ...startRunSpan(options.trace ?? ROOT_CONTEXT, 'run.create', {
        'hirebuddha.entity.id': entityId,
        'hirebuddha.entity.type': entity.type,
      }),
      idempotencyKey,
      idempotencyHash: hash,
      metadata,
      ...runBudget(entity.governance),
      entityVersion: version,
    });
    // Lost the race for this key to a concurrent request: answer with its run.
    if (!run) return (await this.reuse(caller, companyId, idempotencyKey!, hash!))!;
    const payload = { runId: run.id, companyId };
    this.jobs.start(Jobs.ExecuteRun.name, payload, JOB_OPTIONS['run.execute'](payload));
    return run;
  }

  private async reuse(
    caller: Caller,
    companyId: string,
    key: string,
    hash: string,
  ): Promise<ExecutionRun | null> {
    const existing = await this.runs.findByIdempotencyKey(caller.scope, companyId, key);
    if (!existing) return null;
    if (Date.now() - existing.createdAt.getTime() > IDEMPOTENCY_WINDOW_MS) {
      await this.runs.releaseIdempotencyKey(caller.scope, existing.id);
      return null;
    }
    if (existing.idempotencyHash !== hash) throw new IdempotencyConflict();
    return existing;
  }

  async list(caller: Caller, query: ListRunsQuery): Promise<Page<RunResponse>> {
    const rows = await this.runs.list(caller.scope, query, keyset(query));
    return toPage(rows, query, (run) => toRunResponse(run));
  }

  async get(caller: Caller, id: string): Promise<ExecutionRun> {
    const run = await this.runs.findById(caller.scope, id);
    if (!run) throw new NotFound('Run');
    return run;
  }

  async describe(caller: Caller, id: string): Promise<RunResponse> {
    const found = await this.runs.findWithChildren(caller.scope, id);
    if (!found) throw new NotFound('Run');
    return toRunResponse(found.run, found.children);
  }

  /** The run and its descendants as a tree; each node's totals include its subtree. */
  async tree(caller: Caller, id: string): Promise<RunTreeNode> {
    await this.get(caller, id);
    const rows = await this.runs.subtree(caller.scope, id);
    const nodes = new Map<string, RunTreeNode>(
      rows.map((row) => [
        row.id,
        {
          id: row.id,
          entityId: row.entity_id,
          parentRunId: row.parent_run_id,
          status: row.status,
          errorCode: row.error_code,
          totalCostUsd: new Prisma.Decimal(row.total_cost_usd).toFixed(6),
          totalTokens: Number(row.total_tokens),
          startedAt: row.started_at?.toISOString() ?? null,
          completedAt: row.completed_at?.toISOString() ?? null,
          children: [],
        },
      ]),
    );
    for (const node of nodes.values())
      if (node.id !== id && node.parentRunId) nodes.get(node.parentRunId)?.children.push(node);
    return nodes.get(id)!;
  }

  /** A new run of the same entity with the same input and context (metadata.retryOf). */
  async retry(caller: Caller, id: string, trace?: Context): Promise<ExecutionRun> {
    const run = await this.get(caller, id);
    if (!isTerminal(run.status)) throw new RunNotFinished(run.status);
    return this.create(
      caller,
      run.entityId,
      {
        input: run.inputData,
        context: (run.context ?? {}) as Record<string, unknown>,
        test: run.isTest,
      },
      { metadata: { retryOf: run.id }, trace },
    );
  }

  /** Cancels the run and its unfinished descendants; a worker checks the status before
   *  every step, so nothing new starts after the cancel commits. */
  async cancel(caller: Caller, id: string): Promise<RunResponse> {
    const run = await this.get(caller, id);
    requireRole(caller, 'member');
    if (isTerminal(run.status)) throw new RunTerminal(run.status);
    const cascade = async (target: ExecutionRun) => {
      await this.runs.transition(caller.scope, target, 'CANCELLED', {
        completedAt: new Date(),
        errorCode: 'CANCELLED',
        errorMessage: 'Cancelled by a user.',
      });
      for (const child of await this.runs.children(caller.scope, target.id)) {
        if (!isTerminal(child.status)) await cascade((await this.runs.findById(caller.scope, child.id))!);
      }
    };
    await cascade(run);
    const after = await this.get(caller, id);
    if (!isTerminal(after.status)) throw new RunTerminal(after.status);
    return toRunResponse(after, await this.runs.children(caller.scope, id));
  }

  /**
   * The event stream of a run: checked (scope) before the response starts, then a
   * generator that replays stored events after `lastEventId` and polls for new ones
   * until the run's own terminal status event has been sent, or the client leaves.
   */
  async events(caller: Caller, id: string, lastEventId?: string) {
    const run = await this.get(caller, id);
    let after = /^\d{1,19}$/.test(lastEventId ?? '') ? BigInt(lastEventId!) : 0n;
    const runs = this.runs;
    const bus = this.bus;
    return async function* stream(open: () => boolean) {
      while (open()) {
        const batch = await runs.eventsAfter(caller.scope, run, after);
        for (const event of batch) {
          after = event.id;
          yield {
            id: event.id.toString(),
            type: event.type,
            data: { runId: event.runId, ...(event.data as object), at: event.createdAt.toISOString() },
          };
          const status = (event.data as { status?: RunStatus }).status;
          if (event.runId === run.id && event.type === 'run.status' && status && isTerminal(status)) return;
        }
        // Woken by Redis pub/sub when the tree has new events; a slow poll covers a lost message.
        if (batch.length === 0) await bus.wait(run.rootRunId ?? run.id, EVENT_POLL_MS);
      }
    };
  }

  async llmLogs(caller: Caller, id: string) {
    await this.get(caller, id);
    const logs = await this.runs.llmLogs(caller.scope, id);
    return {
      items: logs.map((log) => ({
        id: log.id,
        stepKey: log.stepKey,
        providerName: log.providerName,
        modelName: log.modelName,
        reasoningMode: log.reasoningMode,
        promptPayload: log.promptPayload,
        responsePayload: log.responsePayload,
        inputTokens: log.inputTokens,
        outputTokens: log.outputTokens,
        cacheReadTokens: log.cacheReadTokens,
        cacheWriteTokens: log.cacheWriteTokens,
        latencyMs: log.latencyMs,
        costUsd: log.costUsd.toFixed(6),
        stopReason: log.stopReason,
        providerRequestId: log.providerRequestId,
        status: log.status,
        createdAt: log.createdAt.toISOString(),
      })),
    };
  }

  async toolLogs(caller: Caller, id: string) {
    await this.get(caller, id);
    const logs = await this.runs.toolLogs(caller.scope, id);
    return {
      items: logs.map((log) => ({
        id: log.id,
        stepKey: log.stepKey,
        toolName: log.toolName,
        toolKind: log.toolKind,
        inputPayload: log.inputPayload,
        outputPayload: log.outputPayload,
        status: log.status,
        errorMessage: log.errorMessage,
        latencyMs: log.latencyMs,
        costUsd: log.costUsd.toFixed(6),
        createdAt: log.createdAt.toISOString(),
      })),
    };
  }
}
