import type { Company, UserRole } from '../infra/database/generated/client';
import type { Caller } from '../tenancy/caller';
import { COMPANY_TYPE_OF_ROLE, ROLE_RANK } from '../tenancy/roles';
import { RoleNotAllowedForCompany, RoleNotGrantable } from './identity.errors';

/** Whether `caller` may give `role` to a user of `company`: never above their own role,
 *  and only a role that lives in that type of company. */
export function assertGrantable(caller: Caller, role: UserRole, company: Company): void {
  if (ROLE_RANK[role] > ROLE_RANK[caller.role]) {
    throw new RoleNotGrantable(`You cannot grant ${role}: it is above your own role.`);
  }
  if (COMPANY_TYPE_OF_ROLE[role] !== company.type) {
    throw new RoleNotAllowedForCompany(
      `A ${role} belongs to a ${COMPANY_TYPE_OF_ROLE[role]} company, not a ${company.type}.`,
    );
  }
}
