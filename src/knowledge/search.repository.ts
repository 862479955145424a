import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Prisma } from '../infra/database/generated/client';
import { ScopedDb, type TenantScope } from '../infra/database/tenant-scope';
import { toVector } from './documents.repository';

export interface SearchFilter {
  /** Documents of this entity are searched besides the company's own (entity-less) ones. */
  entityId?: string;
  /** Only the entity's documents. */
  entityOnly?: boolean;
  documentIds?: string[];
  /** Vector search compares only vectors of the same embedder. */
  embedder?: string;
}

export interface Hit {
  chunkId: string;
  documentId: string;
  filename: string;
  chunkIndex: number;
  content: string;
  score: number;
}

const hit = z.object({
  chunk_id: z.string(),
  document_id: z.string(),
  filename: z.string(),
  chunk_index: z.number(),
  content: z.string(),
  score: z.number(),
});

/**
 * Below this many candidate chunks a vector search ranks them all exactly (a B-tree
 * picks the company's rows, then every distance is computed): exact and fast. Above,
 * the HNSW index with pgvector's iterative scan keeps a selective filter from
 * starving the result. See bench/rag.
 */
export const EXACT_SEARCH_LIMIT = 20_000;

@Injectable()
export class SearchRepository {
  constructor(private readonly db: ScopedDb) {}

  private where(scope: TenantScope, filter: SearchFilter): Prisma.Sql {
    const parts: Prisma.Sql[] = [Prisma.sql`c.company_id = ANY (${[...scope.companyIds]}::uuid[])`];
    if (filter.entityId && filter.entityOnly) parts.push(Prisma.sql`c.entity_id = ${filter.entityId}::uuid`);
    else if (filter.entityId)
      parts.push(Prisma.sql`(c.entity_id IS NULL OR c.entity_id = ${filter.entityId}::uuid)`);
    // A document attached to an entity is visible only through that entity.
    else parts.push(Prisma.sql`c.entity_id IS NULL`);
    if (filter.documentIds?.length)
      parts.push(Prisma.sql`c.document_id = ANY (${filter.documentIds}::uuid[])`);
    if (filter.embedder) parts.push(Prisma.sql`c.metadata ->> 'embedder' = ${filter.embedder}`);
    return Prisma.join(parts, ' AND ');
  }

  async vector(scope: TenantScope, filter: SearchFilter, query: number[], topK: number): Promise<Hit[]> {
    const where = this.where(scope, filter);
    const q = toVector(query);
    return this.db.run(scope, async (tx) => {
      const [{ n }] = await tx.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM document_chunks c WHERE ${where} AND c.embedding IS NOT NULL`;
      let rows: unknown[];
      if (n <= EXACT_SEARCH_LIMIT) {
        // MATERIALIZED keeps the planner off the HNSW index: every candidate is ranked.
        rows = await tx.$queryRaw`
          WITH candidates AS MATERIALIZED (
            SELECT c.id, c.document_id, c.chunk_index, c.content, c.embedding
              FROM document_chunks c WHERE ${where} AND c.embedding IS NOT NULL
          )
          SELECT k.id::text AS chunk_id, k.document_id::text AS document_id, d.filename, k.chunk_index, k.content,
                 (1 - (k.embedding <=> ${q}::vector))::float8 AS score
            FROM candidates k JOIN documents d ON d.id = k.document_id
           ORDER BY k.embedding <=> ${q}::vector, k.id LIMIT ${topK}`;
      } else {
        await tx.$executeRaw`SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true),
                                    set_config('hnsw.ef_search', ${String(Math.max(100, topK * 4))}, true)`;
        rows = await tx.$queryRaw`
          SELECT * FROM (
            SELECT c.id::text AS chunk_id, c.document_id::text AS document_id, d.filename, c.chunk_index, c.content,
                   (1 - (c.embedding <=> ${q}::vector))::float8 AS score
              FROM document_chunks c JOIN documents d ON d.id = c.document_id
             WHERE ${where}
             ORDER BY c.embedding <=> ${q}::vector LIMIT ${topK}
          ) nearest ORDER BY score DESC, chunk_id`;
      }
      return z.array(hit).parse(rows).map(toHit);
    });
  }

  async keyword(scope: TenantScope, filter: SearchFilter, text: string, topK: number): Promise<Hit[]> {
    const where = this.where(scope, filter);
    return this.db.run(scope, async (tx) => {
      const rows = await tx.$queryRaw<unknown[]>`
        SELECT c.id::text AS chunk_id, c.document_id::text AS document_id, d.filename, c.chunk_index, c.content,
               ts_rank_cd(c.content_tsv, q)::float8 AS score
          FROM document_chunks c JOIN documents d ON d.id = c.document_id,
               websearch_to_tsquery('english', ${text}) q
         WHERE ${where} AND c.content_tsv @@ q
         ORDER BY score DESC, c.id LIMIT ${topK}`;
      return z.array(hit).parse(rows).map(toHit);
    });
  }
}

function toHit(row: z.infer<typeof hit>): Hit {
  return {
    chunkId: row.chunk_id,
    documentId: row.document_id,
    filename: row.filename,
    chunkIndex: row.chunk_index,
    content: row.content,
    score: row.score,
  };
}

/** Reciprocal rank fusion (k = 60) of ranked lists; the fused score orders the result. */
export function fuse(lists: Hit[][], topK: number, k = 60): Hit[] {
  const fused = new Map<string, Hit>();
  for (const list of lists)
    list.forEach((item, rank) => {
      const score = 1 / (k + rank + 1);
      const seen = fused.get(item.chunkId);
      fused.set(item.chunkId, seen ? { ...seen, score: seen.score + score } : { ...item, score });
    });
  return [...fused.values()]
    .sort((a, b) => b.score - a.score || a.chunkId.localeCompare(b.chunkId))
    .slice(0, topK);
}
