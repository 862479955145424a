import { Module } from '@nestjs/common';
import { EntitiesModule } from '../entities/entities.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { RunEventsBus } from '../execution/run-events.bus';
import { ApprovalNotifier } from './approval-notifier';
import { ApprovalsRepository } from './approvals.repository';
import { ApprovalsService } from './approvals.service';

/** What both processes need: approvals, their answers and their notifications. */
@Module({
  imports: [EntitiesModule, TenancyModule, NotificationsModule],
  providers: [RunEventsBus, ApprovalsRepository, ApprovalNotifier, ApprovalsService],
  exports: [ApprovalsRepository, ApprovalNotifier, ApprovalsService],
})
export class ApprovalsCoreModule {}
