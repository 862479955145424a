import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiCreatedResponse, ApiTags } from '@nestjs/swagger';
import { CurrentCaller, type Caller } from './caller';
import { CompaniesService, toCompanyResponse } from './companies.service';
import {
  CompanyPage,
  CompanyResponse,
  CompanyTreeResponse,
  CreateCompanyDto,
  ListCompaniesQuery,
  UpdateCompanyDto,
} from './dto/company.dto';

@ApiTags('companies')
@ApiBearerAuth()
@Controller('companies')
export class CompaniesController {
  constructor(private readonly companies: CompaniesService) {}

  @Get()
  @ApiOkResponse({ type: CompanyPage })
  list(@CurrentCaller() caller: Caller, @Query() query: ListCompaniesQuery) {
    return this.companies.list(caller, query);
  }

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: CompanyResponse })
  async create(@CurrentCaller() caller: Caller, @Body() dto: CreateCompanyDto) {
    return toCompanyResponse(await this.companies.create(caller, dto));
  }

  @Get(':id')
  @ApiOkResponse({ type: CompanyResponse })
  async get(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return toCompanyResponse(await this.companies.get(caller, id));
  }

  @Patch(':id')
  @ApiOkResponse({ type: CompanyResponse })
  async update(
    @CurrentCaller() caller: Caller,
    @Param('id', ParseUUIDPipe) id: string,
    @Body() dto: UpdateCompanyDto,
  ) {
    return toCompanyResponse(await this.companies.update(caller, id, dto));
  }

  @Get(':id/tree')
  @ApiOkResponse({ type: CompanyTreeResponse })
  tree(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.companies.tree(caller, id);
  }
}
