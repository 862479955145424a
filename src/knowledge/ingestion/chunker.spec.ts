import { chunkText, countTokens } from './chunker';

const sentence = (i: number) => `Sentence number ${i} talks about topic ${i % 7} in some detail.`;

describe('chunkText', () => {
  it('keeps a short text whole, with its hash', () => {
    const [only, ...rest] = chunkText('One paragraph.\n\nAnother one.', 100, 10);
    expect(rest).toEqual([]);
    expect(only).toMatchObject({ index: 0, content: 'One paragraph.\n\nAnother one.' });
    expect(only.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never exceeds the size, ends chunks on sentence boundaries and overlaps them', () => {
    const text = Array.from({ length: 6 }, (_, p) =>
      Array.from({ length: 8 }, (_, s) => sentence(p * 8 + s)).join(' '),
    ).join('\n\n');
    const chunks = chunkText(text, 60, 15);
    expect(chunks.length).toBeGreaterThan(4);
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(60);
      expect(chunk.content.trim().endsWith('.')).toBe(true);
    }
    // Every sentence is in some chunk, and consecutive chunks share text.
    for (let i = 0; i < 48; i++) expect(chunks.some((c) => c.content.includes(sentence(i)))).toBe(true);
    for (let i = 1; i < chunks.length; i++) {
      const firstOfNext = chunks[i].content.split(/(?<=\.)\s/)[0];
      expect(chunks[i - 1].content).toContain(firstOfNext);
    }
    expect(chunks.map((c) => c.index)).toEqual(chunks.map((_, i) => i));
  });

  it('slices a sentence longer than a chunk by tokens', () => {
    const long = Array.from({ length: 300 }, (_, i) => `word${i}`).join(' ');
    const chunks = chunkText(long, 50, 0);
    expect(chunks.every((c) => c.tokenCount <= 50)).toBe(true);
    expect(
      chunks
        .map((c) => c.content)
        .join(' ')
        .replace(/\s+/g, ' '),
    ).toContain('word0');
    expect(chunks.reduce((sum, c) => sum + countTokens(c.content), 0)).toBeGreaterThanOrEqual(
      countTokens(long) - 10,
    );
  });

  it('gives equal text equal hashes, and a changed paragraph changes only its chunks', () => {
    const paragraphs = Array.from({ length: 10 }, (_, p) =>
      Array.from({ length: 6 }, (_, s) => sentence(p * 6 + s)).join(' '),
    );
    const before = chunkText(paragraphs.join('\n\n'), 80, 0);
    paragraphs[7] = paragraphs[7].replace('topic', 'subject');
    const after = chunkText(paragraphs.join('\n\n'), 80, 0);
    const old = new Set(before.map((c) => c.contentHash));
    const changed = after.filter((c) => !old.has(c.contentHash));
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(after.length / 2);
  });
});
