import { createHash } from 'node:crypto';

export const EMBEDDING_DIMENSION = 1024;

/** Stems nothing, folds case and accents: "Résumé" and "resume" are one word. */
function words(text: string): string[] {
  return (
    text
      .normalize('NFKD')
      .replace(/\p{M}+/gu, '')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

function bucket(feature: string): { index: number; sign: number } {
  const digest = createHash('md5').update(feature).digest();
  return { index: digest.readUInt32LE(0) % EMBEDDING_DIMENSION, sign: digest[4] & 1 ? 1 : -1 };
}

/**
 * The built-in embedder when no provider is configured: deterministic and offline.
 * It is LEXICAL, not semantic: hashed word unigrams and bigrams plus character
 * trigrams of each word (the hashing trick, signed buckets), weighted 1 + ln(tf),
 * L2-normalised to the platform's 1024 dimensions. Texts sharing words and word
 * pieces land close; synonyms do not.
 */
export function embedLocally(text: string): number[] {
  const counts = new Map<string, number>();
  const add = (feature: string, weight = 1) => counts.set(feature, (counts.get(feature) ?? 0) + weight);
  const tokens = words(text);
  tokens.forEach((word, i) => {
    add(`w:${word}`);
    if (i > 0) add(`b:${tokens[i - 1]} ${word}`);
    const padded = `^${word}$`;
    for (let at = 0; at + 3 <= padded.length; at++) add(`c:${padded.slice(at, at + 3)}`, 0.5);
  });
  const vector = new Array<number>(EMBEDDING_DIMENSION).fill(0);
  for (const [feature, tf] of counts) {
    const { index, sign } = bucket(feature);
    vector[index] += sign * (1 + Math.log(tf));
  }
  const norm = Math.hypot(...vector);
  return norm === 0 ? vector : vector.map((v) => v / norm);
}
