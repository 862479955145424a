import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import { toApprovalResponse } from './approval-response';
import { ApprovalsService } from './approvals.service';
import {
  AnswerApprovalDto,
  ApprovalPage,
  ApprovalResponse,
  ListApprovalsQuery,
  RejectApprovalDto,
} from './dto/approval.dto';

@ApiTags('approvals')
@ApiBearerAuth()
@Controller('approvals')
export class ApprovalsController {
  constructor(private readonly approvals: ApprovalsService) {}

  @Get()
  @ApiOkResponse({ type: ApprovalPage, description: 'Oldest first.' })
  list(@CurrentCaller() caller: Caller, @Query() query: ListApprovalsQuery) {
    return this.approvals.list(caller, query);
  }

  @Get(':id')
  @ApiOkResponse({ type: ApprovalResponse })
  async get(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return toApprovalResponse(await this.approvals.get(caller, id));
  }

  @Post(':id/approve')
  @HttpCode(200)
  @ApiOkResponse({ type: ApprovalResponse })
  async approve(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: AnswerApprovalDto,
  ) {
    return toApprovalResponse(await this.approvals.approve(caller, id, dto));
  }

  @Post(':id/reject')
  @HttpCode(200)
  @ApiOkResponse({ type: ApprovalResponse })
  async reject(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: RejectApprovalDto,
  ) {
    return toApprovalResponse(await this.approvals.reject(caller, id, dto));
  }
}
