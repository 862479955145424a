import { Module } from '@nestjs/common';
import { BillingCoreModule } from '../billing/billing.core.module';
import { EntitiesModule } from '../entities/entities.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { RunsController } from './runs.controller';
import { RunEventsBus } from './run-events.bus';
import { RunsRepository } from './runs.repository';
import { RunsService } from './runs.service';

/** The API side of execution: create, read and cancel runs; enqueue them. */
@Module({
  imports: [EntitiesModule, TenancyModule, BillingCoreModule],
  controllers: [RunsController],
  providers: [RunsRepository, RunsService, RunEventsBus],
  exports: [RunEventsBus],
})
export class ExecutionModule {}
