import { Injectable } from '@nestjs/common';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { Prisma, type Document, type UploadStatus } from '../infra/database/generated/client';
import { ScopedDb, type TenantScope, type Tx } from '../infra/database/tenant-scope';
import type { Chunk } from './ingestion/chunker';

export interface StoredChunk extends Chunk {
  embedding: number[];
}

/** pgvector's text form of a vector. */
export const toVector = (values: number[]): string =>
  `[${values.map((v) => (v === 0 ? '0' : v.toPrecision(7))).join(',')}]`;

const existingRow = z.object({ content_hash: z.string(), embedding: z.string() });

@Injectable()
export class DocumentsRepository {
  constructor(private readonly db: ScopedDb) {}

  create(scope: TenantScope, data: Omit<Prisma.DocumentUncheckedCreateInput, 'id'>): Promise<Document> {
    return this.db.run(scope, (tx) => tx.document.create({ data: { ...data, id: uuidv7() } }));
  }

  /** The document a re-upload replaces: same company, entity and filename. */
  findSame(
    scope: TenantScope,
    companyId: string,
    entityId: string | null,
    filename: string,
  ): Promise<Document | null> {
    return this.db.read(scope, (tx) =>
      tx.document.findFirst({ where: { companyId, entityId, filename }, orderBy: { id: 'desc' } }),
    );
  }

  findVisible(scope: TenantScope, id: string): Promise<Document | null> {
    return this.db.read(scope, (tx) =>
      tx.document.findFirst({ where: { id, companyId: { in: [...scope.companyIds] } } }),
    );
  }

  list(
    scope: TenantScope,
    filters: { entityId?: string; status?: UploadStatus },
    page: { take: number; afterId?: string },
  ): Promise<Document[]> {
    return this.db.read(
      scope,
      (tx) =>
        tx.document.findMany({
          where: {
            companyId: { in: [...scope.companyIds] },
            entityId: filters.entityId,
            uploadStatus: filters.status,
            id: page.afterId ? { gt: page.afterId } : undefined,
          },
          omit: { content: true },
          orderBy: { id: 'asc' },
          take: page.take,
        }) as Promise<Document[]>,
    );
  }

  chunkCounts(scope: TenantScope, ids: string[]): Promise<Map<string, number>> {
    return this.db.read(scope, async (tx) => {
      const rows = await tx.documentChunk.groupBy({
        by: ['documentId'],
        where: { documentId: { in: ids } },
        _count: true,
      });
      return new Map(rows.map((row) => [row.documentId, row._count]));
    });
  }

  update(scope: TenantScope, id: string, data: Prisma.DocumentUncheckedUpdateInput): Promise<Document> {
    return this.db.run(scope, (tx) => tx.document.update({ where: { id }, data }));
  }

  /** FAILED with the reason, and no chunks: nothing half-stored stays searchable. */
  async fail(scope: TenantScope, id: string, contentHash: string, reason: string): Promise<void> {
    await this.db.run(scope, async (tx) => {
      if (!(await this.lockUpload(tx, id, contentHash))) return;
      await tx.documentChunk.deleteMany({ where: { documentId: id } });
      await tx.document.update({
        where: { id },
        data: { uploadStatus: 'FAILED', errorMessage: reason.slice(0, 2000), chunksTotal: 0, chunksDone: 0 },
      });
    });
  }

  async delete(scope: TenantScope, id: string): Promise<void> {
    await this.db.run(scope, (tx) => tx.document.delete({ where: { id } }));
  }

  /** Embeddings already stored for these chunk contents (any document of the company):
   *  a re-upload embeds only what changed. */
  existingEmbeddings(
    scope: TenantScope,
    documentId: string,
    hashes: string[],
    embedder: string,
  ): Promise<Map<string, string>> {
    return this.db.read(scope, async (tx) => {
      const rows = await tx.$queryRaw<unknown[]>`
        SELECT DISTINCT ON (content_hash) content_hash, embedding::text AS embedding
          FROM document_chunks
         WHERE document_id = ${documentId}::uuid AND content_hash = ANY (${hashes}::text[])
           AND embedding IS NOT NULL AND metadata ->> 'embedder' = ${embedder}`;
      return new Map(
        z
          .array(existingRow)
          .parse(rows)
          .map((r) => [r.content_hash, r.embedding]),
      );
    });
  }

  /** The document's chunks replaced in one transaction, the document READY with them:
   *  a failure stores nothing. */
  async replaceChunks(
    scope: TenantScope,
    document: Pick<Document, 'id' | 'companyId' | 'entityId' | 'contentHash'>,
    chunks: (Chunk & { embedding: string })[],
    embedder: string,
    metadata: Prisma.InputJsonObject,
  ): Promise<boolean> {
    return this.db.run(scope, async (tx) => {
      if (!(await this.lockUpload(tx, document.id, document.contentHash))) return false;
      await tx.documentChunk.deleteMany({ where: { documentId: document.id } });
      for (let at = 0; at < chunks.length; at += 500) {
        const batch = chunks.slice(at, at + 500);
        await tx.$executeRaw`
          INSERT INTO document_chunks (id, company_id, document_id, entity_id, chunk_index, content, content_hash,
                                       token_count, embedding, metadata)
          SELECT x.id, ${document.companyId}::uuid, ${document.id}::uuid, ${document.entityId}::uuid, x.chunk_index,
                 x.content, x.content_hash, x.token_count, x.embedding::vector,
                 jsonb_build_object('embedder', ${embedder}::text)
            FROM unnest(${batch.map(() => uuidv7())}::uuid[], ${batch.map((c) => c.index)}::int[],
                        ${batch.map((c) => c.content)}::text[], ${batch.map((c) => c.contentHash)}::text[],
                        ${batch.map((c) => c.tokenCount)}::int[], ${batch.map((c) => c.embedding)}::text[])
                 AS x(id, chunk_index, content, content_hash, token_count, embedding)`;
      }
      await tx.document.update({
        where: { id: document.id },
        data: {
          uploadStatus: 'READY',
          chunksTotal: chunks.length,
          chunksDone: chunks.length,
          errorMessage: null,
          metadata,
        },
      });
      return true;
    });
  }

  /** Locks the document and says whether it still holds this upload: a job for an
   *  older upload must not overwrite a newer one's chunks. */
  private async lockUpload(tx: Tx, id: string, contentHash: string): Promise<boolean> {
    const rows = await tx.$queryRaw<{ content_hash: string }[]>`
      SELECT content_hash FROM documents WHERE id = ${id}::uuid FOR UPDATE`;
    return rows[0]?.content_hash === contentHash;
  }
}
