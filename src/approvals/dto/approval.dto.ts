import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Allow, IsEnum, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { ApprovalStatus } from '../../infra/database/generated/client';
import { PageQuery } from '../../infra/http/pagination';

export class ListApprovalsQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ApprovalStatus, default: 'PENDING' })
  @IsOptional()
  @IsEnum(ApprovalStatus)
  status?: ApprovalStatus;

  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  runId?: string;
}

export class RejectApprovalDto {
  @ApiPropertyOptional({ maxLength: 4000 })
  @IsOptional()
  @IsString()
  @Length(0, 4000)
  notes?: string;
}

export class AnswerApprovalDto extends RejectApprovalDto {
  @ApiPropertyOptional({
    description:
      'Replaces the pending tool call’s (or child’s) arguments; checked against its input contract.',
  })
  @Allow()
  editedInput?: unknown;

  @ApiPropertyOptional({
    description: 'Replaces the output under review; checked against the output contract.',
  })
  @Allow()
  editedOutput?: unknown;
}

export class ApprovalResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) companyId!: string;
  @ApiProperty({ format: 'uuid' }) runId!: string;
  @ApiProperty({ enum: ['before_run', 'before_tool', 'before_child', 'cost_above', 'output_review'] })
  checkpoint!: string;
  @ApiProperty({ nullable: true, type: 'string' }) stepKey!: string | null;
  @ApiProperty({ enum: ApprovalStatus }) status!: ApprovalStatus;
  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: 'What the approver judges: the pending call or the output, the run input, the cost so far.',
  })
  contextSnapshot!: object;
  @ApiProperty({ nullable: true, type: 'integer' }) timeoutMs!: number | null;
  @ApiProperty({ nullable: true, type: 'string' }) onTimeout!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) expiresAt!: string | null;
  @ApiProperty({ nullable: true, type: 'string', format: 'uuid' }) respondedBy!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) respondedAt!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) reviewerNotes!: string | null;
  @ApiPropertyOptional({ nullable: true }) editedInput!: unknown;
  @ApiPropertyOptional({ nullable: true }) editedOutput!: unknown;
  @ApiProperty() createdAt!: string;
}

export class ApprovalPage {
  @ApiProperty({ type: [ApprovalResponse] }) items!: ApprovalResponse[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor!: string | null;
}
