import { createHash } from 'node:crypto';
import { decode, encode } from 'gpt-tokenizer';

export interface Chunk {
  index: number;
  content: string;
  tokenCount: number;
  contentHash: string;
}

interface Unit {
  text: string;
  tokens: number;
  /** What joins it to the unit before: a paragraph break or a space. */
  joiner: string;
}

const sentences = new Intl.Segmenter('en', { granularity: 'sentence' });
export const countTokens = (text: string): number => encode(text).length;

/** A piece of text as units no longer than `size` tokens: the paragraph, else its
 *  sentences, else (a sentence longer than a chunk) slices of its tokens. */
function unitsOf(paragraph: string, size: number): Unit[] {
  const tokens = countTokens(paragraph);
  if (tokens <= size) return [{ text: paragraph, tokens, joiner: '\n\n' }];
  const units: Unit[] = [];
  for (const { segment } of sentences.segment(paragraph)) {
    const text = segment.trim();
    if (!text) continue;
    const ids = encode(text);
    if (ids.length <= size) {
      units.push({ text, tokens: ids.length, joiner: units.length ? ' ' : '\n\n' });
      continue;
    }
    for (let at = 0; at < ids.length; at += size) {
      const slice = ids.slice(at, at + size);
      units.push({ text: decode(slice), tokens: slice.length, joiner: units.length ? ' ' : '\n\n' });
    }
  }
  return units;
}

/**
 * Token-aware chunks on paragraph and sentence boundaries: units are packed up to
 * `size` tokens, and each chunk after the first starts with the last units of the one
 * before, up to `overlap` tokens, so a sentence cut by a boundary is whole in one of
 * them. Each chunk keeps its position and the SHA-256 of its content.
 */
export function chunkText(text: string, size: number, overlap: number): Chunk[] {
  const units = text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter(Boolean)
    .flatMap((p) => unitsOf(p, size));
  const chunks: Chunk[] = [];
  let current: Unit[] = [];
  let tokens = 0;
  let fresh = 0;
  const flush = () => {
    if (!fresh) return;
    const content = current.map((u, i) => (i ? u.joiner : '') + u.text).join('');
    chunks.push({
      index: chunks.length,
      content,
      tokenCount: countTokens(content),
      contentHash: createHash('sha256').update(content).digest('hex'),
    });
    // Carry the tail (at most `overlap` tokens) into the next chunk.
    const carried: Unit[] = [];
    let carriedTokens = 0;
    for (let i = current.length - 1; i >= 0 && carriedTokens + current[i].tokens <= overlap; i--) {
      carried.unshift(current[i]);
      carriedTokens += current[i].tokens;
    }
    current = carried;
    tokens = carriedTokens;
    fresh = 0;
  };
  for (const unit of units) {
    if (tokens + unit.tokens > size) flush();
    // The carried overlap may itself leave no room: start clean then.
    if (tokens + unit.tokens > size) {
      current = [];
      tokens = 0;
    }
    current.push(unit);
    tokens += unit.tokens;
    fresh++;
  }
  flush();
  return chunks;
}
