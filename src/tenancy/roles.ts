import type { CompanyType, UserRole } from '../infra/database/generated/client';

/** Roles from most to least powerful; a role includes every power below it. */
export const ROLE_RANK: Record<UserRole, number> = {
  app_admin: 6,
  partner_admin: 5,
  tenant_admin: 4,
  approver: 3,
  member: 2,
  viewer: 1,
};

export function hasRole(role: UserRole, minimum: UserRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}

/** Which company type each role lives in: an app_admin belongs to the APP company,
 *  a partner_admin to a partner, everyone else to a tenant. */
export const COMPANY_TYPE_OF_ROLE: Record<UserRole, CompanyType> = {
  app_admin: 'APP',
  partner_admin: 'PARTNER',
  tenant_admin: 'TENANT',
  approver: 'TENANT',
  member: 'TENANT',
  viewer: 'TENANT',
};
