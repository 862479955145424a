import { Module } from '@nestjs/common';
import { TenancyModule } from '../tenancy/tenancy.module';
import { IngestionProcessor } from './ingestion.processor';
import { KnowledgeCoreModule } from './knowledge.core.module';

/** The worker side: ingests uploaded documents. */
@Module({ imports: [KnowledgeCoreModule, TenancyModule], providers: [IngestionProcessor] })
export class KnowledgeWorkerModule {}
