import { Module } from '@nestjs/common';
import { EntitiesModule } from '../entities/entities.module';
import { DocumentsRepository } from './documents.repository';
import { DocumentsService } from './documents.service';
import { Embeddings } from './embedding/embeddings';
import { SearchRepository } from './search.repository';

/** What workers need of knowledge: search for runs, storage for ingestion. */
@Module({
  imports: [EntitiesModule],
  providers: [DocumentsRepository, SearchRepository, Embeddings, DocumentsService],
  exports: [DocumentsService, DocumentsRepository, Embeddings],
})
export class KnowledgeCoreModule {}
