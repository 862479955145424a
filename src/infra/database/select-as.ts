import { Prisma } from './generated/client';

/**
 * A select list of table `alias`'s columns, each named `prefix` + its Prisma field, so
 * a raw row reads like Prisma's (statements sent around Prisma: ScopedDb.statement).
 * `columns` maps each field to its column expression (`id::text` for uuids).
 */
export function selectAs(alias: string, columns: Record<string, string>, prefix = ''): Prisma.Sql {
  return Prisma.raw(
    Object.entries(columns)
      .map(([field, column]) => `${alias}.${column} AS "${prefix}${field}"`)
      .join(', '),
  );
}
