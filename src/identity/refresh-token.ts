import { createHash, randomBytes } from 'node:crypto';

/** 256 bits of randomness; only its SHA-256 is stored. Used for refresh tokens and
 *  for mailed single-use tokens alike. */
export function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashRefreshToken(token) };
}

export function hashRefreshToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
