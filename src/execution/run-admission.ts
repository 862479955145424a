import { z } from 'zod';
import { BudgetExhausted } from '../billing/billing.errors';
import type { Tx } from '../infra/database/tenant-scope';
import { CompanySuspended } from '../tenancy/tenancy.errors';

const admission = z.object({ suspended: z.boolean(), exhausted: z.string().nullable() });

/**
 * Whether a company may start a run: not suspended (nor any company above it: 423),
 * and no monthly budget on its lineage spent (402). One statement, inside the
 * transaction that writes the run, so the check and the insert see the same state.
 */
export async function admitRun(tx: Tx, companyId: string): Promise<void> {
  const rows = await tx.$queryRaw<unknown[]>`
    SELECT company_lineage_suspended(${companyId}::uuid) AS suspended,
           (SELECT name FROM company_budget_exhausted(${companyId}::uuid) LIMIT 1) AS exhausted`;
  const { suspended, exhausted } = admission.parse(rows[0]);
  if (suspended) throw new CompanySuspended();
  if (exhausted !== null) throw new BudgetExhausted(exhausted);
}
