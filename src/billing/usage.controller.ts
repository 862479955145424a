import { Readable } from 'node:stream';
import { Controller, Get, Headers, Query, StreamableFile } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import { stringify } from 'csv-stringify';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import { ListUsageQuery, UsagePage, UsageSummaryQuery, UsageSummaryResponse } from './dto/usage.dto';
import { UsageService } from './usage.service';

const USAGE_COLUMNS = [
  'id',
  'timestamp',
  'companyId',
  'runId',
  'entityId',
  'skuId',
  'serviceSku',
  'rawQuantity',
  'calculatedCost',
];

const wantsCsv = (accept: string | undefined) => /\btext\/csv\b/i.test(accept ?? '');

function csv(
  rows: AsyncIterable<object> | Iterable<object>,
  columns: string[],
  name: string,
): StreamableFile {
  const stream = Readable.from(rows).pipe(stringify({ header: true, columns }));
  return new StreamableFile(stream, {
    type: 'text/csv; charset=utf-8',
    disposition: `attachment; filename="${name}.csv"`,
  });
}

/** Usage reports; `Accept: text/csv` exports the same data as CSV. */
@ApiTags('usage')
@ApiBearerAuth()
@Controller('usage')
export class UsageController {
  constructor(private readonly usage: UsageService) {}

  @Get()
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: UsagePage, description: 'With Accept: text/csv, every matching row (no paging).' })
  async list(
    @CurrentCaller() caller: Caller,
    @Query() query: ListUsageQuery,
    @Headers('accept') accept?: string,
  ) {
    if (wantsCsv(accept)) return csv(this.usage.all(caller, query), USAGE_COLUMNS, 'usage');
    return this.usage.list(caller, query);
  }

  @Get('summary')
  @ApiProduces('application/json', 'text/csv')
  @ApiOkResponse({ type: UsageSummaryResponse })
  async summary(
    @CurrentCaller() caller: Caller,
    @Query() query: UsageSummaryQuery,
    @Headers('accept') accept?: string,
  ) {
    const summary = await this.usage.summary(caller, query);
    if (wantsCsv(accept)) return csv(summary.rows, ['key', 'label', 'quantity', 'costUsd'], 'usage-summary');
    return summary;
  }
}
