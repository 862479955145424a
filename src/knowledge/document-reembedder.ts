import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { ScopedDb, type TenantScope } from '../infra/database/tenant-scope';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';

/**
 * When a company's embedder changes (an embedding integration is added, changed or
 * removed), its documents are embedded again: vectors of two embedders cannot be
 * compared, and search only compares a query with vectors of its own embedder.
 */
@Injectable()
export class DocumentReembedder {
  constructor(
    private readonly db: ScopedDb,
    @InjectQueue(QueueName.Ingestion) private readonly ingestion: Queue,
  ) {}

  async request(scope: TenantScope, companyIds: readonly string[]): Promise<number> {
    const documents = await this.db.read(scope, (tx) =>
      tx.document.findMany({
        // Every document: one being ingested right now may have started with the old embedder.
        where: { companyId: { in: [...companyIds] } },
        select: { id: true, companyId: true, contentHash: true },
      }),
    );
    const stamp = Date.now().toString(36);
    for (const document of documents) {
      const payload = {
        documentId: document.id,
        companyId: document.companyId,
        contentHash: document.contentHash,
        attempt: `reembed-${stamp}`,
      };
      await this.ingestion.add(Jobs.IngestDocument.name, payload, JOB_OPTIONS['document.ingest'](payload));
    }
    return documents.length;
  }
}
