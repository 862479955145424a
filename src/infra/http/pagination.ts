import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Matches, Min } from 'class-validator';
import { ValidationFailed } from './domain-error';

/** `?limit=&cursor=` of every list route. The cursor is opaque to clients; it is the
 *  last id of the page (ids are UUIDv7, so id order is creation order). */
export class PageQuery {
  @ApiPropertyOptional({ minimum: 1, maximum: 200, default: 50 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;

  @ApiPropertyOptional({ description: 'nextCursor of the previous page' })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_-]{1,64}$/)
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Keyset arguments for Prisma: ask for one more row than the page to know if
 *  another page follows. */
export function keyset(query: PageQuery): { take: number; afterId?: string } {
  const take = (query.limit ?? 50) + 1;
  if (!query.cursor) return { take };
  const afterId = Buffer.from(query.cursor, 'base64url').toString('utf8');
  if (!UUID.test(afterId))
    throw new ValidationFailed([{ pointer: '/query/cursor', message: 'cursor is not valid' }]);
  return { take, afterId };
}

export function toPage<T extends { id: string }, R>(
  rows: T[],
  query: PageQuery,
  map: (row: T) => R,
): Page<R> {
  const limit = query.limit ?? 50;
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  const last = items.at(-1);
  return {
    items: items.map(map),
    nextCursor: more && last ? Buffer.from(last.id, 'utf8').toString('base64url') : null,
  };
}
