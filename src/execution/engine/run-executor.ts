import type Anthropic from '@anthropic-ai/sdk';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import jsonLogic from 'json-logic-js';
import { EntitiesService } from '../../entities/entities.service';
import { aliasOf } from '../../entities/entity-rules';
import { renderTemplate, renderValue, type TemplateScope } from '../../entities/config/template';
import { Prisma, type ExecutionRun, type HierarchicalEntity } from '../../infra/database/generated/client';
import type { TenantScope } from '../../infra/database/tenant-scope';
import { addsPerTurn, type AddJob } from '../../infra/queue/adds-per-turn';
import { JOB_OPTIONS, Jobs, type JobPayloads } from '../../infra/queue/jobs';
import { QueueName } from '../../infra/queue/queue-names';
import { AppConfig } from '../../infra/config/config';
import { EgressRefused, guardedFetch, parseAllowPrivate } from '../../infra/net/egress';
import { CompaniesService } from '../../tenancy/companies.service';
import { contractViolations } from '../contract';
import { RunFailure } from '../execution.errors';
import { isTerminal } from '../run-status';
import { depthOf, RunsRepository, type ClaimedRun, type RunEnding, type ToolLog } from '../runs.repository';
import { runBuiltin, type BuiltinName } from './builtins';
import { LlmGateway, type LlmRequest, type LlmResult } from '../llm/llm-gateway';
import { BillingRefusal, Ledger, newUsageRowId } from '../../billing/ledger';
import {
  inputTokensUpperBound,
  llmCharges,
  toolCharge,
  toolWorstCase,
  worstCaseCost,
} from '../../billing/pricing';
import { planOf } from './plan';
import { ApprovalNotifier } from '../../approvals/approval-notifier';
import {
  callHash,
  ruleFor,
  rulesOf,
  type ApprovalRule,
  type ApprovalTrigger,
} from '../../approvals/approval-rules';
import { ApprovalsRepository } from '../../approvals/approvals.repository';
import { DocumentsService } from '../../knowledge/documents.service';
import { Metrics } from '../../infra/metrics/metrics';
import type { ApprovalSnapshot } from '../../approvals/approvals.service';
import type { HumanApproval } from '../../infra/database/generated/client';
import { redact, redactedValues } from './redaction';
import { storable } from './storable';
import { contextOfRun, inSpan } from '../../infra/tracing/tracing';
import type { UsageRow } from '../../billing/pricing';

/** What a parent run keeps in context_state to continue after its children. */
interface ChildState {
  runId: string;
  done?: boolean;
  output?: unknown;
}
interface OrchestrationState {
  steps?: Record<string, ChildState>;
}

interface AgentState {
  messages?: Anthropic.MessageParam[];
  iteration?: number;
  pending?: { toolUseId: string; childRunId: string }[];
  /** Tool calls of the last turn not yet dispatched (a before_tool checkpoint may hold them). */
  queued?: { toolUseId: string; name: string; input: unknown; index: number; reason: string }[];
  /** Tool results decided without a child (a reviewer rejected the call). */
  decided?: Anthropic.ToolResultBlockParam[];
  /** The final answer, once the model stopped calling tools (an output review may follow). */
  final?: string;
}

interface AgentPlanEntry {
  iteration: number;
  tool: string;
  input: unknown;
  reason: string;
  childRunId: string;
}

/** Thrown when a parent's resume finds another resume of it in progress: the job is
 *  retried (BullMQ backoff) so no child's completion is ever missed. */
class ParentBusy extends Error {}

/** Thrown at a checkpoint once the run is AWAITING_APPROVAL: the job ends, no worker waits. */
class AwaitingApproval extends Error {}

/** An approval said no (or expired with onTimeout reject): the run ends REJECTED or EXPIRED. */
class ApprovalDenied extends Error {
  constructor(readonly approval: HumanApproval) {
    super(
      approval.status === 'EXPIRED'
        ? `The ${approval.checkpoint} approval expired without an answer.`
        : `The ${approval.checkpoint} approval was rejected${approval.reviewerNotes ? `: ${approval.reviewerNotes}` : '.'}`,
    );
  }
}

/** Where a run stops for a person: which rule, under which key, about what. */
interface Checkpoint {
  trigger: ApprovalTrigger;
  rule: ApprovalRule;
  index: number;
  key: string;
  pending?: ApprovalSnapshot['pending'];
  output?: unknown;
}

const WAITING = Symbol('waiting for children');

/** The tool an AGENT with capabilities.knowledge gets, answered by a knowledge search. */
const KNOWLEDGE_TOOL = 'search_knowledge';
const KNOWLEDGE_TOOL_DEFINITION: Anthropic.Tool = {
  name: KNOWLEDGE_TOOL,
  description:
    'Search the documents this agent may use. Returns the best matching passages with their document, filename and position.',
  input_schema: {
    type: 'object',
    properties: {
      query: { type: 'string', description: 'What to look for, in plain words.' },
      topK: { type: 'integer', minimum: 1, maximum: 50, description: 'How many passages (default 5).' },
    },
    required: ['query'],
  },
};

interface ActionConfig {
  kind: 'llm' | 'http' | 'builtin' | 'retrieval';
  /** The registry SKU a tool call is billed under. */
  sku?: string;
  name?: BuiltinName;
  args?: unknown;
  query?: string;
  topK?: number;
  prompt?: string;
  method?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: unknown;
}

interface ModelConfig {
  name?: string;
  maxTokens?: number;
  temperature?: number;
  thinking?: { budgetTokens: number };
}

