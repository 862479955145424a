// Prisma CLI configuration. `prisma generate` needs no database; the project's own
// migration script (scripts/db) drives the schema engine, and operators with network
// access may still use `prisma migrate deploy` against the same folder.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  datasource: {
    url: process.env.DATABASE_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/hirebuddha',
  },
});
