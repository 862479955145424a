import { z } from 'zod';
import { BudgetExhausted } from '../billing/billing.errors';
import type { Tx } from '../infra/database/tenant-scope';
import { CompanySuspended } from '../tenancy/tenancy.errors';

const admission = z.object({ id: z.string(), suspended: z.boolean(), exhausted: z.string().nullable() });

/**
 * Whether each company may start runs: not suspended (nor any company above it: 423),
 * and no monthly budget on its lineage spent (402). The refusal, by company; a company
 * that may start runs is absent. One statement for any number of companies, inside the
 * transaction that writes the runs, so the check and the inserts see the same state.
 */
export async function refusedCompanies(tx: Tx, companyIds: string[]): Promise<Map<string, Error>> {
  const rows = await tx.$queryRaw<unknown[]>`
    SELECT c.id::text AS id, company_lineage_suspended(c.id) AS suspended,
           (SELECT name FROM company_budget_exhausted(c.id) LIMIT 1) AS exhausted
      FROM unnest(${[...new Set(companyIds)]}::uuid[]) AS c(id)`;
  const refused = new Map<string, Error>();
  for (const { id, suspended, exhausted } of z.array(admission).parse(rows)) {
    if (suspended) refused.set(id, new CompanySuspended());
    else if (exhausted !== null) refused.set(id, new BudgetExhausted(exhausted));
  }
  return refused;
}
