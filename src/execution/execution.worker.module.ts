import { Module } from '@nestjs/common';
import { ApprovalsCoreModule } from '../approvals/approvals.core.module';
import { BillingCoreModule } from '../billing/billing.core.module';
import { KnowledgeCoreModule } from '../knowledge/knowledge.core.module';
import { EntitiesModule } from '../entities/entities.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { RunExecutor } from './engine/run-executor';
import { ExecutionProcessor } from './execution.processor';
import { CompanySlots } from './fairness/company-slots';
import { Reconciler } from './engine/reconciler';
import { LlmGateway } from './llm/llm-gateway';
import { MaintenanceProcessor } from './maintenance.processor';
import { RetentionRepository } from './retention/retention.repository';
import { RetentionService } from './retention/retention.service';
import { RunEventsBus } from './run-events.bus';
import { RunsRepository } from './runs.repository';

/** The worker side of execution, loaded only by worker processes. */
@Module({
  imports: [EntitiesModule, TenancyModule, BillingCoreModule, ApprovalsCoreModule, KnowledgeCoreModule],
  providers: [
    RunEventsBus,
    RunsRepository,
    RunExecutor,
    CompanySlots,
    ExecutionProcessor,
    LlmGateway,
    Reconciler,
    RetentionRepository,
    RetentionService,
    MaintenanceProcessor,
  ],
})
export class ExecutionWorkerModule {}
