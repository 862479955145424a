import { Injectable } from '@nestjs/common';
import type { Prisma, User } from '../infra/database/generated/client';
import { NotFound } from '../infra/http/domain-error';
import { keyset, toPage, type Page } from '../infra/http/pagination';
import { inScope, requireRole, type Caller } from '../tenancy/caller';
import { CompaniesService } from '../tenancy/companies.service';
import { ROLE_RANK } from '../tenancy/roles';
import { AccountService } from './account.service';
import { assertGrantable } from './grant-policy';
import { AuthRepository } from './auth.repository';
import type { CreateUserDto, ListUsersQuery, UpdateUserDto, UserResponse } from './dto/user.dto';
import { CannotChangeOwnRole, RoleNotGrantable } from './identity.errors';
import { hashPassword } from './password-hasher';
import { toUserResponse } from './user-response';
import { UsersRepository } from './users.repository';

@Injectable()
export class UsersService {
  constructor(
    private readonly users: UsersRepository,
    private readonly auth: AuthRepository,
    private readonly companies: CompaniesService,
    private readonly account: AccountService,
  ) {}

  async list(caller: Caller, query: ListUsersQuery): Promise<Page<UserResponse>> {
    const rows = await this.users.list(caller.scope, query, keyset(query));
    return toPage(rows, query, toUserResponse);
  }

  async get(caller: Caller, id: string): Promise<User> {
    const user = await this.users.findById(caller.scope, id);
    if (!user) throw new NotFound('User');
    return user;
  }

  async create(caller: Caller, dto: CreateUserDto): Promise<User> {
    if (!inScope(caller, dto.companyId)) throw new NotFound('Company');
    requireRole(caller, 'tenant_admin');
    assertGrantable(caller, dto.role, await this.companies.get(caller, dto.companyId));
    return this.users.create(caller.scope, {
      email: dto.email,
      fullName: dto.fullName,
      role: dto.role,
      companyId: dto.companyId,
      passwordHash: await hashPassword(dto.password),
    });
  }

  async update(caller: Caller, id: string, dto: UpdateUserDto): Promise<User> {
    const target = await this.get(caller, id);
    const self = target.id === caller.userId;
    if (self && (dto.role !== undefined || dto.isActive !== undefined)) throw new CannotChangeOwnRole();
    // Anyone may rename themselves; managing others takes a tenant admin who
    // ranks at least as high as the user managed.
    if (!self) this.assertManages(caller, target);
    if (dto.role !== undefined)
      assertGrantable(caller, dto.role, await this.companies.get(caller, target.companyId));

    const emailChanged = dto.email !== undefined && dto.email !== target.email;
    const data: Prisma.UserUpdateInput = {
      fullName: dto.fullName,
      role: dto.role,
      isActive: dto.isActive,
      // A changed address is unverified until its owner confirms it.
      ...(emailChanged ? { email: dto.email, isVerified: false } : {}),
    };
    const updated = await this.users.update(caller.scope, id, data);
    if (dto.isActive === false) await this.auth.revokeAllOfUser(id);
    if (emailChanged) await this.account.sendVerification(updated);
    return updated;
  }

  /** Soft delete: the user is deactivated and their sessions end. */
  async deactivate(caller: Caller, id: string): Promise<void> {
    await this.update(caller, id, { isActive: false });
  }

  private assertManages(caller: Caller, target: User): void {
    requireRole(caller, 'tenant_admin');
    if (ROLE_RANK[target.role] > ROLE_RANK[caller.role]) {
      throw new RoleNotGrantable('You cannot manage a user whose role is above yours.');
    }
  }
}
