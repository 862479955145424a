import { Injectable, Logger } from '@nestjs/common';
import jsonLogic from 'json-logic-js';
import { EntitiesService } from '../../entities/entities.service';
import type { TemplateScope } from '../../entities/config/template';
import type { ExecutionRun, HierarchicalEntity, Prisma } from '../../infra/database/generated/client';
import type { TenantScope } from '../../infra/database/tenant-scope';
import { CompaniesService } from '../../tenancy/companies.service';
import { contractViolations } from '../contract';
import { RunFailure } from '../execution.errors';
import { isTerminal } from '../run-status';
import { RunsRepository } from '../runs.repository';
import { runBuiltin, type BuiltinName } from './builtins';

interface ActionConfig {
  kind: 'llm' | 'http' | 'builtin' | 'retrieval';
  name?: BuiltinName;
  args?: unknown;
}

/**
 * Executes one run, in a worker. Everything needed to continue lives in Postgres:
 * a job that is retried (a worker died) reloads the run and replays each step that
 * was already logged instead of calling it again.
 */
@Injectable()
export class RunExecutor {
  private readonly logger = new Logger(RunExecutor.name);

  constructor(
    private readonly runs: RunsRepository,
    private readonly entities: EntitiesService,
    private readonly companies: CompaniesService,
  ) {}

  async execute(runId: string, companyId: string): Promise<void> {
    const scope = await this.companies.runScope(companyId);
    const run = await this.runs.findById(scope, runId);
    if (!run || isTerminal(run.status)) return;
    if (await this.companies.isSuspended(companyId)) {
      await this.fail(scope, run, new RunFailure('COMPANY_SUSPENDED', 'The company is suspended.'));
      return;
    }
    // QUEUED → RUNNING; a retried job finds the run RUNNING already and carries on.
    if (
      run.status === 'QUEUED' &&
      !(await this.runs.transition(scope, run, 'RUNNING', { startedAt: new Date() }))
    )
      return;
    if (run.status !== 'QUEUED' && run.status !== 'RUNNING') return;

    try {
      const entity = await this.entities.findForRun(scope, run.entityId);
      if (!entity) throw new RunFailure('ENTITY_NOT_FOUND', 'The entity of this run is no longer visible.');
      const templateScope: TemplateScope = {
        input: run.inputData,
        context: run.context,
        steps: {},
      };

      const gate = (entity.logicGate as { when?: unknown } | null)?.when;
      if (gate !== undefined && !jsonLogic.apply(gate, { input: run.inputData, context: run.context })) {
        await this.finish(scope, run, 'SKIPPED', null);
        return;
      }

      const output = await this.perform(scope, run, entity, templateScope);
      if (!(await this.stillRunning(scope, run))) return;
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
      const failure =
        error instanceof RunFailure
          ? error
          : new RunFailure('INTERNAL_ERROR', 'The run failed unexpectedly.');
      if (!(error instanceof RunFailure)) this.logger.error(`run ${run.id} failed: ${String(error)}`);
      await this.fail(scope, run, failure);
    }
  }

  private async perform(
    scope: TenantScope,
    run: ExecutionRun,
    entity: HierarchicalEntity,
    templateScope: TemplateScope,
  ): Promise<unknown> {
    if (entity.type !== 'ACTION') {
      throw new RunFailure(
        'UNSUPPORTED_ENTITY_TYPE',
        `Running a ${entity.type} is not available yet; ACTIONs run.`,
      );
    }
    const action = (entity.capabilities as { action?: ActionConfig } | null)?.action;
    if (action?.kind !== 'builtin' || !action.name) {
      throw new RunFailure(
        'UNSUPPORTED_ACTION',
        `ACTIONs of kind ${action?.kind ?? 'none'} are not available yet; builtins run.`,
      );
    }
    return this.step(scope, run, 'action', action.name, 'builtin', action.args, () =>
      runBuiltin(action.name!, action.args, templateScope),
    );
  }

  /**
   * A tool call under a deterministic step key: if the key is logged already (an
   * earlier attempt got that far), its output is replayed and the call is not made again.
   */
  private async step(
    scope: TenantScope,
    run: ExecutionRun,
    stepKey: string,
    toolName: string,
    toolKind: string,
    input: unknown,
    call: () => Promise<unknown>,
  ): Promise<unknown> {
    const logged = await this.runs.findToolLog(scope, run.id, stepKey);
    if (logged) {
      if (logged.status !== 'success')
        throw new RunFailure('TOOL_ERROR', logged.errorMessage ?? `${toolName} failed`);
      return logged.outputPayload;
    }
    const started = performance.now();
    try {
      const output = await call();
      await this.runs.logToolCall(scope, run, {
        stepKey,
        toolName,
        toolKind,
        inputPayload: (input ?? null) as Prisma.InputJsonValue,
        outputPayload: (output ?? null) as Prisma.InputJsonValue,
        latencyMs: Math.round(performance.now() - started),
      });
      return output;
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.runs.logToolCall(scope, run, {
        stepKey,
        toolName,
        toolKind,
        inputPayload: (input ?? null) as Prisma.InputJsonValue,
        status: 'error',
        errorMessage: message.slice(0, 2000),
        latencyMs: Math.round(performance.now() - started),
      });
      throw new RunFailure('TOOL_ERROR', `${toolName}: ${message}`);
    }
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
    const completedAt = new Date();
    await this.runs.transition(
      scope,
      run,
      status,
      {
        resultData: (output ?? null) as Prisma.InputJsonValue,
        completedAt,
        executionTimeMs: completedAt.getTime() - (run.startedAt ?? run.createdAt).getTime(),
      },
      status === 'COMPLETED' ? { output } : {},
    );
  }

  private async fail(scope: TenantScope, run: ExecutionRun, failure: RunFailure): Promise<void> {
    const completedAt = new Date();
    await this.runs.transition(
      scope,
      run,
      'FAILED',
      {
        errorCode: failure.code,
        errorMessage: failure.message,
        completedAt,
        executionTimeMs: completedAt.getTime() - (run.startedAt ?? run.createdAt).getTime(),
      },
      { errorCode: failure.code },
    );
  }
}
