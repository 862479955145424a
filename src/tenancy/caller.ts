import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { UserRole } from '../infra/database/generated/client';
import type { TenantScope } from '../infra/database/tenant-scope';
import { DomainError } from '../infra/http/domain-error';
import { hasRole } from './roles';

/** The authenticated user behind a request, with the scope of their role. Built by
 *  identity's guard; every domain reads it through @CurrentCaller(). */
export interface Caller {
  userId: string;
  companyId: string;
  role: UserRole;
  email: string;
  /** The refresh-token family (session) the access token belongs to. */
  sessionId: string;
  scope: TenantScope;
}

export const CurrentCaller = createParamDecorator(
  (_: unknown, context: ExecutionContext): Caller =>
    context.switchToHttp().getRequest<{ user: Caller }>().user,
);

export class RoleTooLow extends DomainError {
  constructor(required: UserRole) {
    super('forbidden', 'ROLE_TOO_LOW', `This action needs the role ${required} or higher.`);
  }
}

/** Role checks come after scope checks: callers outside scope have had their 404. */
export function requireRole(caller: Caller, minimum: UserRole): void {
  if (!hasRole(caller.role, minimum)) throw new RoleTooLow(minimum);
}

export function inScope(caller: Caller, companyId: string): boolean {
  return caller.scope.companyIds.includes(companyId);
}
