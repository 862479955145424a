import { Module } from '@nestjs/common';
import { BillingCoreModule } from './billing.core.module';
import { IntegrationsController } from './integrations.controller';
import { IntegrationsService } from './integrations.service';

/** The API side of billing: the integration registry and usage reports. */
@Module({
  imports: [BillingCoreModule],
  controllers: [IntegrationsController],
  providers: [IntegrationsService],
  exports: [BillingCoreModule],
})
export class BillingModule {}
