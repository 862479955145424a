import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import {
  CreateIntegrationDto,
  IntegrationPage,
  IntegrationResponse,
  ListIntegrationsQuery,
  UpdateIntegrationDto,
} from './dto/integration.dto';
import { IntegrationsService, toIntegrationResponse } from './integrations.service';

@ApiTags('integrations')
@ApiBearerAuth()
@Controller('integrations')
export class IntegrationsController {
  constructor(private readonly integrations: IntegrationsService) {}

  @Get()
  @ApiOkResponse({ type: IntegrationPage })
  list(@CurrentCaller() caller: Caller, @Query() query: ListIntegrationsQuery) {
    return this.integrations.list(caller, query);
  }

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: IntegrationResponse })
  async create(@CurrentCaller() caller: Caller, @Body() dto: CreateIntegrationDto) {
    return toIntegrationResponse(await this.integrations.create(caller, dto), caller);
  }

  @Get(':id')
  @ApiOkResponse({ type: IntegrationResponse })
  async get(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return toIntegrationResponse(await this.integrations.get(caller, id), caller);
  }

  @Patch(':id')
  @ApiOkResponse({ type: IntegrationResponse })
  async update(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateIntegrationDto,
  ) {
    return toIntegrationResponse(await this.integrations.update(caller, id, dto), caller);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async delete(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    await this.integrations.delete(caller, id);
  }
}
