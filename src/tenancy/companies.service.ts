import { Injectable } from '@nestjs/common';
import type { Company, CompanyType, Prisma } from '../infra/database/generated/client';
import type { TenantScope } from '../infra/database/tenant-scope';
import { NotFound } from '../infra/http/domain-error';
import { keyset, toPage, type Page } from '../infra/http/pagination';
import { inScope, requireRole, type Caller } from './caller';
import { CompaniesRepository } from './companies.repository';
import type {
  CompanyResponse,
  CompanyTreeResponse,
  CreateCompanyDto,
  ListCompaniesQuery,
  UpdateCompanyDto,
} from './dto/company.dto';
import { InvalidPlacement, NotAboveCompany } from './tenancy.errors';

/** Where each company type may sit: APP > PARTNER > TENANT (a tenant may also sit
 *  directly under the app). The single APP company is created by the bootstrap. */
const ALLOWED_PARENTS: Record<CompanyType, CompanyType[]> = {
  APP: [],
  PARTNER: ['APP'],
  TENANT: ['PARTNER', 'APP'],
};

function settingsOf(company: Company): Record<string, unknown> {
  const settings = company.settings;
  return settings && typeof settings === 'object' && !Array.isArray(settings) ? settings : {};
}

export function toCompanyResponse(company: Company): CompanyResponse {
  const settings = settingsOf(company);
  const budget = settings.monthlyBudgetUsd;
  return {
    id: company.id,
    name: company.name,
    type: company.type,
    parentId: company.parentId,
    status: company.status,
    logoUrl: company.logoUrl,
    monthlyBudgetUsd: typeof budget === 'string' ? budget : null,
    allowUnverifiedLogin: settings.allowUnverifiedLogin === true,
    createdAt: company.createdAt.toISOString(),
    updatedAt: company.updatedAt.toISOString(),
  };
}

@Injectable()
export class CompaniesService {
  constructor(private readonly companies: CompaniesRepository) {}

  async list(caller: Caller, query: ListCompaniesQuery): Promise<Page<CompanyResponse>> {
    const rows = await this.companies.list(caller.scope, query, keyset(query));
    return toPage(rows, query, toCompanyResponse);
  }

  async get(caller: Caller, id: string): Promise<Company> {
    const company = await this.companies.findById(caller.scope, id);
    if (!company) throw new NotFound('Company');
    return company;
  }

  async create(caller: Caller, dto: CreateCompanyDto): Promise<Company> {
    if (!inScope(caller, dto.parentId)) throw new NotFound('Parent company');
    requireRole(caller, 'partner_admin');
    const parent = await this.get(caller, dto.parentId);
    if (!ALLOWED_PARENTS[dto.type].includes(parent.type)) {
      throw new InvalidPlacement(`A ${dto.type} company cannot sit under a ${parent.type} company.`);
    }
    return this.companies.create(caller.scope, dto);
  }

  async update(caller: Caller, id: string, dto: UpdateCompanyDto): Promise<Company> {
    const company = await this.get(caller, id);
    requireRole(caller, 'tenant_admin');
    // Status and budget are decided from above: a company never lifts its own
    // suspension or raises its own limit.
    const fromAbove =
      caller.companyId !== company.id && (caller.role === 'app_admin' || caller.role === 'partner_admin');
    if (dto.status !== undefined && !fromAbove) throw new NotAboveCompany('status');
    if (dto.monthlyBudgetUsd !== undefined && !fromAbove) throw new NotAboveCompany('monthlyBudgetUsd');

    const data: Prisma.CompanyUpdateInput = { name: dto.name, logoUrl: dto.logoUrl, status: dto.status };
    if (dto.monthlyBudgetUsd !== undefined || dto.allowUnverifiedLogin !== undefined) {
      data.settings = {
        ...settingsOf(company),
        ...(dto.monthlyBudgetUsd !== undefined ? { monthlyBudgetUsd: dto.monthlyBudgetUsd } : {}),
        ...(dto.allowUnverifiedLogin !== undefined ? { allowUnverifiedLogin: dto.allowUnverifiedLogin } : {}),
      };
    }
    return this.companies.update(caller.scope, id, data);
  }

  /** The scope a worker acts in for a run of `companyId` (that company, and the
   *  companies above it for catalog entities), and whether the company is suspended. */
  async runContext(companyId: string): Promise<{ scope: TenantScope; suspended: boolean }> {
    const { ancestors, suspended } = await this.companies.lineage(companyId);
    return { scope: { companyIds: [companyId], catalogCompanyIds: ancestors }, suspended };
  }

  /**
   * The scope a worker claims a run of `companyId` in: that company, and the companies
   * above it for catalog entities. A company is never moved, so the companies above it
   * never change: they are looked up once per process. Suspension is not part of it
   * (it changes; the claim reads it).
   */
  async workerScope(companyId: string): Promise<TenantScope> {
    let catalog = this.catalogs.get(companyId);
    if (!catalog) {
      catalog = (await this.companies.lineage(companyId)).ancestors;
      // Bounded: a process working for very many companies forgets and looks up again.
      if (this.catalogs.size >= 10_000) this.catalogs.clear();
      this.catalogs.set(companyId, catalog);
    }
    return { companyIds: [companyId], catalogCompanyIds: catalog };
  }

  private readonly catalogs = new Map<string, string[]>();

  /** The company (404 outside scope) and every company below it in scope, flat. */
  async subtree(caller: Caller, id: string): Promise<Company[]> {
    await this.get(caller, id);
    return this.companies.subtree(caller.scope, id);
  }

  async tree(caller: Caller, id: string): Promise<CompanyTreeResponse> {
    await this.get(caller, id);
    const rows = await this.companies.subtree(caller.scope, id);
    const nodes = new Map(
      rows.map((row) => [row.id, { ...toCompanyResponse(row), children: [] as CompanyTreeResponse[] }]),
    );
    for (const node of nodes.values()) {
      if (node.id !== id && node.parentId) nodes.get(node.parentId)?.children.push(node);
    }
    return nodes.get(id)!;
  }
}
