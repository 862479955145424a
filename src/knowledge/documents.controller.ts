import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiConsumes,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { AppConfig } from '../infra/config/config';
import { ValidationFailed } from '../infra/http/domain-error';
import { CurrentCaller, type Caller } from '../tenancy/caller';
import { DocumentsService, toDocumentResponse } from './documents.service';
import {
  DocumentPage,
  DocumentResponse,
  ListDocumentsQuery,
  SearchDto,
  SearchResponse,
  UploadDocumentBody,
} from './dto/document.dto';
import { DocumentTooLarge, MultipartRequired } from './knowledge.errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@ApiTags('documents')
@ApiBearerAuth()
@Controller()
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly config: AppConfig,
  ) {}

  @Post('documents')
  @HttpCode(202)
  @ApiConsumes('multipart/form-data')
  @ApiBody({ type: UploadDocumentBody })
  @ApiResponse({ status: 202, type: DocumentResponse, description: 'PENDING; ingested by a worker.' })
  async upload(@CurrentCaller() caller: Caller, @Req() request: FastifyRequest) {
    if (!request.isMultipart()) throw new MultipartRequired();
    let entityId: string | undefined;
    let file: { filename: string; content: Buffer } | undefined;
    try {
      // Streamed part by part; the file part is capped at DOCUMENT_MAX_BYTES.
      for await (const part of request.parts()) {
        if (part.type === 'file') {
          const content = await part.toBuffer();
          if (part.fieldname === 'file' && !file) file = { filename: part.filename, content };
        } else if (part.fieldname === 'entityId') {
          entityId = String(part.value);
        }
      }
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE') throw new DocumentTooLarge(this.config.env.DOCUMENT_MAX_BYTES);
      if (code?.startsWith('FST_'))
        throw new MultipartRequired(`The multipart body could not be read (${code}).`);
      throw error;
    }
    if (!file)
      throw new ValidationFailed([{ pointer: '/file', message: 'a file part named `file` is required' }]);
    if (!file.filename || file.filename.length > 255)
      throw new ValidationFailed([
        { pointer: '/file', message: 'the file needs a name of at most 255 characters' },
      ]);
    if (entityId !== undefined && !UUID.test(entityId))
      throw new ValidationFailed([{ pointer: '/entityId', message: 'entityId must be a UUID' }]);
    const { document, chunkCount } = await this.documents.upload(caller, file, entityId);
    return toDocumentResponse(document, chunkCount);
  }

  @Get('documents')
  @ApiOkResponse({ type: DocumentPage })
  list(@CurrentCaller() caller: Caller, @Query() query: ListDocumentsQuery) {
    return this.documents.list(caller, query);
  }

  @Get('documents/:id')
  @ApiOkResponse({ type: DocumentResponse })
  get(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    return this.documents.get(caller, id);
  }

  @Delete('documents/:id')
  @HttpCode(204)
  @ApiNoContentResponse()
  async delete(@CurrentCaller() caller: Caller, @Param('id', ParseUUIDPipe) id: string) {
    await this.documents.delete(caller, id);
  }

  @Post('search')
  @HttpCode(200)
  @ApiOkResponse({ type: SearchResponse })
  search(@CurrentCaller() caller: Caller, @Body() dto: SearchDto) {
    return this.documents.searchFor(caller, dto);
  }
}
