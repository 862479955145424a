import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsDefined, IsEnum, IsISO8601, IsObject, IsOptional, IsUUID } from 'class-validator';
import { RunStatus } from '../../infra/database/generated/client';
import { PageQuery } from '../../infra/http/pagination';

export class CreateRunDto {
  @ApiProperty({ description: 'The run input; validated against the entity’s ioContract.input' })
  @IsDefined()
  input!: unknown;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: 'Available to templates as {{context.x}}',
  })
  @IsOptional()
  @IsObject()
  context?: Record<string, unknown>;

  @ApiPropertyOptional({ description: 'Allows running a DRAFT entity' })
  @IsOptional()
  @IsBoolean()
  test?: boolean;
}

export class ListRunsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: RunStatus }) @IsOptional() @IsEnum(RunStatus) status?: RunStatus;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() entityId?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() parentRunId?: string;

  @ApiPropertyOptional({ description: 'Only runs without a parent' })
  @IsOptional()
  @Transform(({ value }: { value: unknown }) => (value === 'true' ? true : value === 'false' ? false : value))
  @IsBoolean()
  rootOnly?: boolean;

  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601() from?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @IsOptional() @IsISO8601() to?: string;
}

export class RunChildResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) entityId!: string;
  @ApiProperty({ enum: RunStatus }) status!: RunStatus;
}

export class RunResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) companyId!: string;
  @ApiProperty({ format: 'uuid' }) entityId!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) parentRunId!: string | null;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) rootRunId!: string | null;
  @ApiProperty({ enum: RunStatus }) status!: RunStatus;
  @ApiProperty() isTest!: boolean;
  @ApiProperty({ description: 'The input as given' }) inputData!: unknown;
  @ApiProperty({ type: 'object', additionalProperties: true }) context!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) contextState!: object;
  @ApiProperty({ nullable: true }) dynamicPlan!: unknown;
  @ApiProperty({ nullable: true }) resultData!: unknown;
  @ApiProperty({ nullable: true, type: 'string' }) errorCode!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) errorMessage!: string | null;
  @ApiProperty({ example: '0.003150' }) totalCostUsd!: string;
  @ApiProperty() totalTokens!: number;
  @ApiProperty({ nullable: true, type: 'integer' }) executionTimeMs!: number | null;
  @ApiProperty() traceId!: string;
  @ApiProperty() spanId!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: object;
  @ApiProperty({ nullable: true, type: 'string' }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) completedAt!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ type: [RunChildResponse] }) children!: RunChildResponse[];
}

export class RunTreeNode {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) entityId!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) parentRunId!: string | null;
  @ApiProperty() status!: string;
  @ApiProperty({ nullable: true, type: 'string' }) errorCode!: string | null;
  @ApiProperty({ example: '0.003150', description: 'This run and its descendants.' }) totalCostUsd!: string;
  @ApiProperty({ description: 'This run and its descendants.' }) totalTokens!: number;
  @ApiProperty({ nullable: true, type: 'string' }) startedAt!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) completedAt!: string | null;
  @ApiProperty({ type: () => [RunTreeNode] }) children!: RunTreeNode[];
}

export class RunPage {
  @ApiProperty({ type: [RunResponse] }) items!: RunResponse[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor!: string | null;
}

export class ToolLogResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() stepKey!: string;
  @ApiProperty() toolName!: string;
  @ApiProperty() toolKind!: string;
  @ApiProperty({ nullable: true }) inputPayload!: unknown;
  @ApiProperty({ nullable: true }) outputPayload!: unknown;
  @ApiProperty() status!: string;
  @ApiProperty({ nullable: true, type: 'string' }) errorMessage!: string | null;
  @ApiProperty() latencyMs!: number;
  @ApiProperty() costUsd!: string;
  @ApiProperty() createdAt!: string;
}

export class ToolLogList {
  @ApiProperty({ type: [ToolLogResponse] }) items!: ToolLogResponse[];
}

export class LlmLogResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() stepKey!: string;
  @ApiProperty() providerName!: string;
  @ApiProperty() modelName!: string;
  @ApiProperty({ nullable: true, type: 'string' }) reasoningMode!: string | null;
  @ApiProperty({
    nullable: true,
    description: 'Omitted when observability.logPrompts is false; redacted per observability.redact',
  })
  promptPayload!: unknown;
  @ApiProperty({ nullable: true }) responsePayload!: unknown;
  @ApiProperty() inputTokens!: number;
  @ApiProperty() outputTokens!: number;
  @ApiProperty() cacheReadTokens!: number;
  @ApiProperty() cacheWriteTokens!: number;
  @ApiProperty() latencyMs!: number;
  @ApiProperty() costUsd!: string;
  @ApiProperty({ nullable: true, type: 'string' }) stopReason!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) providerRequestId!: string | null;
  @ApiProperty() status!: string;
  @ApiProperty() createdAt!: string;
}

export class LlmLogList {
  @ApiProperty({ type: [LlmLogResponse] }) items!: LlmLogResponse[];
}
