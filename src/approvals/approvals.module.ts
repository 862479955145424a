import { Module } from '@nestjs/common';
import { ApprovalsController } from './approvals.controller';
import { ApprovalsCoreModule } from './approvals.core.module';
import { ConsoleController } from './console/console.controller';

/** The API side of human approvals: the inbox and the answers. */
@Module({ imports: [ApprovalsCoreModule], controllers: [ApprovalsController, ConsoleController] })
export class ApprovalsModule {}
