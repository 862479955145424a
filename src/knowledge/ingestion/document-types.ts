import { extname } from 'node:path';
import { fileTypeFromBuffer } from 'file-type';

export const DOCUMENT_KINDS = ['txt', 'md', 'html', 'json', 'csv', 'pdf'] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

const BY_EXTENSION: Record<string, DocumentKind> = {
  '.txt': 'txt',
  '.text': 'txt',
  '.md': 'md',
  '.markdown': 'md',
  '.html': 'html',
  '.htm': 'html',
  '.json': 'json',
  '.csv': 'csv',
  '.pdf': 'pdf',
};

export const MIME_TYPE: Record<DocumentKind, string> = {
  txt: 'text/plain',
  md: 'text/markdown',
  html: 'text/html',
  json: 'application/json',
  csv: 'text/csv',
  pdf: 'application/pdf',
};

/**
 * What a file is, from its content first and its name second: a binary signature
 * (file-type) must be a PDF, and only a file named .pdf may be one; anything else must
 * be UTF-8 text and is told apart by its extension. Null: not a supported type.
 */
export async function sniffDocument(filename: string, head: Buffer): Promise<DocumentKind | null> {
  const byName = BY_EXTENSION[extname(filename).toLowerCase()];
  const detected = await fileTypeFromBuffer(head);
  if (detected) return detected.ext === 'pdf' && byName === 'pdf' ? 'pdf' : null;
  if (!byName || byName === 'pdf') return null;
  // Text formats: must decode as UTF-8 without NUL bytes (a binary renamed .txt fails).
  if (head.includes(0)) return null;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(trimPartialCodepoint(head));
  } catch {
    return null;
  }
  return byName;
}

/** The sniffed head may end inside a multi-byte character; drop that tail. */
function trimPartialCodepoint(head: Buffer): Buffer {
  let end = head.length;
  for (let back = 1; back <= 3 && end - back >= 0; back++) {
    const byte = head[end - back];
    if ((byte & 0xc0) !== 0x80) {
      const need = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
      if (need > back) end -= back;
      break;
    }
  }
  return head.subarray(0, end);
}