/**
 * Executes one run, in a worker. Everything needed to continue lives in Postgres:
 * a job that is retried (a worker died) reloads the run and replays each step that
 * was already logged instead of calling it again.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);
  /** The entity type of each run in hand, for metric labels. */
  private readonly entityTypes = new WeakMap<ExecutionRun, string>();
  /**
   * Runs this job started for the very first time, with the step keys it has logged
   * since: a step of such a run can have no log row from an earlier attempt, so
   * looking for one to replay is skipped (unless this job logged that very key).
   */
  private readonly unlogged = new WeakMap<ExecutionRun, Set<string>>();
  /**
   * Tool logs of an ACTION's single step, held until the run ends so they commit with
   * its final status (one transaction instead of two). A crash before that commit
   * re-runs the step, exactly as a crash between a call and its log always could.
   * Priced calls never wait: their ledger rows settle with the log at once.
   */
  private readonly pendingLogs = new WeakMap<ExecutionRun, ToolLog[]>();

  constructor(
    private readonly runs: RunsRepository,
    private readonly entities: EntitiesService,
    private readonly companies: CompaniesService,
    private readonly llm: LlmGateway,
    private readonly ledger: Ledger,
    private readonly approvals: ApprovalsRepository,
    private readonly notifier: ApprovalNotifier,
    private readonly documents: DocumentsService,
    private readonly metrics: Metrics,
    private readonly config: AppConfig,
    @InjectQueue(QueueName.Execution) queue: Queue,
    @InjectQueue(QueueName.Maintenance) private readonly maintenance: Queue,
  ) {
    this.adds = addsPerTurn(queue);
  }

  /** Jobs of runs that end together (their parents woken) go to Redis together. */
  private readonly adds: AddJob;

  async execute(runId: string, companyId: string): Promise<void> {
    // One statement: the run, its entity as the run's scope sees it (the catalog above
    // its company included), whether the company is suspended, and unless it is the
    // run's QUEUED → RUNNING start.
    const scope = await this.companies.workerScope(companyId);
    const claim = await this.runs.claim(scope, runId);
    if (!claim || isTerminal(claim.run.status)) return;
    // The job continues the run's trace: model calls (the SDK's spans), tool calls and
    // queries below are children of this span.
    await inSpan(
      'run.execute',
      { 'hirebuddha.run.id': claim.run.id, 'hirebuddha.company.id': claim.run.companyId },
      () => this.executeClaimed(scope, claim),
      contextOfRun(claim.run),
    );
  }

  private async executeClaimed(
    scope: TenantScope,
    { run, entity, started, suspended }: ClaimedRun,
  ): Promise<void> {
    if (suspended) {
      await this.fail(scope, run, new RunFailure('COMPANY_SUSPENDED', 'The company is suspended.'));
      return;
    }
    // QUEUED → RUNNING (done by the claim), or WAITING_CHILDREN → RUNNING when a child
    // ended; a retried job finds the run RUNNING already and carries on.
    const resumed = run.status === 'WAITING_CHILDREN';
    if (run.status === 'QUEUED' && !started) return;
    if (run.status === 'WAITING_CHILDREN' && !(await this.runs.transition(scope, run, 'RUNNING'))) {
      if ((await this.runs.findById(scope, run.id))?.status === 'RUNNING') {
        throw new ParentBusy(`run ${run.id} is being resumed by another job`);
      }
      return;
    }
    if (!['QUEUED', 'RUNNING', 'WAITING_CHILDREN'].includes(run.status)) return;
    // This job started the run for the first time (a resume after an approval comes
    // back through QUEUED, but has started before): no step can have a log row yet.
    if (started && run.startedAt === null) this.unlogged.set(run, new Set());

    try {
      if (!entity) throw new RunFailure('ENTITY_NOT_FOUND', 'The entity of this run is no longer visible.');
      this.entityTypes.set(run, entity.type);
      const templateScope: TemplateScope = {
        input: run.inputData,
        context: run.context,
        steps: {},
      };

      const gate = (entity.logicGate as { when?: unknown } | null)?.when;
      // The gate is decided when the run starts (a retried start decides it again, the
      // same way); a parent resumed after its children has passed it already.
      if (
        !resumed &&
        gate !== undefined &&
        !jsonLogic.apply(gate, { input: run.inputData, context: run.context })
      ) {
        await this.finish(scope, run, 'SKIPPED', null);
        return;
      }

      // before_run: decided once, when the run starts (not when children wake it).
      const beforeRun = resumed ? null : ruleFor(rulesOf(entity), 'before_run');
      if (beforeRun) {
        const approval = await this.checkpoint(scope, run, entity, {
          trigger: 'before_run',
          ...beforeRun,
          key: 'approval-before_run',
          pending: { kind: 'run', name: aliasOf(entity), entityId: entity.id, arguments: run.inputData },
        });
        if (approval.editedInput !== null && approval.editedInput !== undefined) {
          run.inputData = approval.editedInput;
          templateScope.input = approval.editedInput;
          await this.runs.saveInput(scope, run.id, approval.editedInput);
        }
      }

      let output = await this.perform(scope, run, entity, templateScope);
      if (output === WAITING) return;
      // The final transition is conditional (a cancel that came in wins); a review
      // would open an approval, so it checks first.
      const review = ruleFor(rulesOf(entity), 'output_review');
      if (review) {
        if (!(await this.stillRunning(scope, run))) return;
        const approval = await this.checkpoint(scope, run, entity, {
          trigger: 'output_review',
          ...review,
          key: 'approval-output',
          output,
        });
        if (approval.editedOutput !== null && approval.editedOutput !== undefined)
          output = approval.editedOutput;
      }
      const violations = contractViolations(
        (entity.ioContract as { output?: unknown } | null)?.output,
        output,
        '/output',
      );
      if (violations.length) {
        throw new RunFailure(
          'OUTPUT_CONTRACT_VIOLATION',
          violations.map((v) => `${v.pointer} ${v.message}`).join('; '),
        );
      }
      await this.finish(scope, run, 'COMPLETED', output);
    } catch (error) {
      if (error instanceof ParentBusy) throw error;
      if (error instanceof AwaitingApproval) return;
      if (error instanceof ApprovalDenied) {
        await this.deny(scope, run, error);
        return;
      }
      const failure =
        error instanceof RunFailure
          ? error
          : new RunFailure('INTERNAL_ERROR', 'The run failed unexpectedly.');
      if (!(error instanceof RunFailure)) this.logger.error(`run ${run.id} failed: ${String(error)}`);
      await this.fail(scope, run, failure);
    }
  }

  /**
   * A human checkpoint. Answered already (this is the resumed run): the approval is
   * returned when it approved the very call it was asked about, ApprovalDenied thrown
   * when it said no. Not answered: the approval is opened, the run saves `state` and
   * goes AWAITING_APPROVAL in one transaction, the channels are told, the deadline is
   * scheduled, and AwaitingApproval ends the job: no worker waits for a person.
   */
  private async checkpoint(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    at: Checkpoint,
    state: Prisma.ExecutionRunUncheckedUpdateManyInput = {},
  ): Promise<HumanApproval> {
    await this.flushLogs(scope, run);
    const hash = at.pending ? callHash(at.pending.name, at.pending.arguments) : null;
    const answered = await this.approvals.findForCheckpoint(scope, run.id, at.key);
    if (answered && answered.status !== 'PENDING') {
      if (answered.status !== 'APPROVED') throw new ApprovalDenied(answered);
      // Bound to the call it was asked about; an edited call (the approver's own edit,
      // applied before a later resume) is the same approval.
      const edited =
        at.pending && answered.editedInput !== null ? callHash(at.pending.name, answered.editedInput) : null;
      if (answered.callHash !== hash && edited !== hash)
        throw new RunFailure(
          'APPROVAL_MISMATCH',
          'The approval was given for another call than the one pending.',
        );
      return answered;
    }
    const current = await this.runs.findById(scope, run.id);
    const observability = (entity.observability ?? {}) as { redact?: unknown };
    const secrets = redactedValues(observability.redact, { input: run.inputData, context: run.context });
    const snapshot = redact(
      {
        rule: at.index,
        trigger: at.trigger,
        runId: run.id,
        entityId: entity.id,
        entityName: entity.displayName ?? entity.name,
        input: run.inputData,
        costSoFarUsd: (current?.totalCostUsd ?? run.totalCostUsd).toFixed(6),
        ...(at.pending ? { pending: at.pending } : {}),
        ...(at.output !== undefined ? { output: at.output } : {}),
      },
      secrets,
    ) as Prisma.InputJsonObject;
    const opened = await this.approvals.open(
      scope,
      run,
      {
        checkpoint: at.trigger,
        stepKey: at.key,
        callHash: hash,
        contextSnapshot: snapshot,
        timeoutMs: at.rule.timeoutMs ?? null,
        onTimeout: at.rule.timeoutMs ? (at.rule.onTimeout ?? 'reject') : null,
      },
      state,
      (tx, row) => this.notifier.record(tx, row, at.rule, 'approval.requested'),
    );
    if (opened?.created) {
      if (at.rule.timeoutMs) {
        const payload = { approvalId: opened.approval.id, companyId: run.companyId };
        await this.maintenance.add(Jobs.ApprovalTimeout.name, payload, {
          ...JOB_OPTIONS['approval.timeout'](payload),
          delay: at.rule.timeoutMs,
        });
      }
      if (opened.outgoing) await this.notifier.dispatch(opened.outgoing);
    }
    throw new AwaitingApproval();
  }

  /** cost_above: before a model or tool call, pause once the run has spent past the threshold. */
  private async costCheckpoint(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    state: Prisma.ExecutionRunUncheckedUpdateManyInput = {},
  ): Promise<void> {
    const found = ruleFor(rulesOf(entity), 'cost_above');
    if (!found) return;
    const current = await this.runs.findById(scope, run.id);
    if (!current || current.totalCostUsd.lte(String(found.rule.thresholdUsd ?? 0))) return;
    await this.checkpoint(
      scope,
      run,
      entity,
      { trigger: 'cost_above', ...found, key: `approval-cost-${found.index}` },
      state,
    );
  }

  /** The run ends REJECTED (or EXPIRED) as its approval decided; its parent is woken. */
  private async deny(scope: TenantScope, run: ExecutionRun, denied: ApprovalDenied): Promise<void> {
    const expired = denied.approval.status === 'EXPIRED';
    await this.end(
      scope,
      run,
      expired ? 'EXPIRED' : 'REJECTED',
      { errorCode: expired ? 'APPROVAL_EXPIRED' : 'APPROVAL_REJECTED', errorMessage: denied.message },
      { approvalId: denied.approval.id },
    );
  }

  private async perform(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    templateScope: TemplateScope,
  ): Promise<unknown> {
    switch (entity.type) {
      case 'SKILL':
      case 'PROCESS':
        return this.orchestrate(scope, run, entity, templateScope);
      case 'AGENT':
        return this.agent(scope, run, entity, templateScope);
      case 'ACTION':
        break;
    }
    const action = (entity.capabilities as { action?: ActionConfig } | null)?.action;
    if (action?.kind === 'llm') return this.llmAction(scope, run, entity, action, templateScope);
    if (action?.kind === 'http') return this.httpAction(scope, run, entity, action, templateScope);
    if (action?.kind === 'retrieval') {
      const query = renderTemplate(action.query ?? '', templateScope);
      return this.searchKnowledge(scope, run, entity, 'action', query, action.topK, action.sku);
    }
    if (action?.kind !== 'builtin' || !action.name) {
      throw new RunFailure(
        'UNSUPPORTED_ACTION',
        `An ACTION needs capabilities.action (llm, http, builtin or retrieval); this one has ${action?.kind ?? 'none'}.`,
      );
    }
    return this.step(
      scope,
      run,
      entity,
      'action',
      action.name,
      'builtin',
      action.args,
      () => runBuiltin(action.name!, action.args, templateScope),
      action.sku,
    );
  }

  /**
   * An HTTP ACTION through the egress guard: only public addresses (or the
   * operator's EGRESS_ALLOW_PRIVATE_HOSTS), narrowed by governance.allowedHosts,
   * redirects re-checked, time and size bounded. A refusal is logged like any call.
   */
  private async httpAction(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    action: ActionConfig,
    templateScope: TemplateScope,
  ): Promise<unknown> {
    const url = renderTemplate(action.url ?? '', templateScope);
    const method = (action.method ?? 'GET').toUpperCase();
    const headers = Object.fromEntries(
      Object.entries(action.headers ?? {}).map(([name, value]) => [
        name,
        renderTemplate(String(value), templateScope),
      ]),
    );
    const rendered = action.body === undefined ? undefined : renderValue(action.body, templateScope);
    const body =
      rendered === undefined ? undefined : typeof rendered === 'string' ? rendered : JSON.stringify(rendered);
    if (body !== undefined && typeof rendered !== 'string') headers['content-type'] ??= 'application/json';
    const allowedHosts = (entity.governance as { allowedHosts?: string[] } | null)?.allowedHosts;
    return this.step(
      scope,
      run,
      entity,
      'action',
      `${method} ${url}`.slice(0, 200),
      'http',
      { method, url, headers, body: rendered },
      async () => {
        const response = await guardedFetch(
          { method, url, headers, body },
          { allowedHosts, allowPrivate: parseAllowPrivate(this.config.env.EGRESS_ALLOW_PRIVATE_HOSTS) },
          {
            timeoutMs: this.config.env.HTTP_ACTION_TIMEOUT_MS,
            maxResponseBytes: this.config.env.HTTP_ACTION_MAX_RESPONSE_BYTES,
            maxRedirects: 3,
          },
        );
        if (response.status >= 400) throw new Error(`${method} ${url} answered ${response.status}`);
        return { status: response.status, body: response.body };
      },
      action.sku,
    );
  }

  /**
   * An LLM ACTION: one Messages API call under the step key `action`. A logged call
   * is replayed from its log row, never made twice. Prompts are logged unless
   * observability.logPrompts is false, with observability.redact values blanked.
   */
  private async llmAction(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    action: ActionConfig,
    templateScope: TemplateScope,
  ): Promise<unknown> {
    const stepKey = 'action';
    const logged = this.mayHaveLogged(run, stepKey)
      ? await this.runs.findLlmLog(scope, run.id, stepKey)
      : null;
    if (logged) return (logged.responsePayload as { text?: unknown } | null)?.text ?? null;
    await this.costCheckpoint(scope, run, entity);

    const capabilities = (entity.capabilities ?? {}) as { model?: ModelConfig };
    const result = await this.callModel(scope, run, entity, templateScope, stepKey, {
      model: capabilities.model?.name,
      maxTokens: capabilities.model?.maxTokens,
      temperature: capabilities.model?.temperature,
      thinking: capabilities.model?.thinking,
      prompt: renderTemplate(action.prompt ?? '', templateScope),
    });
    return result.text;
  }

  /**
   * One Messages API call, logged under its step key: tokens (cache included),
   * latency, the provider's request id; prompts unless observability.logPrompts is
   * false; observability.redact values blanked everywhere. The response is always
   * kept, since a replay needs it.
   */
  private async callModel(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    templateScope: TemplateScope,
    stepKey: string,
    request: Omit<LlmRequest, 'system'>,
  ): Promise<LlmResult> {
    const identity = (entity.identity ?? {}) as { instructions?: string };
    const observability = (entity.observability ?? {}) as { logPrompts?: boolean; redact?: unknown };
    const body = this.llm.request({
      ...request,
      system: identity.instructions ? renderTemplate(identity.instructions, templateScope) : undefined,
    });
    const access = await this.billing(() =>
      this.ledger.modelAccess(scope, run.companyId, 'anthropic', body.model),
    );
    if (!access.credentials) {
      throw new RunFailure(
        'NO_CREDENTIALS',
        'No Anthropic API key is configured for this company, the companies above it, or the platform.',
      );
    }
    // The worst case is held against every budget before the call, so even the first
    // call of a run cannot overshoot; the real cost replaces it when the call is logged.
    const worst = worstCaseCost(
      inputTokensUpperBound({ system: body.system, messages: body.messages, tools: body.tools }),
      body.max_tokens,
      access.prices,
    );
    await this.reserve(scope, run, entity, stepKey, worst.usd, worst.tokens);
    let result: LlmResult;
    try {
      // As a tool's answer: a NUL in the model's text would make its log row (and the
      // run's end) unstorable, and the retried job would call the model again.
      result = storable(await this.llm.complete(body, access.credentials));
    } catch (error) {
      await this.ledger.release(scope, run.id, stepKey);
      throw error;
    }
    const charges = llmCharges(result.usage, access.prices, newUsageRowId);
    for (const row of charges.rows) {
      this.metrics.llmTokens.inc({ sku: row.serviceSku }, Number(row.quantity));
      this.metrics.costUsd.inc({ sku: row.serviceSku }, Number(row.cost));
    }
    if (charges.unpriced.length)
      this.logger.warn(
        `run ${run.id}: ${body.model} has no price for ${charges.unpriced.join(', ')}; billed at zero`,
      );
    const secrets = redactedValues(observability.redact, { input: run.inputData, context: run.context });
    await this.runs.logLlmCall(
      scope,
      run,
      {
        stepKey,
        providerName: 'anthropic',
        modelName: result.model,
        reasoningMode: body.thinking?.type === 'enabled' ? 'extended_thinking' : null,
        promptPayload:
          observability.logPrompts === false
            ? Prisma.DbNull
            : (redact(result.request, secrets) as unknown as Prisma.InputJsonObject),
        responsePayload: {
          text: redact(result.text, secrets),
          stopReason: result.stopReason,
          content: redact(result.response.content, secrets),
        } as unknown as Prisma.InputJsonObject,
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        cacheReadTokens: result.usage.cacheReadTokens,
        cacheWriteTokens: result.usage.cacheWriteTokens,
        latencyMs: result.latencyMs,
        costUsd: charges.total.toFixed(10),
        stopReason: result.stopReason,
        providerRequestId: result.requestId,
      },
      { rows: charges.rows, total: charges.total.toFixed(10), unpriced: charges.unpriced },
    );
    this.logged(run, stepKey);
    return result;
  }

  /**
   * Reserves a call's worst case. When it would overrun this run's own budget and
   * governance.budget.onExceeded is `approval`, the run pauses for an approver, who
   * raises the budget (editedInput `{maxCostUsd?, maxTokens?}`) or, answering without
   * an edit, lets this one call through (the budget grows by exactly its worst case).
   */
  private async reserve(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    stepKey: string,
    usd: Prisma.Decimal,
    tokens: number,
  ): Promise<void> {
    try {
      await this.ledger.reserve(scope, run.id, stepKey, usd, tokens);
      return;
    } catch (error) {
      const onExceeded = (entity.governance as { budget?: { onExceeded?: string } } | null)?.budget
        ?.onExceeded;
      const ownBudget = error instanceof BillingRefusal && error.blocker === `run:${run.id}`;
      if (!ownBudget || onExceeded !== 'approval') {
        if (error instanceof BillingRefusal) throw new RunFailure(error.code, error.message);
        throw error;
      }
    }
    const approval = await this.checkpoint(scope, run, entity, {
      trigger: 'budget_exceeded',
      rule: { trigger: 'budget_exceeded' },
      index: -1,
      key: `approval-budget-${stepKey}`,
      pending: {
        kind: 'budget',
        name: 'governance.budget',
        entityId: entity.id,
        arguments: { call: stepKey },
      },
    });
    const current = (await this.runs.findById(scope, run.id))!;
    const edited = (approval.editedInput ?? null) as {
      maxCostUsd?: string | number;
      maxTokens?: number;
    } | null;
    await this.runs.setBudget(scope, run.id, {
      budgetUsd:
        edited?.maxCostUsd !== undefined
          ? new Prisma.Decimal(edited.maxCostUsd)
          : current.budgetUsd === null
            ? undefined
            : current.totalCostUsd.add(current.reservedUsd).add(usd),
      budgetTokens:
        edited?.maxTokens !== undefined
          ? BigInt(edited.maxTokens)
          : current.budgetTokens === null
            ? undefined
            : current.totalTokens + current.reservedTokens + BigInt(tokens),
    });
    // Raised too little: the run ends as it would have without the approval.
    await this.billing(() => this.ledger.reserve(scope, run.id, stepKey, usd, tokens));
  }

  /** A knowledge search, logged as a tool call (replayed from its log like any step). */
  private searchKnowledge(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    stepKey: string,
    query: string,
    topK?: number,
    sku?: string,
  ): Promise<unknown> {
    return this.step(
      scope,
      run,
      entity,
      stepKey,
      KNOWLEDGE_TOOL,
      'retrieval',
      { query, topK },
      async () =>
        (await this.documents.searchForRun(scope, run.companyId, entity, query, topK)).map((hit) => ({
          documentId: hit.documentId,
          filename: hit.filename,
          chunkIndex: hit.chunkIndex,
          content: hit.content,
          score: hit.score,
        })),
      sku,
    );
  }

  /** Billing refusals (budget, unreadable key) end the run with their own code. */
  private async billing<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof BillingRefusal) throw new RunFailure(error.code, error.message);
      throw error;
    }
  }

  /**
   * AGENT: a tool-use loop with the Messages API. The agent's children and
   * capabilities.tools are offered as tools (name = alias, schema = the tool's
   * ioContract.input); each tool call becomes a child run, and the agent waits for
   * them like a parent for its steps. The conversation lives in context_state and every
   * model turn is logged under `llm-<iteration>`, so a resumed or retried agent replays
   * turns instead of paying for them twice. The tool calls in order, with the model's
   * reasons, go to dynamic_plan.
   */
  private async agent(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    templateScope: TemplateScope,
  ): Promise<unknown> {
    const capabilities = (entity.capabilities ?? {}) as {
      model?: ModelConfig;
      tools?: string[];
      knowledge?: object;
    };
    const knowledge = capabilities.knowledge !== undefined;
    const maxIterations = (entity.planning as { maxIterations?: number } | null)?.maxIterations ?? 10;
    const tools = await this.toolsOf(scope, entity, capabilities.tools ?? []);
    const state = (run.contextState ?? {}) as AgentState;
    // Finished before an output review paused it: the answer stands, no new turn.
    if (state.final !== undefined) return state.final;
    const messages: Anthropic.MessageParam[] = state.messages ?? [
      {
        role: 'user',
        content: typeof run.inputData === 'string' ? run.inputData : JSON.stringify(run.inputData),
      },
    ];
    const plan: AgentPlanEntry[] = Array.isArray(run.dynamicPlan)
      ? (run.dynamicPlan as unknown as AgentPlanEntry[])
      : [];
    let iteration = state.iteration ?? 0;
    let pending = state.pending ?? [];
    let queued = state.queued ?? [];
    let decided = state.decided ?? [];
    const snapshot = () =>
      ({
        contextState: { messages, iteration, pending, queued, decided } as unknown as Prisma.InputJsonObject,
        dynamicPlan: plan as unknown as Prisma.InputJsonArray,
      }) satisfies Prisma.ExecutionRunUncheckedUpdateManyInput;
    const rules = rulesOf(entity);

    for (;;) {
      // The model's tool calls become child runs, each past its before_tool checkpoint:
      // a rejected call gets the rejection as its result and no child.
      if (queued.length) {
        while (queued.length) {
          const call = queued[0];
          if (call.name === KNOWLEDGE_TOOL) {
            // Answered in place, not by a child run: a search of the agent's knowledge.
            const args = (call.input ?? {}) as { query?: unknown; topK?: unknown };
            let content: string;
            let failed = false;
            try {
              content = JSON.stringify(
                await this.searchKnowledge(
                  scope,
                  run,
                  entity,
                  `knowledge-${iteration}-${call.index}`,
                  typeof args.query === 'string' ? args.query : JSON.stringify(args.query ?? ''),
                  typeof args.topK === 'number'
                    ? Math.min(Math.max(Math.trunc(args.topK), 1), 50)
                    : undefined,
                ),
              );
            } catch (error) {
              if (!(error instanceof RunFailure)) throw error;
              content = error.message;
              failed = true;
            }
            decided.push({ type: 'tool_result', tool_use_id: call.toolUseId, content, is_error: failed });
            queued = queued.slice(1);
            continue;
          }
          const tool = tools.find((t) => t.tool.name === call.name)!;
          let input = call.input;
          const gate = ruleFor(rules, 'before_tool', call.name);
          if (gate) {
            try {
              const approval = await this.checkpoint(
                scope,
                run,
                entity,
                {
                  trigger: 'before_tool',
                  ...gate,
                  key: `approval-tool-${iteration}-${call.index}`,
                  pending: { kind: 'tool', name: call.name, entityId: tool.entityId, arguments: call.input },
                },
                snapshot(),
              );
              if (approval.editedInput !== null && approval.editedInput !== undefined)
                input = approval.editedInput;
            } catch (error) {
              if (!(error instanceof ApprovalDenied)) throw error;
              decided.push({
                type: 'tool_result',
                tool_use_id: call.toolUseId,
                content: `A reviewer did not allow this call. ${error.message}`,
                is_error: true,
              });
              queued = queued.slice(1);
              continue;
            }
          }
          const child = await this.runs.createChild(scope, run, {
            entityId: tool.entityId,
            stepKey: `tool-${iteration}-${call.index}`,
            input,
          });
          pending.push({ toolUseId: call.toolUseId, childRunId: child.id });
          if (!plan.some((entry) => entry.childRunId === child.id))
            plan.push({ iteration, tool: call.name, input, reason: call.reason, childRunId: child.id });
          queued = queued.slice(1);
        }
        await this.runs.saveState(scope, run.id, { messages, iteration, pending, queued, decided });
        for (const call of pending) await this.enqueue({ runId: call.childRunId, companyId: run.companyId });
      }
      if (pending.length || decided.length) {
        const results: Anthropic.ToolResultBlockParam[] = [...decided];
        const children = new Map((await this.runs.childRuns(scope, run.id)).map((c) => [c.id, c]));
        for (const call of pending) {
          const child = children.get(call.childRunId);
          if (!child || !isTerminal(child.status)) {
            await this.runs.transition(scope, run, 'WAITING_CHILDREN', snapshot());
            return WAITING;
          }
          const ok = child.status === 'COMPLETED';
          results.push({
            type: 'tool_result',
            tool_use_id: call.toolUseId,
            content: ok
              ? JSON.stringify(child.resultData ?? null)
              : `The tool ended ${child.status}: ${child.errorMessage ?? child.errorCode ?? ''}`,
            is_error: !ok,
          });
        }
        messages.push({ role: 'user', content: results });
        pending = [];
        decided = [];
      }
      if (iteration >= maxIterations) {
        throw new RunFailure(
          'MAX_ITERATIONS_EXCEEDED',
          `The agent did not finish within ${maxIterations} iterations.`,
        );
      }
      if (!(await this.runs.findLlmLog(scope, run.id, `llm-${iteration}`)))
        await this.costCheckpoint(scope, run, entity, snapshot());
      const reply = await this.agentTurn(
        scope,
        run,
        entity,
        templateScope,
        `llm-${iteration}`,
        messages,
        [...tools.map((t) => t.tool), ...(knowledge ? [KNOWLEDGE_TOOL_DEFINITION] : [])],
        capabilities.model,
      );
      iteration++;
      messages.push({ role: 'assistant', content: reply.content });
      const calls = reply.content.filter(
        (block): block is Anthropic.ToolUseBlock => block.type === 'tool_use',
      );
      if (reply.stopReason !== 'tool_use' || !calls.length) {
        const final = reply.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
        await this.runs.saveState(scope, run.id, { messages, iteration, pending: [], final });
        return final;
      }
      this.checkLimits(run, plan.length + calls.length);
      const reason = reply.content
        .map((block) => (block.type === 'text' ? block.text : ''))
        .join('')
        .trim();
      for (const call of calls)
        if (call.name !== KNOWLEDGE_TOOL && !tools.some((t) => t.tool.name === call.name))
          throw new RunFailure(
            'UNKNOWN_TOOL',
            `The model called ${call.name}, which this agent does not have.`,
          );
      queued = calls.map((call, index) => ({
        toolUseId: call.id,
        name: call.name,
        input: call.input,
        index,
        reason,
      }));
    }
  }

  /** One model turn of an agent, replayed from its log row when already made. */
  private async agentTurn(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    templateScope: TemplateScope,
    stepKey: string,
    messages: Anthropic.MessageParam[],
    tools: Anthropic.Tool[],
    model: ModelConfig | undefined,
  ): Promise<{ content: Anthropic.ContentBlock[]; stopReason: string | null }> {
    const logged = this.mayHaveLogged(run, stepKey)
      ? await this.runs.findLlmLog(scope, run.id, stepKey)
      : null;
    if (logged) {
      const payload = logged.responsePayload as {
        content?: Anthropic.ContentBlock[];
        stopReason?: string | null;
      } | null;
      return { content: payload?.content ?? [], stopReason: payload?.stopReason ?? null };
    }
    const result = await this.callModel(scope, run, entity, templateScope, stepKey, {
      model: model?.name,
      maxTokens: model?.maxTokens,
      temperature: model?.temperature,
      thinking: model?.thinking,
      messages,
      tools,
    });
    return { content: result.response.content, stopReason: result.stopReason };
  }

  /** The agent's tools: its children, and capabilities.tools naming children by alias
   *  or visible (catalog) entities by id. */
  private async toolsOf(
    scope: TenantScope,
    entity: HierarchicalEntity,
    named: string[],
  ): Promise<{ entityId: string; tool: Anthropic.Tool }[]> {
    const children = await this.entities.childrenForRun(scope, entity.id);
    const chosen = new Map(children.map((child) => [child.id, child]));
    const ids = named.filter((ref) => /^[0-9a-f-]{36}$/i.test(ref));
    if (ids.length)
      for (const shared of await this.entities.findManyForRun(scope, ids)) chosen.set(shared.id, shared);
    return [...chosen.values()].map((tool) => {
      const schema = (tool.ioContract as { input?: Record<string, unknown> } | null)?.input;
      return {
        entityId: tool.id,
        tool: {
          name: aliasOf(tool),
          description: tool.description ?? tool.displayName ?? tool.name,
          input_schema: (schema && schema.type === 'object'
            ? schema
            : { type: 'object', properties: {} }) as Anthropic.Tool.InputSchema,
        },
      };
    });
  }

  /**
   * SKILL and PROCESS: each step is a child run. The parent records its children in
   * context_state, waits (WAITING_CHILDREN, no worker held) and is resumed by a job
   * each time a child ends; it then continues where it stopped. Child runs are created
   * under a deterministic idempotency key, so a retried parent never starts a step twice.
   */
  private async orchestrate(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    templateScope: TemplateScope,
  ): Promise<unknown> {
    const children = await this.entities.childrenForRun(scope, entity.id);
    let plan;
    try {
      plan = planOf(entity, children, { input: run.inputData, context: run.context });
    } catch (error) {
      throw new RunFailure('INVALID_PLAN', String(error instanceof Error ? error.message : error));
    }
    this.checkLimits(run, plan.steps.length);
    const state = (run.contextState ?? {}) as OrchestrationState;
    const steps: Record<string, ChildState> = { ...(state.steps ?? {}) };
    const rules = rulesOf(entity);
    const outputs: Record<string, unknown> = {};
    const stepScope: Record<string, { output?: unknown }> = {};
    const scopeNow = (): TemplateScope => ({ ...templateScope, steps: stepScope });
    let pending = false;

    // Children as they stand, read once; a child created below is QUEUED by definition.
    const known = new Map((await this.runs.childRuns(scope, run.id)).map((c) => [c.id, c]));
    for (const planned of plan.steps) {
      if (plan.mode === 'sequential' && pending) break;
      let record = steps[planned.alias];
      if (!record) {
        let input = planned.input === undefined ? run.inputData : renderValue(planned.input, scopeNow());
        const gate = ruleFor(rules, 'before_child', planned.alias);
        if (gate) {
          const approval = await this.checkpoint(
            scope,
            run,
            entity,
            {
              trigger: 'before_child',
              ...gate,
              key: `approval-child-${planned.alias}`,
              pending: { kind: 'child', name: planned.alias, entityId: planned.entityId, arguments: input },
            },
            { contextState: { ...state, steps } as unknown as Prisma.InputJsonObject },
          );
          if (approval.editedInput !== null && approval.editedInput !== undefined)
            input = approval.editedInput;
        }
        const child = await this.runs.createChild(scope, run, {
          entityId: planned.entityId,
          stepKey: planned.alias,
          input,
        });
        // A crash before the state is saved loses nothing: the child is found again
        // by its idempotency key.
        record = steps[planned.alias] = { runId: child.id };
        known.set(child.id, child);
        await this.enqueue({ runId: child.id, companyId: run.companyId });
      }
      if (!record.done) {
        const child = known.get(record.runId);
        if (!child || !isTerminal(child.status)) {
          pending = true;
          continue;
        }
        if (child.status !== 'COMPLETED' && child.status !== 'SKIPPED') {
          throw new RunFailure(
            'CHILD_FAILED',
            `Step ${planned.alias} ended ${child.status}${child.errorCode ? ` (${child.errorCode})` : ''}.`,
          );
        }
        record = steps[planned.alias] = { ...record, done: true, output: child.resultData };
      }
      // Later steps' templates read earlier outputs: {{steps.<alias>.output}}.
      outputs[planned.alias] = record.output;
      stepScope[planned.alias] = { output: record.output };
    }

    if (pending) {
      // A child may end while this job plans: its resume job finds the run waiting,
      // or retries (ParentBusy) until it does.
      await this.runs.transition(scope, run, 'WAITING_CHILDREN', {
        contextState: { ...state, steps } as unknown as Prisma.InputJsonObject,
      });
      return WAITING;
    }
    await this.runs.saveState(scope, run.id, { ...state, steps });
    const mapping = (entity.planning as { output?: unknown } | null)?.output;
    if (mapping !== undefined) return renderValue(mapping, scopeNow());
    if (plan.mode === 'parallel') return outputs;
    const last = plan.steps.at(-1);
    return last ? outputs[last.alias] : null;
  }

  /**
   * A tool call under a deterministic step key: if the key is logged already (an
   * earlier attempt got that far), its output is replayed and the call is not made again.
   */
  private async step(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    stepKey: string,
    toolName: string,
    toolKind: string,
    input: unknown,
    call: () => Promise<unknown>,
    sku?: string,
  ): Promise<unknown> {
    const logged = this.mayHaveLogged(run, stepKey)
      ? await this.runs.findToolLog(scope, run.id, stepKey)
      : null;
    if (logged) {
      if (logged.status !== 'success')
        throw new RunFailure('TOOL_ERROR', logged.errorMessage ?? `${toolName} failed`);
      return logged.outputPayload;
    }
    await this.costCheckpoint(scope, run, entity);
    // A priced tool call reserves its worst case like a model call does.
    const price = sku ? await this.ledger.toolPrice(scope, run.companyId, sku) : null;
    if (sku && !price) this.logger.warn(`run ${run.id}: tool SKU ${sku} has no price; billed at zero`);
    if (price) {
      const worst = toolWorstCase(price, this.config.env.HTTP_ACTION_MAX_RESPONSE_BYTES);
      await this.reserve(scope, run, entity, stepKey, worst, 0);
    }
    const base = { stepKey, toolName, toolKind, inputPayload: (input ?? null) as Prisma.InputJsonValue };
    const started = performance.now();
    let output: unknown;
    try {
      output = storable(
        await inSpan(
          `tool ${toolName}`,
          { 'hirebuddha.tool.kind': toolKind, 'hirebuddha.step': stepKey },
          call,
        ),
      );
    } catch (error) {
      const message = storable(error instanceof Error ? error.message : String(error));
      // A failed call bills nothing; its reservation (if any) is released with the log row.
      await this.logTool(
        scope,
        run,
        entity,
        {
          ...base,
          status: 'error',
          errorMessage: message.slice(0, 2000),
          latencyMs: Math.round(performance.now() - started),
        },
        price ? { rows: [] } : undefined,
      );
      throw new RunFailure(
        error instanceof EgressRefused ? 'EGRESS_REFUSED' : 'TOOL_ERROR',
        `${toolName}: ${message}`,
      );
    }
    const charge = price
      ? toolCharge(price, output, newUsageRowId, this.config.env.HTTP_ACTION_MAX_RESPONSE_BYTES)
      : null;
    if (charge) this.metrics.costUsd.inc({ sku: charge.serviceSku }, Number(charge.cost));
    await this.logTool(
      scope,
      run,
      entity,
      {
        ...base,
        outputPayload: (output ?? null) as Prisma.InputJsonValue,
        latencyMs: Math.round(performance.now() - started),
        costUsd: charge?.cost ?? 0,
      },
      charge ? { rows: [charge] } : undefined,
    );
    return output;
  }

  /** Logs a tool call now, or, for an unpriced call of an ACTION, with the run's end. */
  private async logTool(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    log: ToolLog,
    usage?: { rows: UsageRow[] },
  ): Promise<void> {
    if (entity.type === 'ACTION' && !usage) {
      this.pendingLogs.set(run, [...(this.pendingLogs.get(run) ?? []), log]);
      return;
    }
    await this.runs.logToolCall(scope, run, log, usage);
    this.logged(run, log.stepKey);
  }

  /** Writes held tool logs before anything else may end the job (an approval). */
  private async flushLogs(scope: TenantScope, run: ExecutionRun): Promise<void> {
    const logs = this.pendingLogs.get(run) ?? [];
    this.pendingLogs.delete(run);
    for (const log of logs) {
      await this.runs.logToolCall(scope, run, log);
      this.logged(run, log.stepKey);
    }
  }

  /** Depth and fan-out limits of run trees: a run may not start more than
   *  RUN_MAX_FANOUT children, nor any child below RUN_MAX_DEPTH. */
  private checkLimits(run: ExecutionRun, children: number): void {
    if (children === 0) return;
    if (depthOf(run) + 1 > this.config.env.RUN_MAX_DEPTH) {
      throw new RunFailure(
        'DEPTH_LIMIT_EXCEEDED',
        `Run trees may be at most ${this.config.env.RUN_MAX_DEPTH} levels deep.`,
      );
    }
    if (children > this.config.env.RUN_MAX_FANOUT) {
      throw new RunFailure(
        'FANOUT_LIMIT_EXCEEDED',
        `A run may start at most ${this.config.env.RUN_MAX_FANOUT} child runs; this one needs ${children}.`,
      );
    }
  }

  private async enqueue(payload: JobPayloads['run.execute']): Promise<void> {
    await this.adds(Jobs.ExecuteRun.name, payload, JOB_OPTIONS['run.execute'](payload));
  }

  /** A child that ends wakes its parent. */
  private async wakeParent(run: ExecutionRun): Promise<void> {
    if (run.parentRunId)
      await this.enqueue({ runId: run.parentRunId, companyId: run.companyId, resumeAfter: run.id });
  }

  /** False when `stepKey` of `run` cannot have a log row yet (see `unlogged`). */
  private mayHaveLogged(run: ExecutionRun, stepKey: string): boolean {
    const logged = this.unlogged.get(run);
    return !logged || logged.has(stepKey);
  }

  /** Notes a step key this job logged (its replay lookup must now read the row). */
  private logged(run: ExecutionRun, stepKey: string): void {
    this.unlogged.get(run)?.add(stepKey);
  }

  private async stillRunning(scope: TenantScope, run: ExecutionRun): Promise<boolean> {
    return (await this.runs.findById(scope, run.id))?.status === 'RUNNING';
  }

  private async finish(
    scope: TenantScope,
    run: ExecutionRun,
    status: 'COMPLETED' | 'SKIPPED',
    output: unknown,
  ): Promise<void> {
    await this.end(
      scope,
      run,
      status,
      { resultData: output ?? null },
      status === 'COMPLETED' ? { output } : {},
    );
  }

  private async fail(scope: TenantScope, run: ExecutionRun, failure: RunFailure): Promise<void> {
    await this.end(
      scope,
      run,
      'FAILED',
      { errorCode: failure.code, errorMessage: failure.message },
      { errorCode: failure.code },
    );
  }

  /** A final status (a conditional update), its metrics, and the parent woken. */
  private async end(
    scope: TenantScope,
    run: ExecutionRun,
    status: RunEnding['status'],
    data: Pick<RunEnding, 'resultData' | 'errorCode' | 'errorMessage'>,
    event: object,
  ): Promise<void> {
    const completedAt = new Date();
    const executionTimeMs = completedAt.getTime() - (run.startedAt ?? run.createdAt).getTime();
    const logs = this.pendingLogs.get(run) ?? [];
    this.pendingLogs.delete(run);
    const ended = await this.runs.endWithLogs(
      scope,
      run,
      { ...data, status, completedAt, executionTimeMs },
      event,
      logs,
    );
    if (ended) {
      const labels = { status, entity_type: this.entityTypes.get(run) ?? 'unknown' };
      this.metrics.runsFinished.inc(labels);
      this.metrics.runDuration.observe(labels, executionTimeMs / 1000);
    } else if ((await this.runs.findById(scope, run.id))?.status === 'WAITING_CHILDREN') {
      // Another job of this run (its own, still planning when this resume job found it
      // RUNNING and carried on) went to wait on children it read before they ended.
      // Their resume jobs, this one included, have run already: nothing else would
      // wake it. This job tries again and finds it waiting.
      throw new ParentBusy(`run ${run.id} went back to waiting for its children`);
    }
    await this.wakeParent(run);
  }
}
