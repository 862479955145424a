import { randomBytes } from 'node:crypto';
import { Envelope, EnvelopeError, parseMasterKeys } from './envelope';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const COMPANY_A = '0190e3f4-0000-7000-8000-00000000000a';
const COMPANY_B = '0190e3f4-0000-7000-8000-00000000000b';

describe('envelope encryption', () => {
  const keys = parseMasterKeys(key('k1'));
  const box = new Envelope(keys);

  it('round-trips a secret and never shows it in the envelope', () => {
    const secret = 'sk-ant-canary-0123456789';
    const { envelope, keyId } = box.encrypt(secret, COMPANY_A);
    expect(keyId).toBe('k1');
    expect(envelope).not.toContain(secret);
    expect(envelope).not.toContain(Buffer.from(secret).toString('base64url'));
    expect(box.decrypt(envelope, COMPANY_A)).toBe(secret);
  });

  it('uses a fresh data key and iv each time', () => {
    const a = box.encrypt('same', COMPANY_A).envelope;
    const b = box.encrypt('same', COMPANY_A).envelope;
    expect(a).not.toBe(b);
  });

  it('refuses an envelope copied to another company', () => {
    const { envelope } = box.encrypt('secret', COMPANY_A);
    expect(() => box.decrypt(envelope, COMPANY_B)).toThrow(EnvelopeError);
  });

  it('refuses any tampered byte', () => {
    const { envelope } = box.encrypt('secret-value', COMPANY_A);
    const parts = envelope.split('.');
    for (const index of [2, 3]) {
      const bytes = Buffer.from(parts[index], 'base64url');
      for (const at of [0, 13, bytes.length - 1]) {
        const flipped = Buffer.from(bytes);
        flipped[at] = flipped[at] ^ 0x01;
        const tampered = [...parts];
        tampered[index] = flipped.toString('base64url');
        expect(() => box.decrypt(tampered.join('.'), COMPANY_A)).toThrow(EnvelopeError);
      }
    }
    expect(() => box.decrypt(envelope.slice(0, 20), COMPANY_A)).toThrow(EnvelopeError);
  });

  it('rotates: a new active key re-wraps old envelopes, which stay readable throughout', () => {
    const old = box.encrypt('rotating-secret', COMPANY_A).envelope;
    const rotated = new Envelope([...parseMasterKeys(key('k2')), ...keys]);
    expect(rotated.decrypt(old, COMPANY_A)).toBe('rotating-secret');
    const { envelope, keyId, changed } = rotated.rewrap(old, COMPANY_A);
    expect(changed).toBe(true);
    expect(keyId).toBe('k2');
    expect(envelope.split('.')[1]).toBe('k2');
    // Once re-wrapped, the old master key can be dropped.
    const onlyNew = new Envelope(rotated['keys'].slice(0, 1));
    expect(onlyNew.decrypt(envelope, COMPANY_A)).toBe('rotating-secret');
    expect(() => onlyNew.decrypt(old, COMPANY_A)).toThrow(/k1 is not configured/);
    expect(rotated.rewrap(envelope, COMPANY_A).changed).toBe(false);
  });

  it('parses ENCRYPTION_KEYS strictly', () => {
    expect(parseMasterKeys(`${key('a')}, ${key('b')}`).map((k) => k.id)).toEqual(['a', 'b']);
    expect(() => parseMasterKeys('')).toThrow(/at least one/);
    expect(() => parseMasterKeys('nokey')).toThrow(EnvelopeError);
    expect(() => parseMasterKeys(`k:${randomBytes(16).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseMasterKeys(`${key('a')},${key('a')}`)).toThrow(/unique/);
  });
});
