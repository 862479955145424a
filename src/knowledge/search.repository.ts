import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import { Prisma } from '../infra/database/generated/client';
import { ScopedDb, type TenantScope, type Tx } from '../infra/database/tenant-scope';
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
 * Up to this many candidate chunks a vector search ranks them all exactly (the B-tree on
 * the company picks the rows, then every distance is computed): recall 1 however a
 * company's chunks sit in the graph, at ~7 µs a candidate. Above it, the HNSW index with
 * pgvector's iterative scan, which keeps a filter from starving the result; filtered
 * HNSW recall depends on the data (0.96 for a 10 % tenant in bench/rag). See the rag
 * section of bench/README.md.
 */
export const EXACT_SEARCH_LIMIT = 20_000;

/** HNSW candidate list. bench/rag measured recall@10 0.957–0.980 at 100 over 100 k
 *  chunks (the graph differs with each parallel build): too close to 0.95, so the list
 *  is longer; latency had room to spare. */
export const EF_SEARCH_MIN = 160;

@Injectable()
export class SearchRepository {
  constructor(private readonly db: ScopedDb) {}

  private where(scope: TenantScope, filter: SearchFilter, alias = 'c'): Prisma.Sql {
    const c = Prisma.raw(alias);
    const parts: Prisma.Sql[] = [Prisma.sql`${c}.company_id = ANY (${[...scope.companyIds]}::uuid[])`];
    if (filter.entityId && filter.entityOnly)
      parts.push(Prisma.sql`${c}.entity_id = ${filter.entityId}::uuid`);
    else if (filter.entityId)
      parts.push(Prisma.sql`(${c}.entity_id IS NULL OR ${c}.entity_id = ${filter.entityId}::uuid)`);
    // A document attached to an entity is visible only through that entity.
    else parts.push(Prisma.sql`${c}.entity_id IS NULL`);
    if (filter.documentIds?.length)
      parts.push(
        Prisma.sql`${c}.${Prisma.raw(alias === 'd' ? 'id' : 'document_id')} = ANY (${filter.documentIds}::uuid[])`,
      );
    return Prisma.join(parts, ' AND ');
  }

  private chunkWhere(scope: TenantScope, filter: SearchFilter): Prisma.Sql {
    const where = this.where(scope, filter);
    return filter.embedder ? Prisma.sql`${where} AND c.metadata ->> 'embedder' = ${filter.embedder}` : where;
  }

  /**
   * The `topK` chunks nearest to `query`. The plan is chosen by an upper bound of the
   * candidates, read from the documents' chunk counts (a few hundred rows, not a count
   * over the chunks themselves, which would cost as much as the search at 100 k chunks).
   */
  async vector(scope: TenantScope, filter: SearchFilter, query: number[], topK: number): Promise<Hit[]> {
    const where = this.chunkWhere(scope, filter);
    const q = toVector(query);
    return this.db.read(scope, async (tx) => {
      // The HNSW settings ride along: they are transaction-local and harmless to the exact plan.
      const [{ n }] = await tx.$queryRaw<{ n: number }[]>`
        SELECT coalesce(sum(d.chunks_total), 0)::int AS n,
               set_config('hnsw.iterative_scan', 'relaxed_order', true),
               set_config('hnsw.ef_search', ${String(Math.max(EF_SEARCH_MIN, topK * 4))}, true)
          FROM documents d WHERE ${this.where(scope, filter, 'd')}`;
      if (n <= EXACT_SEARCH_LIMIT) return this.exact(tx, where, q, topK);
      const rows = z.array(hit).parse(
        await tx.$queryRaw`
          SELECT * FROM (
            SELECT c.id::text AS chunk_id, c.document_id::text AS document_id, d.filename, c.chunk_index, c.content,
                   (1 - (c.embedding <=> ${q}::vector))::float8 AS score
              FROM document_chunks c JOIN documents d ON d.id = c.document_id
             WHERE ${where}
             ORDER BY c.embedding <=> ${q}::vector LIMIT ${topK}
          ) nearest ORDER BY score DESC, chunk_id`,
      );
      // The iterative scan gives up after hnsw.max_scan_tuples; a filter that few
      // chunks pass (the bound above counts other embedders' chunks too) must still
      // return every match, so short answers are ranked exactly.
      return rows.length < topK ? this.exact(tx, where, q, topK) : rows.map(toHit);
    });
  }

  private async exact(tx: Tx, where: Prisma.Sql, q: string, topK: number): Promise<Hit[]> {
    // Ordered by score, not by the distance operator: the HNSW index can serve only
    // `ORDER BY embedding <=> q`, so this ranks every candidate exactly, streaming them
    // through a top-K sort (a materialised CTE would copy every 4 KB vector first).
    const rows = await tx.$queryRaw`
      SELECT c.id::text AS chunk_id, c.document_id::text AS document_id, d.filename, c.chunk_index, c.content,
             (1 - (c.embedding <=> ${q}::vector))::float8 AS score
        FROM document_chunks c JOIN documents d ON d.id = c.document_id
       WHERE ${where} AND c.embedding IS NOT NULL
       ORDER BY score DESC, c.id LIMIT ${topK}`;
    return z.array(hit).parse(rows).map(toHit);
  }

  /** Reciprocal rank fusion of a vector and a keyword ranking, each `topK × 4` deep
   *  (at least 20). The embedder filter applies to the vector side only. */
  async hybrid(
    scope: TenantScope,
    filter: SearchFilter,
    query: number[],
    text: string,
    topK: number,
  ): Promise<Hit[]> {
    const depth = Math.max(topK * 4, 20);
    const [byVector, byKeyword] = await Promise.all([
      this.vector(scope, filter, query, depth),
      this.keyword(scope, { ...filter, embedder: undefined }, text, depth),
    ]);
    return fuse([byVector, byKeyword], topK);
  }

  async keyword(scope: TenantScope, filter: SearchFilter, text: string, topK: number): Promise<Hit[]> {
    const where = this.where(scope, filter);
    return this.db.read(scope, async (tx) => {
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
