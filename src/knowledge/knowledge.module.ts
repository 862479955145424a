import { Module } from '@nestjs/common';
import { DocumentsController } from './documents.controller';
import { KnowledgeCoreModule } from './knowledge.core.module';

/** The API side of knowledge: documents and search. */
@Module({ imports: [KnowledgeCoreModule], controllers: [DocumentsController] })
export class KnowledgeModule {}
