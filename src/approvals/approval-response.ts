import type { HumanApproval } from '../infra/database/generated/client';

/** The one place an approval becomes a response (and a webhook body). */
export function toApprovalResponse(row: HumanApproval) {
  return {
    id: row.id,
    companyId: row.companyId,
    runId: row.runId,
    checkpoint: row.checkpoint,
    stepKey: row.stepKey,
    status: row.status,
    contextSnapshot: row.contextSnapshot,
    timeoutMs: row.timeoutMs,
    onTimeout: row.onTimeout,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    respondedBy: row.respondedBy,
    respondedAt: row.respondedAt?.toISOString() ?? null,
    reviewerNotes: row.reviewerNotes,
    editedInput: row.editedInput,
    editedOutput: row.editedOutput,
    createdAt: row.createdAt.toISOString(),
  };
}
