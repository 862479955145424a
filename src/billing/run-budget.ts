import { Prisma } from '../infra/database/generated/client';

/**
 * governance.budget's cost and token caps, copied onto a run when it is created so
 * the reservation check (budget_reserve) never has to read entities. Money arrives as
 * a decimal string or a JSON number (the block schema allows both).
 */
export function runBudget(governance: unknown): {
  budgetUsd: Prisma.Decimal | null;
  budgetTokens: bigint | null;
} {
  const budget = (governance as { budget?: { maxCostUsd?: unknown; maxTokens?: unknown } } | null)?.budget;
  const cost = budget?.maxCostUsd;
  const tokens = budget?.maxTokens;
  return {
    budgetUsd: typeof cost === 'string' || typeof cost === 'number' ? new Prisma.Decimal(cost) : null,
    budgetTokens: typeof tokens === 'number' ? BigInt(tokens) : null,
  };
}
