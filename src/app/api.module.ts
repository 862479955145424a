import { Module, type DynamicModule } from '@nestjs/common';
import type { AppConfig } from '../infra/config/config';
import { InfraModule } from '../infra/infra.module';
import { QueueBoardModule } from '../admin/queue-board.module';
import { ApprovalsModule } from '../approvals/approvals.module';
import { BillingModule } from '../billing/billing.module';
import { KnowledgeModule } from '../knowledge/knowledge.module';
import { HealthController } from '../infra/health/health.controller';
import { MetricsController } from '../infra/metrics/metrics.controller';
import { EntitiesModule } from '../entities/entities.module';
import { ExecutionModule } from '../execution/execution.module';
import { IdentityModule } from '../identity/identity.module';
import { TenancyModule } from '../tenancy/tenancy.module';

/** What the API process loads: HTTP controllers of every domain, queue producers. */
@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        InfraModule.forRoot(config),
        TenancyModule,
        IdentityModule,
        EntitiesModule,
        BillingModule,
        ExecutionModule,
        ApprovalsModule,
        KnowledgeModule,
        QueueBoardModule,
      ],
      controllers: [HealthController, MetricsController],
    };
  }
}
