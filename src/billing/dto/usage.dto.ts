import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsISO8601, IsOptional, IsUUID } from 'class-validator';
import { PageQuery } from '../../infra/http/pagination';

export const SUMMARY_GROUPS = ['company', 'sku', 'entity', 'day'] as const;
export type SummaryGroup = (typeof SUMMARY_GROUPS)[number];

export class ListUsageQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'date-time', description: 'Inclusive.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'Exclusive.' })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  companyId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  runId?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  skuId?: string;
}

export class UsageSummaryQuery {
  @ApiPropertyOptional({
    example: '2026-11-01',
    description:
      'First UTC day (inclusive), a date or a midnight UTC timestamp; default: this month’s first.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiPropertyOptional({
    example: '2026-12-01',
    description: 'Last UTC day (exclusive), a date or a midnight UTC timestamp; default: next month’s first.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  to?: string;

  @ApiPropertyOptional({ enum: SUMMARY_GROUPS, default: 'company' })
  @IsOptional()
  @IsIn(SUMMARY_GROUPS)
  groupBy?: SummaryGroup;

  @ApiPropertyOptional({
    default: true,
    description: 'Include the companies below companyId (a partner’s tenants roll up into their rows).',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  includeDescendants?: boolean;

  @ApiPropertyOptional({ format: 'uuid', description: 'The company reported on; default the caller’s.' })
  @IsOptional()
  @IsUUID()
  companyId?: string;
}

export class UsageRowResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() timestamp!: string;
  @ApiProperty({ format: 'uuid' }) companyId!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) runId!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) entityId!: string | null;
  @ApiProperty({ format: 'uuid' }) skuId!: string;
  @ApiProperty() serviceSku!: string;
  @ApiProperty({ example: '1200' }) rawQuantity!: string;
  @ApiProperty({ example: '0.0036000000', description: 'USD, all 10 stored decimals.' })
  calculatedCost!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) logMetadata!: object;
}

export class UsagePage {
  @ApiProperty({ type: [UsageRowResponse] }) items!: UsageRowResponse[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor!: string | null;
}

export class UsageSummaryRow {
  @ApiProperty({ description: 'A company, SKU or entity id, or a day (YYYY-MM-DD).' }) key!: string;
  @ApiProperty({ description: 'A name: company, service SKU, entity, or the day.' }) label!: string;
  @ApiProperty({ example: '15000' }) quantity!: string;
  @ApiProperty({ example: '0.0450000000' }) costUsd!: string;
}

export class UsageSummaryResponse {
  @ApiProperty({ example: '0.0450000000' }) totalCostUsd!: string;
  @ApiProperty({ type: [UsageSummaryRow] }) rows!: UsageSummaryRow[];
}
