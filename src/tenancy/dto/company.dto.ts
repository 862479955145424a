import { IsOptionalNotNull } from '../../infra/http/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
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
import { CompanyStatus, CompanyType } from '../../infra/database/generated/client';
import { PageQuery } from '../../infra/http/pagination';

const DECIMAL = /^\d{1,12}(\.\d{1,6})?$/;

export class CreateCompanyDto {
  @ApiProperty({ minLength: 1, maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiProperty({ enum: ['PARTNER', 'TENANT'] })
  @IsEnum(CompanyType)
  type!: CompanyType;

  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  parentId!: string;

  @ApiPropertyOptional({ format: 'uri' })
  @IsOptional()
  @IsUrl({ require_protocol: true, protocols: ['http', 'https'] })
  logoUrl?: string;
}

export class UpdateCompanyDto {
  @ApiPropertyOptional()
  @IsOptionalNotNull()
  @IsString()
  @Length(1, 200)
  name?: string;

  @ApiPropertyOptional({ format: 'uri', nullable: true })
  @IsOptional()
  @ValidateIf((_, value) => value !== null)
  @IsUrl({ require_protocol: true, protocols: ['http', 'https'] })
  logoUrl?: string | null;

  @ApiPropertyOptional({ enum: CompanyStatus })
  @IsOptionalNotNull()
  @IsEnum(CompanyStatus)
  status?: CompanyStatus;

  @ApiPropertyOptional({ description: 'Whether users with an unconfirmed email may log in (default false)' })
  @IsOptionalNotNull()
  @IsBoolean()
  allowUnverifiedLogin?: boolean;

  @ApiPropertyOptional({
    type: 'string',
    nullable: true,
    example: '1500.00',
    description: 'Monthly spend limit in USD (decimal string or number); null means no limit.',
  })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'number' ? String(value) : value))
  @ValidateIf((_, value) => value !== null)
  @IsString()
  @Matches(DECIMAL, { message: 'monthlyBudgetUsd must be a non-negative decimal with at most 6 decimals' })
  monthlyBudgetUsd?: string | null;
}

export class ListCompaniesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: CompanyType })
  @IsOptional()
  @IsEnum(CompanyType)
  type?: CompanyType;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  parentId?: string;

  @ApiPropertyOptional({ enum: CompanyStatus })
  @IsOptional()
  @IsIn(Object.values(CompanyStatus))
  status?: CompanyStatus;
}

export class CompanyResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: CompanyType }) type!: CompanyType;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) parentId!: string | null;
  @ApiProperty({ enum: CompanyStatus }) status!: CompanyStatus;
  @ApiProperty({ nullable: true, type: 'string' }) logoUrl!: string | null;
  @ApiProperty({ nullable: true, type: 'string', example: '1500.00' }) monthlyBudgetUsd!: string | null;
  @ApiProperty() allowUnverifiedLogin!: boolean;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class CompanyTreeResponse extends CompanyResponse {
  @ApiProperty({ type: () => [CompanyTreeResponse] }) children!: CompanyTreeResponse[];
}

export class CompanyPage {
  @ApiProperty({ type: [CompanyResponse] }) items!: CompanyResponse[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor!: string | null;
}
