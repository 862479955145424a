import { createHash } from 'node:crypto';
import { InjectQueue } from '@nestjs/bullmq';
import { v7 as uuidv7 } from 'uuid';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { EntitiesService } from '../entities/entities.service';
import type { Document, HierarchicalEntity } from '../infra/database/generated/client';
import type { TenantScope } from '../infra/database/tenant-scope';
import { NotFound } from '../infra/http/domain-error';
import { keyset, toPage, type Page } from '../infra/http/pagination';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { inScope, requireRole, type Caller } from '../tenancy/caller';
import type { DocumentResponse, ListDocumentsQuery, SearchDto, SearchResponse } from './dto/document.dto';
import { DocumentsRepository } from './documents.repository';
import { Embeddings } from './embedding/embeddings';
import { MIME_TYPE, sniffDocument } from './ingestion/document-types';
import { UnsupportedDocument } from './knowledge.errors';
import { SearchRepository, type Hit, type SearchFilter } from './search.repository';

export function toDocumentResponse(row: Document, chunkCount: number): DocumentResponse {
  return {
    id: row.id,
    companyId: row.companyId,
    entityId: row.entityId,
    filename: row.filename,
    mimeType: row.mimeType,
    sizeBytes: row.sizeBytes,
    contentHash: row.contentHash,
    uploadStatus: row.uploadStatus,
    errorMessage: row.errorMessage,
    chunksTotal: row.chunksTotal,
    chunksDone: row.chunksDone,
    chunkCount,
    metadata: row.metadata as object,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export type SearchMode = 'vector' | 'keyword' | 'hybrid';

/** Documents (upload, list, delete) and search over their chunks, always in scope. */
@Injectable()
export class DocumentsService {
  constructor(
    private readonly documents: DocumentsRepository,
    private readonly search: SearchRepository,
    private readonly embeddings: Embeddings,
    private readonly entities: EntitiesService,
    @InjectQueue(QueueName.Ingestion) private readonly ingestion: Queue,
  ) {}

  /**
   * Records an upload (PENDING) and queues its ingestion. The same filename again for
   * the same company and entity replaces that document: identical bytes change
   * nothing, changed bytes are ingested again (unchanged chunks keep their embeddings).
   */
  async upload(
    caller: Caller,
    file: { filename: string; content: Buffer },
    entityId?: string,
  ): Promise<{ document: Document; chunkCount: number }> {
    let companyId = caller.companyId;
    if (entityId) {
      const entity = await this.entities.get(caller, entityId);
      if (!inScope(caller, entity.companyId)) throw new NotFound('Entity');
      companyId = entity.companyId;
    }
    requireRole(caller, 'member');
    const kind = await sniffDocument(file.filename, file.content.subarray(0, 4_100));
    if (!kind) throw new UnsupportedDocument(file.filename);
    const contentHash = createHash('sha256').update(file.content).digest('hex');
    const same = await this.documents.findSame(caller.scope, companyId, entityId ?? null, file.filename);
    if (same && same.contentHash === contentHash && same.uploadStatus !== 'FAILED') {
      const counts = await this.documents.chunkCounts(caller.scope, [same.id]);
      return { document: same, chunkCount: counts.get(same.id) ?? 0 };
    }
    const fields = {
      mimeType: MIME_TYPE[kind],
      sizeBytes: file.content.length,
      contentHash,
      content: new Uint8Array(file.content),
      uploadStatus: 'PENDING' as const,
      errorMessage: null,
      chunksDone: 0,
      uploadedBy: caller.userId,
    };
    const document = same
      ? await this.documents.update(caller.scope, same.id, fields)
      : await this.documents.create(caller.scope, {
          companyId,
          entityId: entityId ?? null,
          filename: file.filename,
          ...fields,
        });
    const payload = { documentId: document.id, companyId, contentHash, attempt: uuidv7() };
    await this.ingestion.add(Jobs.IngestDocument.name, payload, JOB_OPTIONS['document.ingest'](payload));
    return { document, chunkCount: 0 };
  }

  async list(caller: Caller, query: ListDocumentsQuery): Promise<Page<DocumentResponse>> {
    const rows = await this.documents.list(caller.scope, query, keyset(query));
    const counts = await this.documents.chunkCounts(
      caller.scope,
      rows.map((r) => r.id),
    );
    return toPage(rows, query, (row) => toDocumentResponse(row, counts.get(row.id) ?? 0));
  }

  async get(caller: Caller, id: string): Promise<DocumentResponse> {
    const row = await this.documents.findVisible(caller.scope, id);
    if (!row) throw new NotFound('Document');
    const counts = await this.documents.chunkCounts(caller.scope, [id]);
    return toDocumentResponse(row, counts.get(id) ?? 0);
  }

  async delete(caller: Caller, id: string): Promise<void> {
    const row = await this.documents.findVisible(caller.scope, id);
    if (!row) throw new NotFound('Document');
    requireRole(caller, 'member');
    await this.documents.delete(caller.scope, id);
  }

  async searchFor(caller: Caller, dto: SearchDto): Promise<SearchResponse> {
    if (dto.entityId) await this.entities.get(caller, dto.entityId);
    const items = await this.run(
      caller.scope,
      caller.companyId,
      { entityId: dto.entityId, documentIds: dto.documentIds },
      dto.query,
      dto.topK ?? 5,
      dto.mode ?? 'hybrid',
    );
    return { items };
  }

  /** A run's knowledge search: its entity's documents (capabilities.knowledge) and the company's. */
  searchForRun(
    scope: TenantScope,
    companyId: string,
    entity: HierarchicalEntity,
    query: string,
    topK?: number,
  ): Promise<Hit[]> {
    const knowledge = (
      entity.capabilities as {
        knowledge?: { documentIds?: string[]; entityScoped?: boolean; topK?: number };
      } | null
    )?.knowledge;
    return this.run(
      scope,
      companyId,
      { entityId: entity.id, entityOnly: knowledge?.entityScoped, documentIds: knowledge?.documentIds },
      query,
      topK ?? knowledge?.topK ?? 5,
      'hybrid',
    );
  }

  private async run(
    scope: TenantScope,
    companyId: string,
    filter: SearchFilter,
    query: string,
    topK: number,
    mode: SearchMode,
  ): Promise<Hit[]> {
    if (mode === 'keyword') return this.search.keyword(scope, filter, query, topK);
    const embedder = await this.embeddings.forCompany(scope, companyId);
    const { vectors, tokens } = await embedder.embed([query], 'query');
    await this.embeddings.bill(
      scope,
      companyId,
      `search:${uuidv7()}`,
      filter.entityId ?? null,
      embedder,
      tokens,
    );
    const byEmbedder = { ...filter, embedder: embedder.id };
    if (mode === 'vector') return this.search.vector(scope, byEmbedder, vectors[0], topK);
    return this.search.hybrid(scope, byEmbedder, vectors[0], query, topK);
  }
}
