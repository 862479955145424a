import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../infra/config/config';
import { ApprovalsWorkerModule } from '../approvals/approvals.worker.module';
import { ExecutionWorkerModule } from '../execution/execution.worker.module';
import { InfraModule } from '../infra/infra.module';
import { KnowledgeWorkerModule } from '../knowledge/knowledge.worker.module';
import { NotificationsWorkerModule } from '../notifications/notifications.worker.module';

/** What a worker process loads: every domain's *.worker.module (processors). */
@Module({})
export class WorkerModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: WorkerModule,
      imports: [
        InfraModule.forRoot(config),
        NotificationsWorkerModule,
        ExecutionWorkerModule,
        ApprovalsWorkerModule,
        KnowledgeWorkerModule,
      ],
    };
  }
}
