import { IsOptionalNotNull } from '../../infra/http/validation';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  IsArray,
  IsEnum,
  IsIn,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Matches,
  MaxLength,
} from 'class-validator';
import { EntityStatus, EntityType } from '../../infra/database/generated/client';
import { PageQuery } from '../../infra/http/pagination';
import { registerOpenApiSchemas, schemaRef } from '../../infra/openapi/openapi';
import {
  CAPABILITIES_SCHEMA,
  GOVERNANCE_SCHEMA,
  HIERARCHY_SCHEMA,
  IDENTITY_SCHEMA,
  IO_CONTRACT_SCHEMA,
  LOGIC_GATE_SCHEMA,
  METADATA_EXTENSIONS_SCHEMA,
  OBSERVABILITY_SCHEMA,
  PLANNING_SCHEMA,
} from '../config/block-schemas';

/** Semantic version, e.g. 1.0.0 or 2.1.0-beta.1 */
export const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

// The blocks' JSON Schemas are the ones the service validates with (Ajv), published
// as-is so clients see exactly the rules they will be held to.
registerOpenApiSchemas({
  IdentityBlock: IDENTITY_SCHEMA,
  HierarchyBlock: HIERARCHY_SCHEMA,
  LogicGateBlock: LOGIC_GATE_SCHEMA,
  PlanningBlock: PLANNING_SCHEMA,
  CapabilitiesBlock: CAPABILITIES_SCHEMA,
  GovernanceBlock: GOVERNANCE_SCHEMA,
  IoContractBlock: IO_CONTRACT_SCHEMA,
  ObservabilityBlock: OBSERVABILITY_SCHEMA,
  MetadataExtensionsBlock: METADATA_EXTENSIONS_SCHEMA,
});

const block = (schema: string, description: string) =>
  ApiPropertyOptional({ allOf: [schemaRef(schema)], description });

/** The editable fields of an entity; the configuration blocks are checked in depth
 *  by their JSON Schemas (src/entities/config). */
export class EntityFieldsDto {
  @ApiPropertyOptional({ maxLength: 200 })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  displayName?: string;

  @ApiPropertyOptional({ maxLength: 4000 })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  description?: string;

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: 'string' })
  @IsOptional()
  @IsUUID()
  parentId?: string | null;

  @ApiPropertyOptional({ type: [String] })
  // Absent is fine; null is not (the column is a non-null array).
  @IsOptionalNotNull()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  @Length(1, 64, { each: true })
  tags?: string[];

  @block('IdentityBlock', 'role, persona, instructions (the system prompt), avatarUrl')
  @IsOptional()
  @IsObject()
  identity?: object;
  @block('HierarchyBlock', 'alias, order, allowedChildTypes') @IsOptional() @IsObject() hierarchy?: object;
  @block('LogicGateBlock', 'when (JSONLogic over {input, context}); routes for a PROCESS')
  @IsOptional()
  @IsObject()
  logicGate?: object;
  @block('PlanningBlock', 'strategy, steps, maxIterations, maxSteps, output')
  @IsOptional()
  @IsObject()
  planning?: object;
  @block('CapabilitiesBlock', 'model, tools, knowledge, and for an ACTION the action itself')
  @IsOptional()
  @IsObject()
  capabilities?: object;
  @block('GovernanceBlock', 'budget, approvals, allowedHosts, retries')
  @IsOptional()
  @IsObject()
  governance?: object;
  @block('IoContractBlock', 'input and output JSON Schemas') @IsOptional() @IsObject() ioContract?: object;
  @block('ObservabilityBlock', 'logPrompts, redact, traceSampleRate')
  @IsOptional()
  @IsObject()
  observability?: object;
  @block(
    'MetadataExtensionsBlock',
    'free-form; shared: true publishes an APP or partner entity to the companies below',
  )
  @IsOptional()
  @IsObject()
  metadataExtensions?: object;
}

export class CreateEntityDto extends EntityFieldsDto {
  @ApiProperty({ enum: EntityType })
  @IsEnum(EntityType)
  type!: EntityType;

  @ApiProperty({ maxLength: 200 })
  @IsString()
  @Length(1, 200)
  name!: string;

  @ApiPropertyOptional({ default: '1.0.0', example: '1.0.0' })
  @IsOptional()
  @IsString()
  @Matches(SEMVER, { message: 'version must be a semantic version such as 1.0.0' })
  version?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Defaults to the caller’s company' })
  @IsOptional()
  @IsUUID()
  companyId?: string;
}

export class UpdateEntityDto extends EntityFieldsDto {}

export class NewVersionDto extends EntityFieldsDto {
  @ApiProperty({ example: '1.1.0' })
  @IsString()
  @Matches(SEMVER, { message: 'version must be a semantic version such as 1.1.0' })
  version!: string;
}

export class ListEntitiesQuery extends PageQuery {
  @ApiPropertyOptional({ enum: EntityType }) @IsOptional() @IsEnum(EntityType) type?: EntityType;
  @ApiPropertyOptional({ enum: EntityStatus }) @IsOptional() @IsEnum(EntityStatus) status?: EntityStatus;
  @ApiPropertyOptional({ format: 'uuid' }) @IsOptional() @IsUUID() parentId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 200) name?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @Length(1, 64) tag?: string;
  @ApiPropertyOptional({ description: 'Searches name, display name and description' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  q?: string;

  @ApiPropertyOptional({
    enum: ['include', 'exclude', 'only'],
    default: 'include',
    description: 'Shared catalog entities from above',
  })
  @IsOptional()
  @IsIn(['include', 'exclude', 'only'])
  catalog?: 'include' | 'exclude' | 'only';
}

export class EntityResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) companyId!: string;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) parentId!: string | null;
  @ApiProperty({ enum: EntityType }) type!: EntityType;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: 'string' }) displayName!: string | null;
  @ApiProperty({ nullable: true, type: 'string' }) description!: string | null;
  @ApiProperty() version!: string;
  @ApiProperty({ enum: EntityStatus }) status!: EntityStatus;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ description: 'How a parent refers to this entity' }) alias!: string;
  @ApiProperty({ description: 'A shared catalog entity from a company above: read and run only' })
  readOnly!: boolean;
  @ApiProperty({ type: 'object', additionalProperties: true }) identity!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) hierarchy!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) logicGate!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) planning!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) capabilities!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) governance!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) ioContract!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) observability!: object;
  @ApiProperty({ type: 'object', additionalProperties: true }) metadataExtensions!: object;
  @ApiProperty({ format: 'uuid', nullable: true, type: 'string' }) createdBy!: string | null;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class EntityTreeResponse extends EntityResponse {
  @ApiProperty({ type: () => [EntityTreeResponse] }) children!: EntityTreeResponse[];
}

export class EntityPage {
  @ApiProperty({ type: [EntityResponse] }) items!: EntityResponse[];
  @ApiProperty({ nullable: true, type: 'string' }) nextCursor!: string | null;
}
