import { DomainError } from '../infra/http/domain-error';

export class UnsupportedDocument extends DomainError {
  constructor(filename: string) {
    super(
      'unsupported_media_type',
      'UNSUPPORTED_DOCUMENT_TYPE',
      `${filename} is not a supported document: txt, md, html, json, csv or pdf, by content and name.`,
    );
  }
}

export class DocumentTooLarge extends DomainError {
  constructor(limit: number) {
    super('too_large', 'DOCUMENT_TOO_LARGE', `Documents may be at most ${limit} bytes.`);
  }
}

export class MultipartRequired extends DomainError {
  constructor(detail = 'Upload the document as multipart/form-data with a `file` part.') {
    super('unsupported_media_type', 'MULTIPART_REQUIRED', detail);
  }
}
