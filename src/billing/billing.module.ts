import { Module } from '@nestjs/common';
import { BillingCoreModule } from './billing.core.module';
import { IntegrationsController } from './integrations.controller';
import { IntegrationsService } from './integrations.service';
import { UsageController } from './usage.controller';
import { UsageRepository } from './usage.repository';
import { UsageService } from './usage.service';
import { TenancyModule } from '../tenancy/tenancy.module';
import { KnowledgeCoreModule } from '../knowledge/knowledge.core.module';

/** The API side of billing: the integration registry and usage reports. */
@Module({
  imports: [BillingCoreModule, TenancyModule, KnowledgeCoreModule],
  controllers: [IntegrationsController, UsageController],
  providers: [IntegrationsService, UsageRepository, UsageService],
  exports: [BillingCoreModule],
})
export class BillingModule {}
