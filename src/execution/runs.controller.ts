import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import {
  ApiAcceptedResponse,
  ApiBearerAuth,
  ApiHeader,
  ApiOkResponse,
  ApiProduces,
  ApiTags,
} from '@nestjs/swagger';
import { requestTraceContext } from '../infra/tracing/http-tracing';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import {
  CreateRunDto,
  ListRunsQuery,
  LlmLogList,
  RunPage,
  RunResponse,
  RunTreeNode,
  ToolLogList,
} from './dto/run.dto';
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
    @Req() request: FastifyRequest,
    @Headers('idempotency-key') idempotencyKey?: string,
  ) {
    return toRunResponse(
      await this.runs.create(caller, entityId, dto, { idempotencyKey, trace: requestTraceContext(request) }),
    );
  }

  @Get('runs')
  @ApiOkResponse({ type: RunPage })
  list(@CurrentCaller() caller: Caller, @Query() query: ListRunsQuery) {
    return this.runs.list(caller, query);
  }

  @Get('runs/:id/tree')
  @ApiOkResponse({ type: RunTreeNode, description: 'Nested, costs rolled up (one recursive query).' })
  tree(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.runs.tree(caller, id);
  }

  @Post('runs/:id/retry')
  @HttpCode(202)
  @ApiAcceptedResponse({ type: RunResponse, description: 'A new run: same entity, input and context.' })
  async retry(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Req() request: FastifyRequest,
  ) {
    return toRunResponse(await this.runs.retry(caller, id, requestTraceContext(request)));
  }

  @Get('runs/:id')
  @ApiOkResponse({ type: RunResponse })
  get(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.runs.describe(caller, id);
  }

  /**
   * Server-sent events of the run and its descendants: everything stored so far
   * (or after Last-Event-ID), then live, until the run itself ends.
   */
  @Get('runs/:id/events')
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'run.status, llm.call, tool.call … events; id = event id' })
  async events(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const stream = await this.runs.events(caller, id, lastEventId);
    reply.hijack();
    reply.raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-request-id': String(request.id),
    });
    const closed = new Promise<void>((resolve) => request.raw.once('close', () => resolve()));
    let open = true;
    void closed.then(() => (open = false));
    try {
      for await (const event of stream(() => open)) {
        reply.raw.write(`id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
      }
    } finally {
      reply.raw.end();
    }
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
