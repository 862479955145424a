import type { PrismaClient } from '../infra/database/generated/client';
import { EnvelopeError, type Envelope } from '../infra/crypto/envelope';

export interface RotationReport {
  rewrapped: number;
  current: number;
  /** Rows whose envelope does not open with any configured key: left as they are. */
  unreadable: string[];
}

/**
 * Re-wraps every integration key under the active master key (the first of
 * ENCRYPTION_KEYS). Only data keys are re-sealed; secrets never leave memory in
 * plaintext form beyond the check that they still open. Each row is updated only if
 * its envelope is still the one read, so a key entered meanwhile is not overwritten.
 * Runs as the owner role: it has to see every company's rows.
 */
export async function rotateKeys(
  owner: PrismaClient,
  envelope: Envelope,
  batch = 200,
): Promise<RotationReport> {
  const report: RotationReport = { rewrapped: 0, current: 0, unreadable: [] };
  let afterId: string | undefined;
  for (;;) {
    const rows = await owner.integrationRegistry.findMany({
      where: { encryptedApiKey: { not: null }, ...(afterId ? { id: { gt: afterId } } : {}) },
      select: { id: true, companyId: true, encryptedApiKey: true },
      orderBy: { id: 'asc' },
      take: batch,
    });
    for (const row of rows) {
      try {
        const next = envelope.rewrap(row.encryptedApiKey!, row.companyId);
        if (!next.changed) {
          report.current++;
          continue;
        }
        const { count } = await owner.integrationRegistry.updateMany({
          where: { id: row.id, encryptedApiKey: row.encryptedApiKey },
          data: { encryptedApiKey: next.envelope, apiKeyId: next.keyId },
        });
        report.rewrapped += count;
      } catch (error) {
        if (!(error instanceof EnvelopeError)) throw error;
        report.unreadable.push(row.id);
      }
    }
    if (rows.length < batch) return report;
    afterId = rows.at(-1)!.id;
  }
}
