import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job } from 'bullmq';
import { AppConfig } from '../infra/config/config';
import type { JobPayloads } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { configureWorker } from '../infra/queue/worker-options';
import { CompaniesService } from '../tenancy/companies.service';
import { DocumentsRepository, toVector } from './documents.repository';
import { EmbeddingError, Embeddings } from './embedding/embeddings';
import { chunkText } from './ingestion/chunker';
import { sniffDocument } from './ingestion/document-types';
import { extractText, ParseError } from './ingestion/parse';

/**
 * Ingests an uploaded document: parse, chunk, embed in batches (progress on the
 * document row), then store every chunk in one transaction. Chunks whose content was
 * embedded before (a re-upload) keep their vectors. A broken file ends FAILED with the
 * reason and no chunks.
 */
@Processor(QueueName.Ingestion)
export class IngestionProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(IngestionProcessor.name);

  constructor(
    private readonly documents: DocumentsRepository,
    private readonly embeddings: Embeddings,
    private readonly companies: CompaniesService,
    private readonly config: AppConfig,
  ) {
    super();
    configureWorker(IngestionProcessor, QueueName.Ingestion, config);
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.env.INGESTION_CONCURRENCY;
  }

  async process(job: Job<JobPayloads['document.ingest']>): Promise<void> {
    const { scope } = await this.companies.runContext(job.data.companyId);
    const document = await this.documents.findVisible(scope, job.data.documentId);
    // Deleted, or replaced by a newer upload (whose own job will ingest it).
    if (!document || document.contentHash !== job.data.contentHash || !document.content) return;
    await this.documents.update(scope, document.id, { uploadStatus: 'PROCESSING' });
    const content = Buffer.from(document.content);
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      const kind = await sniffDocument(document.filename, content.subarray(0, 4_100));
      if (!kind) throw new ParseError('The file is not a supported document.');
      const text = await extractText(kind, content);
      if (!text) throw new ParseError('The document has no text.');
      const chunks = chunkText(text, this.config.env.CHUNK_SIZE_TOKENS, this.config.env.CHUNK_OVERLAP_TOKENS);
      await this.documents.update(scope, document.id, { chunksTotal: chunks.length, chunksDone: 0 });

      const embedder = await this.embeddings.forCompany(scope, document.companyId);
      const known = await this.documents.existingEmbeddings(
        scope,
        document.id,
        chunks.map((c) => c.contentHash),
        embedder.id,
      );
      const vectors = new Map(known);
      const missing = [
        ...new Map(chunks.filter((c) => !known.has(c.contentHash)).map((c) => [c.contentHash, c])).values(),
      ];
      const batch = this.config.env.EMBEDDING_BATCH_SIZE;
      for (let at = 0; at < missing.length; at += batch) {
        const slice = missing.slice(at, at + batch);
        const embedded = await embedder.embed(
          slice.map((c) => c.content),
          'document',
        );
        // One ledger row per batch, keyed by document, upload and batch: a retried job bills nothing twice.
        await this.embeddings.bill(
          scope,
          document.companyId,
          `embed:${document.id}:${document.contentHash.slice(0, 16)}:${at / batch}`,
          document.entityId,
          embedder,
          embedded.tokens,
        );
        slice.forEach((chunk, i) => vectors.set(chunk.contentHash, toVector(embedded.vectors[i])));
        await this.documents.update(scope, document.id, {
          chunksDone: chunks.length - missing.length + Math.min(at + batch, missing.length),
        });
      }
      await this.documents.replaceChunks(
        scope,
        document,
        chunks.map((chunk) => ({ ...chunk, embedding: vectors.get(chunk.contentHash)! })),
        embedder.id,
        {
          kind,
          embedder: embedder.id,
          chunksEmbedded: missing.length,
          chunksReused: chunks.length - missing.length,
        },
      );
    } catch (error) {
      if (error instanceof EmbeddingError && !final) throw error; // retried by the job
      if (!(error instanceof ParseError) && !(error instanceof EmbeddingError)) throw error;
      await this.documents.fail(scope, document.id, document.contentHash, error.message);
      this.logger.warn(`document ${document.id} failed: ${error.message}`);
    }
  }
}
