import { Module } from '@nestjs/common';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsCoreModule } from './approvals.core.module';

/** The API side of human approvals: the inbox and the answers. */
@Module({ imports: [ApprovalsCoreModule], controllers: [ApprovalsController] })
export class ApprovalsModule {}
