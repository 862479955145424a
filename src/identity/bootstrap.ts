import type { PrismaClient } from '../infra/database/generated/client';
import { hashPassword } from './password-hasher';

/**
 * Creates the APP company and its first app_admin on an empty database. Runs as
 * the owner role (past row-level security) under an advisory lock, so API replicas
 * starting together create them once. Returns false when the platform exists.
 */
export async function bootstrapPlatform(
  prisma: PrismaClient,
  admin: { email: string; password: string },
  appName = 'HireBuddha',
): Promise<boolean> {
  const passwordHash = await hashPassword(admin.password);
  return prisma.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('hirebuddha:bootstrap'))`;
    if (await tx.company.findFirst({ where: { type: 'APP' }, select: { id: true } })) return false;
    const app = await tx.company.create({ data: { name: appName, type: 'APP' } });
    await tx.user.create({
      data: {
        email: admin.email.trim().toLowerCase(),
        fullName: 'Platform Admin',
        role: 'app_admin',
        companyId: app.id,
        passwordHash,
        isVerified: true,
      },
    });
    return true;
  });
}
