import { isUniqueViolation } from '../infra/database/prisma-errors';
import { Injectable } from '@nestjs/common';
import { Prisma, type User, type UserRole } from '../infra/database/generated/client';
import { ScopedDb, type TenantScope } from '../infra/database/tenant-scope';
import { EmailTaken } from './identity.errors';

export interface UserFilters {
  companyId?: string;
  role?: UserRole;
}

@Injectable()
export class UsersRepository {
  constructor(private readonly db: ScopedDb) {}

  list(scope: TenantScope, filters: UserFilters, page: { take: number; afterId?: string }): Promise<User[]> {
    return this.db.read(scope, (tx) =>
      tx.user.findMany({
        where: {
          companyId: filters.companyId
            ? { equals: filters.companyId, in: [...scope.companyIds] }
            : { in: [...scope.companyIds] },
          role: filters.role,
          ...(page.afterId ? { id: { gt: page.afterId } } : {}),
        },
        orderBy: { id: 'asc' },
        take: page.take,
      }),
    );
  }

  findById(scope: TenantScope, id: string): Promise<User | null> {
    return this.db.read(scope, (tx) =>
      tx.user.findFirst({ where: { id, companyId: { in: [...scope.companyIds] } } }),
    );
  }

  async create(
    scope: TenantScope,
    data: {
      email: string;
      fullName: string;
      passwordHash: string | null;
      companyId: string;
      role: UserRole;
      isActive?: boolean;
      isVerified?: boolean;
    },
  ): Promise<User> {
    try {
      return await this.db.run(scope, (tx) => tx.user.create({ data }));
    } catch (error) {
      if (isUniqueViolation(error)) throw new EmailTaken();
      throw error;
    }
  }

  async update(scope: TenantScope, id: string, data: Prisma.UserUpdateInput): Promise<User> {
    try {
      return await this.db.run(scope, (tx) => tx.user.update({ where: { id }, data }));
    } catch (error) {
      if (isUniqueViolation(error)) throw new EmailTaken();
      throw error;
    }
  }
}
