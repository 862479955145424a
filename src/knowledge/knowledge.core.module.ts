import { Module } from '@nestjs/common';
import { BillingCoreModule } from '../billing/billing.core.module';
import { EntitiesModule } from '../entities/entities.module';
import { DocumentReembedder } from './document-reembedder';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
import { Embeddings } from './embedding/embeddings';
import { SearchRepository } from './search.repository';

/** What workers need of knowledge: search for runs, storage for ingestion. */
@Module({
  imports: [EntitiesModule, BillingCoreModule],
  providers: [DocumentsRepository, SearchRepository, Embeddings, DocumentsService, DocumentReembedder],
  exports: [DocumentsService, DocumentsRepository, Embeddings, DocumentReembedder],
})
export class KnowledgeCoreModule {}
