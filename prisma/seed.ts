/**
 * Demo data for a fresh installation: the APP company with the bootstrap admin,
 * a demo partner, a demo tenant, and one user per role. Idempotent: running it
 * again changes nothing. Runs as the owner role (DATABASE_ADMIN_URL).
 */
import { existsSync } from 'node:fs';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient, type CompanyType, type UserRole } from '../src/infra/database/generated/client';
import { hashPassword } from '../src/identity/password-hasher';
import { bootstrapPlatform } from '../src/identity/bootstrap';
import { seedDemoCatalog } from './demo-catalog';
import { seedDemoEntities } from './demo-entities';

if (existsSync('.env')) process.loadEnvFile('.env');

const adminUrl = process.env.DATABASE_ADMIN_URL;
const adminEmail = (process.env.BOOTSTRAP_ADMIN_EMAIL ?? '').toLowerCase();
const adminPassword = process.env.BOOTSTRAP_ADMIN_PASSWORD ?? '';
if (!adminUrl || !adminEmail || adminPassword.length < 12) {
  console.error(
    'db:seed needs DATABASE_ADMIN_URL, BOOTSTRAP_ADMIN_EMAIL and BOOTSTRAP_ADMIN_PASSWORD (>= 12 chars)',
  );
  process.exit(1);
}

/** Demo users share one password, printed at the end; change it outside demos. */
const DEMO_PASSWORD = process.env.DEMO_USER_PASSWORD ?? 'demo-password-1234';

const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: adminUrl }) });

async function company(name: string, type: CompanyType, parentId: string | null) {
  const existing = await prisma.company.findFirst({ where: { name, type, parentId } });
  return existing ?? prisma.company.create({ data: { name, type, parentId } });
}

async function user(email: string, fullName: string, role: UserRole, companyId: string, password: string) {
  const existing = await prisma.user.findUnique({ where: { email } });
  if (existing) return existing;
  return prisma.user.create({
    data: { email, fullName, role, companyId, passwordHash: await hashPassword(password), isVerified: true },
  });
}

async function main() {
  await bootstrapPlatform(prisma, { email: adminEmail, password: adminPassword });
  const app = await prisma.company.findFirstOrThrow({ where: { type: 'APP' } });

  await seedDemoCatalog(prisma, app.id);
  const partner = await company('Demo Partner', 'PARTNER', app.id);
  const tenant = await company('Demo Tenant', 'TENANT', partner.id);
  const demoUsers: [string, string, UserRole, string][] = [
    ['partner.admin@demo.local', 'Pat Partner', 'partner_admin', partner.id],
    ['tenant.admin@demo.local', 'Tess Tenant', 'tenant_admin', tenant.id],
    ['approver@demo.local', 'Avery Approver', 'approver', tenant.id],
    ['member@demo.local', 'Morgan Member', 'member', tenant.id],
    ['viewer@demo.local', 'Vic Viewer', 'viewer', tenant.id],
  ];
  for (const [email, name, role, companyId] of demoUsers)
    await user(email, name, role, companyId, DEMO_PASSWORD);

  const screening = await seedDemoEntities(prisma, tenant.id);

  console.log('Companies:');
  console.log(`  APP      ${app.name} (${app.id})`);
  console.log(`  PARTNER  ${partner.name} (${partner.id})`);
  console.log(`  TENANT   ${tenant.name} (${tenant.id})`);
  console.log(`Demo process: Candidate screening (${screening}) in ${tenant.name}`);
  console.log('Logins:');
  console.log(`  app_admin      ${adminEmail} / ${adminPassword}`);
  for (const [email, , role] of demoUsers) console.log(`  ${role.padEnd(14)} ${email} / ${DEMO_PASSWORD}`);
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => prisma.$disconnect());
