import { EMBEDDING_DIMENSION, embedLocally } from './local-embedder';

const cosine = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + v * b[i], 0);

describe('the local lexical embedder', () => {
  it('is deterministic, 1024-dimensional and unit length', () => {
    const a = embedLocally('Senior TypeScript engineer with Postgres experience');
    expect(a).toHaveLength(EMBEDDING_DIMENSION);
    expect(embedLocally('Senior TypeScript engineer with Postgres experience')).toEqual(a);
    expect(Math.hypot(...a)).toBeCloseTo(1, 10);
  });

  it('ranks texts that share words above texts that do not, folding case and accents', () => {
    const query = embedLocally('postgres engineer résumé');
    const near = embedLocally('Resume of a Postgres ENGINEER');
    const far = embedLocally('Gardening tips for tomatoes in spring');
    expect(cosine(query, near)).toBeGreaterThan(0.4);
    expect(cosine(query, near)).toBeGreaterThan(cosine(query, far) + 0.3);
  });

  it('gives the empty text the zero vector', () => {
    expect(embedLocally('  ... ').every((v) => v === 0)).toBe(true);
  });
});
