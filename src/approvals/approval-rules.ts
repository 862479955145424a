import { canonicalJson } from '../infra/crypto/canonical-json';
import { createHash } from 'node:crypto';
import type { HierarchicalEntity } from '../infra/database/generated/client';

/** The configurable triggers, and `budget_exceeded` (governance.budget.onExceeded: approval). */
export type ApprovalTrigger =
  'before_run' | 'before_tool' | 'before_child' | 'cost_above' | 'output_review' | 'budget_exceeded';

export type ApprovalChannel =
  { type: 'webhook'; url: string; secret?: string } | { type: 'email'; to: string[] };

/** One checkpoint of governance.approvals (validated by the entity block schema). */
export interface ApprovalRule {
  trigger: ApprovalTrigger;
  match?: string;
  thresholdUsd?: string | number;
  timeoutMs?: number;
  onTimeout?: 'reject' | 'approve';
  channels?: ApprovalChannel[];
}

export function rulesOf(entity: Pick<HierarchicalEntity, 'governance'>): ApprovalRule[] {
  const approvals = (entity.governance as { approvals?: unknown } | null)?.approvals;
  return Array.isArray(approvals) ? (approvals as ApprovalRule[]) : [];
}

/** The first rule of a trigger that applies to `alias` (a rule without match applies to all). */
export function ruleFor(
  rules: ApprovalRule[],
  trigger: ApprovalTrigger,
  alias?: string,
): { rule: ApprovalRule; index: number } | null {
  const index = rules.findIndex((r) => r.trigger === trigger && (r.match === undefined || r.match === alias));
  return index < 0 ? null : { rule: rules[index], index };
}

/** What an approval is bound to: the tool (or child) and its exact arguments. */
export function callHash(name: string, args: unknown): string {
  return createHash('sha256')
    .update(`${name}\u0000${canonicalJson(args)}`)
    .digest('hex');
}
