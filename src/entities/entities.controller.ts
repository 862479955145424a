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
  CreateEntityDto,
  EntityPage,
  EntityResponse,
  EntityTreeResponse,
  ListEntitiesQuery,
  NewVersionDto,
  UpdateEntityDto,
} from './dto/entity.dto';
import { EntitiesService } from './entities.service';
import { toEntityResponse } from './entity-response';

@ApiTags('entities')
@ApiBearerAuth()
@Controller('entities')
export class EntitiesController {
  constructor(private readonly entities: EntitiesService) {}

  @Get()
  @ApiOkResponse({ type: EntityPage })
  list(@CurrentCaller() caller: Caller, @Query() query: ListEntitiesQuery) {
    return this.entities.list(caller, query);
  }

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: EntityResponse })
  async create(@CurrentCaller() caller: Caller, @Body() dto: CreateEntityDto) {
    return toEntityResponse(await this.entities.create(caller, dto), caller.scope);
  }

  @Get(':id')
  @ApiOkResponse({ type: EntityResponse })
  async get(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return toEntityResponse(await this.entities.get(caller, id), caller.scope);
  }

  @Patch(':id')
  @ApiOkResponse({ type: EntityResponse })
  async update(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateEntityDto,
  ) {
    return toEntityResponse(await this.entities.update(caller, id, dto), caller.scope);
  }

  @Post(':id/activate')
  @HttpCode(200)
  @ApiOkResponse({ type: EntityResponse })
  async activate(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return toEntityResponse(await this.entities.activate(caller, id), caller.scope);
  }

  @Post(':id/versions')
  @HttpCode(201)
  @ApiCreatedResponse({ type: EntityResponse })
  async newVersion(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: NewVersionDto,
  ) {
    return toEntityResponse(await this.entities.newVersion(caller, id, dto), caller.scope);
  }

  @Post(':id/deprecate')
  @HttpCode(200)
  @ApiOkResponse({ type: EntityResponse })
  async deprecate(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return toEntityResponse(await this.entities.deprecate(caller, id), caller.scope);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async archive(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    await this.entities.archive(caller, id);
  }

  @Get(':id/tree')
  @ApiOkResponse({ type: EntityTreeResponse })
  tree(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.entities.tree(caller, id);
  }
}
