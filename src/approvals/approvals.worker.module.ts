import { Module } from '@nestjs/common';
import { EntitiesModule } from '../entities/entities.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { ApprovalsCoreModule } from './approvals.core.module';
import { WebhookProcessor } from './webhook.processor';

/** The worker side: delivers approval webhooks. */
@Module({ imports: [ApprovalsCoreModule, EntitiesModule, TenancyModule], providers: [WebhookProcessor] })
export class ApprovalsWorkerModule {}
