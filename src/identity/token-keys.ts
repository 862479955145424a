import { createHash, createSecretKey, type KeyObject } from 'node:crypto';

export interface SigningKey {
  kid: string;
  key: KeyObject;
}

/** A short, stable id of a secret, carried in the token header so verification
 *  picks the right key during a rotation (without revealing the secret). */
function kidOf(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 12);
}

/**
 * HMAC keys imported once (KeyObjects), not per verification: re-importing a
 * string secret on every request costs more than the HMAC itself.
 */
export class TokenKeys {
  readonly current: SigningKey;
  private readonly byKid: Map<string, KeyObject>;

  constructor(secret: string, previous: readonly string[]) {
    const keys = [secret, ...previous].map((s) => ({
      kid: kidOf(s),
      key: createSecretKey(Buffer.from(s, 'utf8')),
    }));
    this.current = keys[0];
    this.byKid = new Map(keys.map((k) => [k.kid, k.key]));
  }

  forKid(kid: unknown): KeyObject | undefined {
    return typeof kid === 'string' ? this.byKid.get(kid) : undefined;
  }
}
