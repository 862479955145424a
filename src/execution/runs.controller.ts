import { Body, Controller, Get, Headers, HttpCode, Param, ParseUUIDPipe, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import { CreateRunDto, ListRunsQuery, LlmLogList, RunPage, RunResponse, ToolLogList } from './dto/run.dto';
import { toRunResponse } from './run-response';
import { RunsService } from './runs.service';

@ApiTags('runs')
@ApiBearerAuth()
@Controller()
export class RunsController {
  constructor(private readonly runs: RunsService) {}

  @Post('entities/:id/runs')
  @HttpCode(202)
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: 'Same key and body within 24 h: the same run',
  })
  @ApiAcceptedResponse({ type: RunResponse })
  async create(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) entityId: string,
    @Body() dto: CreateRunDto,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    return toRunResponse(await this.runs.create(caller, entityId, dto, idempotencyKey));
  }

  @Get('runs')
  @ApiOkResponse({ type: RunPage })
  list(@CurrentCaller() caller: Caller, @Query() query: ListRunsQuery) {
    return this.runs.list(caller, query);
  }

  @Get('runs/:id')
  @ApiOkResponse({ type: RunResponse })
  get(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.runs.describe(caller, id);
  }

  @Get('runs/:id/llm-logs')
  @ApiOkResponse({ type: LlmLogList })
  llmLogs(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.runs.llmLogs(caller, id);
  }

  @Get('runs/:id/tool-logs')
  @ApiOkResponse({ type: ToolLogList })
  toolLogs(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.runs.toolLogs(caller, id);
  }

  @Post('runs/:id/cancel')
  @HttpCode(200)
  @ApiOkResponse({ type: RunResponse })
  cancel(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.runs.cancel(caller, id);
  }
}
