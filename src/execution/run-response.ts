import type { ExecutionRun } from '../infra/database/generated/client';
import type { RunChildResponse, RunResponse } from './dto/run.dto';

const objectOf = (value: unknown): object => (value && typeof value === 'object' ? value : {});

export function toRunResponse(run: ExecutionRun, children: RunChildResponse[] = []): RunResponse {
  return {
    id: run.id,
    companyId: run.companyId,
    entityId: run.entityId,
    parentRunId: run.parentRunId,
    rootRunId: run.rootRunId,
    status: run.status,
    isTest: run.isTest,
    inputData: run.inputData,
    context: objectOf(run.context),
    contextState: objectOf(run.contextState),
    dynamicPlan: run.dynamicPlan,
    resultData: run.resultData,
    errorCode: run.errorCode,
    errorMessage: run.errorMessage,
    totalCostUsd: run.totalCostUsd.toFixed(6),
    totalTokens: Number(run.totalTokens),
    executionTimeMs: run.executionTimeMs,
    traceId: run.traceId,
    spanId: run.spanId,
    metadata: objectOf(run.metadata),
    startedAt: run.startedAt?.toISOString() ?? null,
    completedAt: run.completedAt?.toISOString() ?? null,
    createdAt: run.createdAt.toISOString(),
    children,
  };
}
