import { parse as parseCsv } from 'csv-parse/sync';
import { convert as htmlToText } from 'html-to-text';
import type { DocumentKind } from './document-types';

export class ParseError extends Error {}

/** Whitespace tidied and Unicode in NFC, so equal text hashes equally. */
export function normalise(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[\t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+/g, ' ')
    .replace(/ *\n */g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** JSON as readable lines: `path.to.key: value`, one per leaf. */
function jsonToText(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => jsonToText(item, `${path}[${i}]`));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => jsonToText(item, path ? `${path}.${key}` : key));
  return [`${path || 'value'}: ${String(value)}`];
}

/** Text of a document, by kind, with maintained parsers (never hand-rolled). */
export async function extractText(kind: DocumentKind, content: Buffer): Promise<string> {
  try {
    switch (kind) {
      case 'txt':
      case 'md':
        return normalise(content.toString('utf8'));
      case 'html':
        return normalise(htmlToText(content.toString('utf8'), { wordwrap: false }));
      case 'json':
        return normalise(jsonToText(JSON.parse(content.toString('utf8'))).join('\n'));
      case 'csv': {
        const rows: Record<string, string>[] = parseCsv(content, {
          columns: true,
          skip_empty_lines: true,
          bom: true,
        });
        // One paragraph per row, every cell named by its column.
        return normalise(
          rows
            .map((row) =>
              Object.entries(row)
                .map(([column, cell]) => `${column}: ${cell}`)
                .join('\n'),
            )
            .join('\n\n'),
        );
      }
      case 'pdf': {
        const { extractText: pdfText, getDocumentProxy } = await import('unpdf');
        const pdf = await getDocumentProxy(new Uint8Array(content));
        const { text } = await pdfText(pdf, { mergePages: false });
        return normalise(text.join('\n\n'));
      }
    }
  } catch (error) {
    throw new ParseError(
      `The ${kind} file could not be read: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
