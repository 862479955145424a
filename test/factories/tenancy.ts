import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type {
  Company,
  CompanyType,
  PrismaClient,
  User,
  UserRole,
} from '../../src/infra/database/generated/client';
import { hashPassword } from '../../src/identity/password-hasher';

export const PASSWORD = 'correct-horse-battery-staple';

// One argon2 hash for every factory user: hashing is deliberately slow.
let passwordHash: Promise<string> | undefined;
const sharedHash = () => (passwordHash ??= hashPassword(PASSWORD));

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}`;

export function createCompany(
  prisma: PrismaClient,
  data: { type: CompanyType; parentId?: string | null; name?: string; status?: 'active' | 'suspended' },
): Promise<Company> {
  return prisma.company.create({
    data: {
      name: data.name ?? `${data.type} ${unique()}`,
      type: data.type,
      parentId: data.parentId ?? null,
      status: data.status,
    },
  });
}

export async function createUser(
  prisma: PrismaClient,
  data: { companyId: string; role: UserRole; email?: string; isActive?: boolean },
): Promise<User> {
  return prisma.user.create({
    data: {
      companyId: data.companyId,
      role: data.role,
      email: (data.email ?? `${data.role}.${unique()}@example.test`).toLowerCase(),
      fullName: `${data.role} user`,
      passwordHash: await sharedHash(),
      isActive: data.isActive ?? true,
      isVerified: true,
    },
  });
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  user: { id: string; companyId: string; role: UserRole };
}

export async function login(
  app: NestFastifyApplication,
  email: string,
  password = PASSWORD,
): Promise<Session> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { email, password },
  });
  if (response.statusCode !== 200)
    throw new Error(`login of ${email} answered ${response.statusCode}: ${response.body}`);
  return response.json();
}

export const bearer = (session: Pick<Session, 'accessToken'>) => ({
  authorization: `Bearer ${session.accessToken}`,
});

/** Bearer headers per user, logging each one in once: `const as = sessions(() => app)`. */
export function sessions(app: () => NestFastifyApplication) {
  const cache = new Map<string, Promise<Session>>();
  return async (user: { email: string }) => {
    if (!cache.has(user.email)) cache.set(user.email, login(app(), user.email));
    return bearer(await cache.get(user.email)!);
  };
}

const TENANT_ROLES: UserRole[] = ['tenant_admin', 'approver', 'member', 'viewer'];

export interface TenantWorld {
  company: Company;
  users: Record<'tenant_admin' | 'approver' | 'member' | 'viewer', User>;
}
export interface PartnerWorld {
  company: Company;
  admin: User;
  tenants: [TenantWorld, TenantWorld];
}
export interface World {
  app: Company;
  appAdmin: User;
  partners: [PartnerWorld, PartnerWorld];
}

/** The APP company with its admin, two partners with an admin each, and two tenants
 *  under each partner with a user of every tenant role. */
export async function createWorld(prisma: PrismaClient): Promise<World> {
  const app = await createCompany(prisma, { type: 'APP', name: 'Platform' });
  const appAdmin = await createUser(prisma, { companyId: app.id, role: 'app_admin' });
  const partner = async (): Promise<PartnerWorld> => {
    const company = await createCompany(prisma, { type: 'PARTNER', parentId: app.id });
    const admin = await createUser(prisma, { companyId: company.id, role: 'partner_admin' });
    const tenant = async (): Promise<TenantWorld> => {
      const tenantCompany = await createCompany(prisma, { type: 'TENANT', parentId: company.id });
      const users = {} as TenantWorld['users'];
      for (const role of TENANT_ROLES) {
        users[role as keyof TenantWorld['users']] = await createUser(prisma, {
          companyId: tenantCompany.id,
          role,
        });
      }
      return { company: tenantCompany, users };
    };
    return { company, admin, tenants: [await tenant(), await tenant()] };
  };
  return { app, appAdmin, partners: [await partner(), await partner()] };
}
