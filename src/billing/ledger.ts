import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { AppConfig } from '../infra/config/config';
import { EnvelopeError } from '../infra/crypto/envelope';
import { Prisma } from '../infra/database/generated/client';
import { ScopedDb, type TenantScope, type Tx } from '../infra/database/tenant-scope';
import { IntegrationsRepository } from './integrations.repository';
import { llmSku, TOKEN_KINDS, type Price, type TokenKind, type UsageRow } from './pricing';
import { SecretBox } from './secret-box';

export interface Credentials {
  apiKey: string;
  baseUrl?: string;
  /** Whose key it is: a registry row's company, or the platform's environment. */
  source: { companyId: string; integrationId: string } | 'environment';
}

export interface ModelAccess {
  prices: Partial<Record<TokenKind, Price>>;
  credentials: Credentials | null;
}

/** Why a call could not be billed: the run fails with `code`. */
export class BillingRefusal extends Error {
  constructor(
    readonly code: 'BUDGET_EXCEEDED' | 'CREDENTIALS_UNREADABLE',
    message: string,
    /** Which budget said no: `run:<id>` or `company:<id>`. */
    readonly blocker?: string,
  ) {
    super(message);
  }
}

/** The usage of one settled call, as usage_settle records it. */
export function settleUsage(
  tx: Tx,
  runId: string,
  stepKey: string,
  tokens: number,
  rows: UsageRow[],
): Promise<unknown> {
  return tx.$queryRaw`SELECT usage_settle(${runId}::uuid, ${stepKey}, ${tokens}::bigint, ${JSON.stringify(rows)}::jsonb)`;
}

const blockerRow = z.object({ blocker: z.string().nullable() });

/**
 * Prices, credentials and budgets of model and tool calls, for workers and run
 * creation. The registry is read along the run's company lineage: its own rows first,
 * then each company above it; the nearest row of a SKU sets its price, the nearest row
 * with a key supplies the credentials, and ANTHROPIC_API_KEY comes last.
 */
@Injectable()
export class Ledger {
  constructor(
    private readonly registry: IntegrationsRepository,
    private readonly secrets: SecretBox,
    private readonly config: AppConfig,
    private readonly db: ScopedDb,
  ) {}

  async modelAccess(
    scope: TenantScope,
    companyId: string,
    provider: string,
    model: string,
  ): Promise<ModelAccess> {
    const lineage = [companyId, ...(scope.catalogCompanyIds ?? [])];
    const skus = TOKEN_KINDS.map((kind) => llmSku(provider, model, kind));
    const rows = await this.registry.lineageRows(scope, lineage, {
      providerName: provider,
      OR: [{ serviceSku: { in: skus } }, { encryptedApiKey: { not: null } }],
    });
    // The nearest company with a key for this provider; within it, a row of this model first.
    const keyed = rows.filter((row) => row.encryptedApiKey !== null);
    const nearest = keyed.filter((row) => row.companyId === keyed[0]?.companyId);
    const keyRow = nearest.find((row) => row.modelName === model) ?? nearest[0];
    let credentials: Credentials | null = null;
    if (keyRow) {
      try {
        credentials = {
          apiKey: this.secrets.decrypt(keyRow.encryptedApiKey!, keyRow.companyId),
          baseUrl: keyRow.baseUrl ?? undefined,
          source: { companyId: keyRow.companyId, integrationId: keyRow.id },
        };
      } catch (error) {
        if (!(error instanceof EnvelopeError)) throw error;
        throw new BillingRefusal(
          'CREDENTIALS_UNREADABLE',
          `The API key of integration ${keyRow.id} cannot be decrypted (${error.message}); enter it again.`,
        );
      }
    } else if (this.config.env.ANTHROPIC_API_KEY && provider === 'anthropic') {
      credentials = { apiKey: this.config.env.ANTHROPIC_API_KEY, source: 'environment' };
    }
    // A company prices only the calls made with its own key: price rows count from the
    // key's owner upward (the platform's for the environment key). A row below it, such
    // as a tenant's keyless row at zero, cannot undercut what its partner pays.
    const owner = keyRow ? lineage.indexOf(keyRow.companyId) : lineage.length - 1;
    const prices: Partial<Record<TokenKind, Price>> = {};
    for (const row of rows) {
      const kind = TOKEN_KINDS[skus.indexOf(row.serviceSku)];
      if (kind && !prices[kind] && lineage.indexOf(row.companyId) >= owner)
        prices[kind] = {
          skuId: row.id,
          serviceSku: row.serviceSku,
          internalCost: row.internalCost,
          costUnit: row.costUnit,
        };
    }
    return { prices, credentials };
  }

  /** The price of a tool SKU for a run's company: set by the highest company that defines
   *  it (a company below cannot undercut its catalog), or null. */
  async toolPrice(scope: TenantScope, companyId: string, sku: string): Promise<Price | null> {
    const rows = await this.registry.lineageRows(scope, [companyId, ...(scope.catalogCompanyIds ?? [])], {
      serviceSku: sku,
    });
    const row = rows.at(-1);
    return row
      ? { skuId: row.id, serviceSku: row.serviceSku, internalCost: row.internalCost, costUnit: row.costUnit }
      : null;
  }

  /**
   * Holds a call's worst case against every budget that covers it (the run tree's
   * and the company lineage's) before the call is made. A retried step keeps the
   * reservation it made before. Throws BillingRefusal when any budget would overflow.
   */
  async reserve(scope: TenantScope, runId: string, stepKey: string, usd: Prisma.Decimal, tokens: number) {
    const ttlMs = this.config.env.LLM_TIMEOUT_MS * (this.config.env.LLM_MAX_RETRIES + 1) + 60_000;
    const [row] = await this.db.run(
      scope,
      (tx) =>
        tx.$queryRaw<unknown[]>`SELECT budget_reserve(${runId}::uuid, ${stepKey}, ${usd.toFixed(10)}::numeric,
        ${tokens}::bigint, ${ttlMs}::integer) AS blocker`,
    );
    const { blocker } = blockerRow.parse(row);
    if (blocker) {
      const [kind, id] = blocker.split(':');
      throw new BillingRefusal(
        'BUDGET_EXCEEDED',
        kind === 'run'
          ? `The call would exceed the budget of run ${id} (governance.budget); nothing more is spent.`
          : `The call would exceed the monthly budget of company ${id}; nothing more is spent.`,
        blocker,
      );
    }
  }

  /** Gives a reservation back when its call was not made or failed. */
  async release(scope: TenantScope, runId: string, stepKey: string): Promise<void> {
    await this.db.run(scope, (tx) => settleUsage(tx, runId, stepKey, 0, []));
  }

  /** Reservations left by workers that died mid-call, one transaction each; the reconciler calls this. */
  async releaseExpired(maxRows = 500): Promise<number> {
    let released = 0;
    while (released < maxRows) {
      const [row] = await this.db.unscoped.$queryRaw<{ released: number }[]>`
        SELECT budget_release_expired() AS released`;
      if (!row?.released) break;
      released++;
    }
    return released;
  }
}

export const newUsageRowId = (): string => uuidv7();
