import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { IntegrationsRepository } from '../../billing/integrations.repository';
import { costOf, type Price } from '../../billing/pricing';
import { SecretBox } from '../../billing/secret-box';
import { AppConfig } from '../../infra/config/config';
import { EnvelopeError } from '../../infra/crypto/envelope';
import { ScopedDb, type TenantScope } from '../../infra/database/tenant-scope';
import { Metrics } from '../../infra/metrics/metrics';
import { parseAllowPrivate } from '../../infra/net/egress';
import { EMBEDDING_DIMENSION, embedLocally } from './local-embedder';
import { embedRemotely, EmbeddingError, type InputType } from './provider-embedder';
import { RequestThrottles } from './request-throttle';

export { EMBEDDING_DIMENSION, EmbeddingError };

/** The built-in embedder's id (stored on each chunk it embedded). */
export const LOCAL_EMBEDDER = 'local-lexical-v1';

export interface CompanyEmbedder {
  /** `local-lexical-v1`, or `<provider>/<model>`: vectors of different ids never meet. */
  id: string;
  price: Price | null;
  embed(texts: string[], inputType: InputType): Promise<{ vectors: number[][]; tokens: number }>;
}

/**
 * The embedder of a company: the nearest integration registry row of component type
 * `embedding` with a key (the company's own, its partner's, the platform's) — Voyage or
 * any OpenAI-compatible endpoint — else the built-in local embedder (lexical, offline,
 * free). Provider calls are billed into the usage ledger.
 */
@Injectable()
export class Embeddings {
  /** One per process: Nest makes this service a singleton. */
  private readonly throttles: RequestThrottles;

  constructor(
    private readonly registry: IntegrationsRepository,
    private readonly secrets: SecretBox,
    private readonly config: AppConfig,
    private readonly db: ScopedDb,
    private readonly metrics: Metrics,
  ) {
    this.throttles = new RequestThrottles(config.env.EMBEDDING_REQUESTS_PER_SECOND);
  }

  async forCompany(scope: TenantScope, companyId: string): Promise<CompanyEmbedder> {
    const [row] = await this.registry.lineageRows(scope, [companyId, ...(scope.catalogCompanyIds ?? [])], {
      componentType: 'embedding',
      encryptedApiKey: { not: null },
    });
    if (!row)
      return {
        id: LOCAL_EMBEDDER,
        price: null,
        embed: (texts) => Promise.resolve({ vectors: texts.map(embedLocally), tokens: 0 }),
      };
    let apiKey: string;
    try {
      apiKey = this.secrets.decrypt(row.encryptedApiKey!, row.companyId);
    } catch (error) {
      if (error instanceof EnvelopeError)
        throw new EmbeddingError(
          `The key of embedding integration ${row.id} cannot be decrypted; enter it again.`,
        );
      throw error;
    }
    const provider = {
      provider: row.providerName,
      model: row.modelName,
      apiKey,
      baseUrl: row.baseUrl ?? undefined,
    };
    const options = {
      allowPrivate: parseAllowPrivate(this.config.env.EGRESS_ALLOW_PRIVATE_HOSTS),
      timeoutMs: this.config.env.LLM_TIMEOUT_MS,
      throttle: this.throttles.for(`${row.providerName} ${row.baseUrl ?? ''}`),
    };
    return {
      id: `${row.providerName}/${row.modelName}`,
      price: {
        skuId: row.id,
        serviceSku: row.serviceSku,
        internalCost: row.internalCost,
        costUnit: row.costUnit,
      },
      embed: (texts, inputType) => embedRemotely(provider, texts, inputType, options),
    };
  }

  /** Bills one embedding call (idempotent by `key`): quantity is the provider's token count. */
  async bill(
    scope: TenantScope,
    companyId: string,
    key: string,
    entityId: string | null,
    embedder: CompanyEmbedder,
    tokens: number,
  ): Promise<void> {
    this.metrics.embeddingBatches.inc({ embedder: embedder.id });
    if (!embedder.price || tokens <= 0) return;
    const price = embedder.price;
    const quantity = price.costUnit === 'CALL' ? 1 : tokens;
    const row = {
      id: uuidv7(),
      skuId: price.skuId,
      serviceSku: price.serviceSku,
      quantity: String(quantity),
      cost: costOf(quantity, price).toFixed(10),
      metadata: { embedder: embedder.id, tokens },
    };
    this.metrics.costUsd.inc({ sku: price.serviceSku }, Number(row.cost));
    await this.db.run(
      scope,
      (tx) =>
        tx.$queryRaw`SELECT usage_record(${companyId}::uuid, ${key}, ${entityId}::uuid, ${JSON.stringify([row])}::jsonb)`,
    );
  }
}
