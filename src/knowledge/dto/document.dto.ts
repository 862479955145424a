import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  Min,
} from 'class-validator';
import { UploadStatus } from '../../infra/database/generated/client';
import { PageQuery } from '../../infra/http/pagination';

export class ListDocumentsQuery extends PageQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @IsOptional()
  @IsUUID()
  entityId?: string;

  @ApiPropertyOptional({ enum: UploadStatus })
  @IsOptional()
  @IsEnum(UploadStatus)
  status?: UploadStatus;
}

export class DocumentResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) companyId!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) entityId!: string | null;
  @ApiProperty() filename!: string;
  @ApiProperty() mimeType!: string;
  @ApiProperty() sizeBytes!: number;
  @ApiProperty() contentHash!: string;
  @ApiProperty({ enum: UploadStatus }) uploadStatus!: UploadStatus;
  @ApiProperty({ nullable: true, type: 'string' }) errorMessage!: string | null;
  @ApiProperty() chunksTotal!: number;
  @ApiProperty() chunksDone!: number;
  @ApiProperty({ description: 'Chunks stored and searchable.' }) chunkCount!: number;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadata!: object;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class DocumentPage {
  @ApiProperty({ type: [DocumentResponse] }) items!: DocumentResponse[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor!: string | null;
}

export class UploadDocumentBody {
  @ApiProperty({ type: 'string', format: 'binary' }) file!: unknown;
  @ApiPropertyOptional({
    format: 'uuid',
    description: 'Attach to one entity’s knowledge (send before `file`).',
  })
  entityId?: string;
}

export class SearchDto {
  @ApiProperty({ minLength: 1, maxLength: 4000 })
  @IsString()
  @Length(1, 4000)
  query!: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 50, default: 5 })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(50)
  topK?: number;

  @ApiPropertyOptional({ enum: ['vector', 'keyword', 'hybrid'], default: 'hybrid' })
  @IsOptional()
  @IsIn(['vector', 'keyword', 'hybrid'])
  mode?: 'vector' | 'keyword' | 'hybrid';

  @ApiPropertyOptional({ format: 'uuid', description: 'Search this entity’s documents too.' })
  @IsOptional()
  @IsUUID()
  entityId?: string;

  @ApiPropertyOptional({ type: [String], maxItems: 100 })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsUUID('all', { each: true })
  documentIds?: string[];
}

export class SearchHit {
  @ApiProperty({ format: 'uuid' }) chunkId!: string;
  @ApiProperty({ format: 'uuid' }) documentId!: string;
  @ApiProperty() filename!: string;
  @ApiProperty() chunkIndex!: number;
  @ApiProperty() content!: string;
  @ApiProperty() score!: number;
}

export class SearchResponse {
  @ApiProperty({ type: [SearchHit] }) items!: SearchHit[];
}
