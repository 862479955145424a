import { retentionCutoff } from './retention-cutoff';

describe('retentionCutoff', () => {
  const now = new Date('2026-03-31T12:00:00.000Z');

  it('is `days` whole days before now', () => {
    expect(retentionCutoff(30, now)).toEqual(new Date('2026-03-01T12:00:00.000Z'));
    expect(retentionCutoff(1, now)).toEqual(new Date('2026-03-30T12:00:00.000Z'));
  });

  it('is null for 0: kept forever', () => {
    expect(retentionCutoff(0, now)).toBeNull();
  });
});
