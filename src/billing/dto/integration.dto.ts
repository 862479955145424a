import { IsOptionalNotNull } from '../../infra/http/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsEnum,
  IsIn,
  IsOptional,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Matches,
  ValidateIf,
} from 'class-validator';
import { ComponentType, IntegrationStatus } from '../../infra/database/generated/client';
import { PageQuery } from '../../infra/http/pagination';
import { COST_UNITS, type ApiCostUnit } from '../cost-units';

/** Money in: a non-negative decimal string or JSON number, at most 10 decimals. */
const PRICE = /^(?:0|[1-9]\d{0,9})(?:\.\d{1,10})?$/;
/** A JSON number arrives as a number; plain notation keeps 1e-7 from failing the pattern. */
const asDecimalString = ({ value }: { value: unknown }) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? value.toFixed(10).replace(/\.?0+$/, '')
    : value;

const API_KEY = /^[\x21-\x7e]{8,500}$/;

export class CreateIntegrationDto {
  @ApiProperty({ example: 'anthropic', description: 'Lower-case provider name.' })
  @IsString()
  @Matches(/^[a-z0-9][a-z0-9._-]{0,63}$/, {
    message: 'providerName must be 1-64 lower-case letters, digits, . _ -',
  })
  providerName!: string;

  @ApiProperty({ example: 'claude-sonnet-5-5' })
  @IsString()
  @Length(1, 200)
  @Matches(/^\S+$/, { message: 'modelName must not contain spaces' })
  modelName!: string;

  @ApiProperty({
    example: 'anthropic/claude-sonnet-5-5:input',
    description: 'LLM SKUs are `<provider>/<model>:<input|output|cache_read|cache_write>`.',
  })
  @IsString()
  @Matches(/^[\x21-\x7e]{1,300}$/, { message: 'serviceSku must be 1-300 visible ASCII characters' })
  serviceSku!: string;

  @ApiProperty({ enum: ComponentType })
  @IsEnum(ComponentType)
  componentType!: ComponentType;

  @ApiProperty({
    type: 'string',
    example: '3.00',
    description: 'Cost per costUnit in USD (string or number).',
  })
  @Transform(asDecimalString)
  @IsString()
  @Matches(PRICE, { message: 'internalCost must be a non-negative decimal with at most 10 decimals' })
  internalCost!: string;

  @ApiProperty({ enum: COST_UNITS })
  @IsIn(COST_UNITS)
  costUnit!: ApiCostUnit;

  @ApiPropertyOptional({ writeOnly: true, description: 'Stored encrypted; never returned.' })
  @IsOptionalNotNull()
  @IsString()
  @Matches(API_KEY, { message: 'apiKey must be 8-500 visible ASCII characters' })
  apiKey?: string;

  @ApiPropertyOptional({ format: 'uri', description: 'Where calls with this key go; needs apiKey.' })
  @IsOptionalNotNull()
  @IsUrl({ require_protocol: true, protocols: ['http', 'https'], require_tld: false })
  baseUrl?: string;

  @ApiPropertyOptional({ enum: IntegrationStatus })
  @IsOptionalNotNull()
  @IsEnum(IntegrationStatus)
  status?: IntegrationStatus;

  @ApiPropertyOptional({ format: 'uuid', description: 'Owner company in scope; default the caller’s.' })
  @IsOptionalNotNull()
  @IsUUID()
  companyId?: string;
}

export class UpdateIntegrationDto {
  @ApiPropertyOptional({ type: 'string', example: '3.00' })
  @IsOptionalNotNull()
  @Transform(asDecimalString)
  @IsString()
  @Matches(PRICE, { message: 'internalCost must be a non-negative decimal with at most 10 decimals' })
  internalCost?: string;

  @ApiPropertyOptional({ enum: IntegrationStatus })
  @IsOptionalNotNull()
  @IsEnum(IntegrationStatus)
  status?: IntegrationStatus;

  @ApiPropertyOptional({ writeOnly: true, nullable: true, description: 'A new key; null removes the key.' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @Matches(API_KEY, { message: 'apiKey must be 8-500 visible ASCII characters' })
  apiKey?: string | null;

  @ApiPropertyOptional({ format: 'uri', nullable: true, description: 'Changing it requires apiKey.' })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsUrl({ require_protocol: true, protocols: ['http', 'https'], require_tld: false })
  baseUrl?: string | null;
}

export class ListIntegrationsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ComponentType })
  @IsOptional()
  @IsEnum(ComponentType)
  componentType?: ComponentType;

  @ApiPropertyOptional({ example: 'anthropic' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  provider?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  companyId?: string;
}

export class IntegrationResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) companyId!: string;
  @ApiProperty() providerName!: string;
  @ApiProperty() modelName!: string;
  @ApiProperty() serviceSku!: string;
  @ApiProperty({ enum: ComponentType }) componentType!: ComponentType;
  @ApiProperty({ example: '3.0000000000' }) internalCost!: string;
  @ApiProperty({ enum: COST_UNITS }) costUnit!: ApiCostUnit;
  @ApiProperty({ enum: IntegrationStatus }) status!: IntegrationStatus;
  @ApiProperty() hasApiKey!: boolean;
  @ApiProperty({ nullable: true, type: 'string', example: 'x7Qa' }) apiKeyLast4!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) baseUrl!: string | null;
  @ApiProperty({ description: 'True for a row of a company above the caller’s (the catalog): read-only.' })
  inherited!: boolean;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class IntegrationPage {
  @ApiProperty({ type: [IntegrationResponse] }) items!: IntegrationResponse[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor!: string | null;
}
