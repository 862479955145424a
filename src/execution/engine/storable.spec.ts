import { storable } from './storable';

describe('storable', () => {
  it('replaces NUL in strings and keys, at any depth, and leaves the rest alone', () => {
    const when = new Date(0);
    expect(storable({ 'a\u0000': ['x\u0000y', 1, null, { b: 'c\u0000' }], when, ok: true })).toEqual({
      'a\ufffd': ['x\ufffdy', 1, null, { b: 'c\ufffd' }],
      when,
      ok: true,
    });
    expect(storable('plain')).toBe('plain');
  });

  it('returns a value without NUL as it was, copying nothing', () => {
    const output = { status: 200, body: { items: ['a', { b: 1 }] } };
    expect(storable(output)).toBe(output);
  });
});
