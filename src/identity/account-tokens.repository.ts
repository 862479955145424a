import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { TokenPurpose } from '../infra/database/generated/client';
import { ScopedDb } from '../infra/database/tenant-scope';

const spentRow = z.object({ user_id: z.string(), company_id: z.string(), email: z.string() });

/** Mailed single-use tokens. Only SHA-256 hashes are stored. */
@Injectable()
export class AccountTokensRepository {
  constructor(private readonly db: ScopedDb) {}

  /** Stores a new token for the user and purpose, voiding any earlier unused one
   *  (a resent invitation replaces the old link). */
  async issue(userId: string, purpose: TokenPurpose, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db.unscoped.$transaction([
      this.db.unscoped.userToken.updateMany({
        where: { userId, purpose, consumedAt: null },
        data: { consumedAt: new Date() },
      }),
      this.db.unscoped.userToken.create({ data: { userId, purpose, tokenHash, expiresAt } }),
    ]);
  }

  /** Spends a token (once, for its purpose, unexpired); null otherwise. */
  async consume(tokenHash: string, purpose: TokenPurpose): Promise<z.infer<typeof spentRow> | null> {
    const rows = await this.db.unscoped.$queryRaw<unknown[]>`
      SELECT * FROM consume_user_token(${tokenHash}, ${purpose}::token_purpose)`;
    return rows.length ? spentRow.parse(rows[0]) : null;
  }
}
