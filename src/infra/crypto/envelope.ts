import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Envelope encryption of secrets at rest (integration API keys).
 *
 * Each secret gets its own random 256-bit data key. The secret is sealed with the
 * data key, and the data key is sealed with a master key from the environment, both
 * with AES-256-GCM. The caller's `context` (the owning company's id) is the
 * additional authenticated data of both layers, so a ciphertext copied to another
 * company's row does not open. The master key's id travels with the envelope: the
 * master key can rotate (a new key first in ENCRYPTION_KEYS, then `keys:rotate`
 * re-wraps every data key) while older envelopes stay readable.
 *
 * Format (one string, base64url parts): `v1.<keyId>.<wrapped data key>.<sealed secret>`,
 * each sealed part being iv (12 bytes) ‖ tag (16 bytes) ‖ ciphertext.
 */

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface MasterKey {
  id: string;
  key: Buffer;
}

export class EnvelopeError extends Error {}

/** Parses ENCRYPTION_KEYS: `id:base64key[,id:base64key...]`, the first one active. */
export function parseMasterKeys(value: string): MasterKey[] {
  const keys = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const separator = part.indexOf(':');
      const id = part.slice(0, separator);
      const key = Buffer.from(part.slice(separator + 1), 'base64');
      if (separator < 1 || !/^[A-Za-z0-9_-]{1,32}$/.test(id))
        throw new EnvelopeError('every key needs an id of 1-32 letters, digits, _ or - before a colon');
      if (key.length !== 32) throw new EnvelopeError(`key ${id} must be 32 bytes, base64-encoded`);
      return { id, key };
    });
  if (!keys.length) throw new EnvelopeError('at least one key is needed');
  if (new Set(keys.map((k) => k.id)).size !== keys.length) throw new EnvelopeError('key ids must be unique');
  return keys;
}

function seal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

function open(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new EnvelopeError('envelope is truncated');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  try {
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  } catch {
    // Never say more: a wrong key, a tampered byte and a foreign row look the same.
    throw new EnvelopeError('envelope does not open (tampered, or sealed for another owner)');
  }
}

export class Envelope {
  constructor(private readonly keys: readonly MasterKey[]) {}

  get activeKeyId(): string {
    return this.keys[0].id;
  }

  encrypt(secret: string, context: string): { envelope: string; keyId: string } {
    const aad = Buffer.from(context, 'utf8');
    const dataKey = randomBytes(32);
    const master = this.keys[0];
    const envelope = [
      VERSION,
      master.id,
      seal(master.key, dataKey, aad).toString('base64url'),
      seal(dataKey, Buffer.from(secret, 'utf8'), aad).toString('base64url'),
    ].join('.');
    return { envelope, keyId: master.id };
  }

  decrypt(envelope: string, context: string): string {
    const { master, wrapped, sealed } = this.parse(envelope);
    const aad = Buffer.from(context, 'utf8');
    const dataKey = open(master.key, wrapped, aad);
    return open(dataKey, sealed, aad).toString('utf8');
  }

  /** The same secret under the active master key; only the data key is re-sealed. */
  rewrap(envelope: string, context: string): { envelope: string; keyId: string; changed: boolean } {
    const { master, wrapped, sealed } = this.parse(envelope);
    const active = this.keys[0];
    if (master.id === active.id) return { envelope, keyId: active.id, changed: false };
    const aad = Buffer.from(context, 'utf8');
    const dataKey = open(master.key, wrapped, aad);
    // Prove the pair still opens before the old wrapping is thrown away.
    open(dataKey, sealed, aad);
    return {
      envelope: [
        VERSION,
        active.id,
        seal(active.key, dataKey, aad).toString('base64url'),
        sealed.toString('base64url'),
      ].join('.'),
      keyId: active.id,
      changed: true,
    };
  }

  private parse(envelope: string): { master: MasterKey; wrapped: Buffer; sealed: Buffer } {
    const parts = envelope.split('.');
    if (parts.length !== 4 || parts[0] !== VERSION) throw new EnvelopeError('not a v1 envelope');
    const master = this.keys.find((k) => k.id === parts[1]);
    if (!master) throw new EnvelopeError(`master key ${parts[1]} is not configured`);
    return {
      master,
      wrapped: Buffer.from(parts[2], 'base64url'),
      sealed: Buffer.from(parts[3], 'base64url'),
    };
  }
}
