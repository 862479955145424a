import { Injectable } from '@nestjs/common';
import type { IntegrationRegistry, Prisma } from '../infra/database/generated/client';
import { AppConfig } from '../infra/config/config';
import { NotFound } from '../infra/http/domain-error';
import { keyset, toPage, type Page } from '../infra/http/pagination';
import { assertEgressAllowed, EgressRefused, parseAllowPrivate } from '../infra/net/egress';
import { DocumentReembedder } from '../knowledge/document-reembedder';
import { inScope, requireRole, type Caller } from '../tenancy/caller';
import { CompaniesService } from '../tenancy/companies.service';
import {
  ApiKeyRequired,
  BaseUrlRefused,
  InheritedIntegration,
  IntegrationExists,
  IntegrationInUse,
} from './billing.errors';
import { toApiCostUnit, toDbCostUnit } from './cost-units';
import type {
  CreateIntegrationDto,
  IntegrationResponse,
  ListIntegrationsQuery,
  UpdateIntegrationDto,
} from './dto/integration.dto';
import { isForeignKeyViolation, isUniqueViolation } from '../infra/database/prisma-errors';
import { IntegrationsRepository } from './integrations.repository';
import { SecretBox } from './secret-box';

/** The one place a registry row becomes a response: the key itself never leaves. */
export function toIntegrationResponse(row: IntegrationRegistry, caller: Caller): IntegrationResponse {
  return {
    id: row.id,
    companyId: row.companyId,
    providerName: row.providerName,
    modelName: row.modelName,
    serviceSku: row.serviceSku,
    componentType: row.componentType,
    internalCost: row.internalCost.toFixed(10),
    costUnit: toApiCostUnit(row.costUnit),
    status: row.status,
    hasApiKey: row.encryptedApiKey !== null,
    apiKeyLast4: row.apiKeyLast4,
    baseUrl: row.baseUrl,
    inherited: !inScope(caller, row.companyId),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * The integration registry: priced SKUs and the keys to call them. Rows of the APP
 * company are the platform catalog, inherited downward; a partner or tenant adds its
 * own row for a SKU to bring its own key (or price). Writing needs tenant_admin or
 * higher on a company in scope.
 */
@Injectable()
export class IntegrationsService {
  constructor(
    private readonly rows: IntegrationsRepository,
    private readonly secrets: SecretBox,
    private readonly config: AppConfig,
    private readonly companies: CompaniesService,
    private readonly reembedder: DocumentReembedder,
  ) {}

  /** A changed embedder (an embedding row written or removed) re-embeds the documents below it. */
  private async embedderChanged(caller: Caller, row: IntegrationRegistry): Promise<void> {
    if (row.componentType !== 'embedding') return;
    const below = await this.companies.subtree(caller, row.companyId);
    await this.reembedder.request(
      caller.scope,
      below.map((c) => c.id),
    );
  }

  async list(caller: Caller, query: ListIntegrationsQuery): Promise<Page<IntegrationResponse>> {
    const rows = await this.rows.list(caller.scope, query, keyset(query));
    return toPage(rows, query, (row) => toIntegrationResponse(row, caller));
  }

  async get(caller: Caller, id: string): Promise<IntegrationRegistry> {
    const row = await this.rows.findVisible(caller.scope, id);
    if (!row) throw new NotFound('Integration');
    return row;
  }

  async create(caller: Caller, dto: CreateIntegrationDto): Promise<IntegrationRegistry> {
    const companyId = dto.companyId ?? caller.companyId;
    if (!inScope(caller, companyId)) throw new NotFound('Company');
    requireRole(caller, 'tenant_admin');
    if (dto.baseUrl !== undefined && dto.apiKey === undefined) throw new ApiKeyRequired();
    if (dto.baseUrl !== undefined) await this.checkBaseUrl(dto.baseUrl);
    try {
      const created = await this.rows.create(caller.scope, {
        companyId,
        providerName: dto.providerName,
        modelName: dto.modelName,
        serviceSku: dto.serviceSku,
        componentType: dto.componentType,
        internalCost: dto.internalCost,
        costUnit: toDbCostUnit(dto.costUnit),
        status: dto.status,
        baseUrl: dto.baseUrl ?? null,
        ...this.keyFields(companyId, dto.apiKey),
      });
      await this.embedderChanged(caller, created);
      return created;
    } catch (error) {
      if (isUniqueViolation(error)) throw new IntegrationExists();
      throw error;
    }
  }

  async update(caller: Caller, id: string, dto: UpdateIntegrationDto): Promise<IntegrationRegistry> {
    const row = await this.getOwn(caller, id);
    const data: Prisma.IntegrationRegistryUncheckedUpdateInput = {};
    if (dto.internalCost !== undefined) data.internalCost = dto.internalCost;
    if (dto.status !== undefined) data.status = dto.status;
    if (dto.baseUrl !== undefined && dto.baseUrl !== row.baseUrl) {
      // A key may only go where it was entered for: a new destination needs the key again.
      if (typeof dto.apiKey !== 'string') throw new ApiKeyRequired();
      if (dto.baseUrl !== null) await this.checkBaseUrl(dto.baseUrl);
      data.baseUrl = dto.baseUrl;
    }
    if (dto.apiKey !== undefined) {
      Object.assign(data, this.keyFields(row.companyId, dto.apiKey ?? undefined));
      // Without a key, a row's base URL means nothing: calls fall back to the catalog's.
      if (dto.apiKey === null) data.baseUrl = null;
    }
    const updated = await this.rows.update(caller.scope, row.id, data);
    if (dto.apiKey !== undefined || dto.status !== undefined || data.baseUrl !== undefined)
      await this.embedderChanged(caller, updated);
    return updated;
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const row = await this.getOwn(caller, id);
    try {
      await this.rows.delete(caller.scope, row.id);
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new IntegrationInUse();
      throw error;
    }
    await this.embedderChanged(caller, row);
  }

  private async getOwn(caller: Caller, id: string): Promise<IntegrationRegistry> {
    const row = await this.get(caller, id);
    if (!inScope(caller, row.companyId)) throw new InheritedIntegration();
    requireRole(caller, 'tenant_admin');
    return row;
  }

  /** The encrypted key, bound to its company (additional authenticated data). */
  private keyFields(companyId: string, apiKey: string | undefined) {
    if (apiKey === undefined) return { encryptedApiKey: null, apiKeyId: null, apiKeyLast4: null };
    const { envelope, keyId } = this.secrets.encrypt(apiKey, companyId);
    return { encryptedApiKey: envelope, apiKeyId: keyId, apiKeyLast4: apiKey.slice(-4) };
  }

  private async checkBaseUrl(baseUrl: string): Promise<void> {
    try {
      await assertEgressAllowed(baseUrl, {
        allowPrivate: parseAllowPrivate(this.config.env.EGRESS_ALLOW_PRIVATE_HOSTS),
      });
    } catch (error) {
      if (error instanceof EgressRefused) throw new BaseUrlRefused(error.message);
      throw error;
    }
  }
}
