/**
 * `npm run keys:rotate`: re-wraps every stored integration key under the first key
 * of ENCRYPTION_KEYS. Rotation: put a new key first (keep the old one after it),
 * restart the processes, run this, then remove the old key and restart again.
 */
import { existsSync } from 'node:fs';
import { PrismaPg } from '@prisma/adapter-pg';
import { rotateKeys } from '../billing/key-rotation';
import { Envelope, parseMasterKeys } from '../infra/crypto/envelope';
import { PrismaClient } from '../infra/database/generated/client';

if (existsSync('.env')) process.loadEnvFile('.env');

async function main(): Promise<number> {
  // An operator's one-off command: it needs two variables, not the whole service config.
  // eslint-disable-next-line no-restricted-properties
  const adminUrl = process.env.DATABASE_ADMIN_URL;
  // eslint-disable-next-line no-restricted-properties
  const keys = process.env.ENCRYPTION_KEYS;
  if (!adminUrl || !keys) {
    console.error('keys:rotate needs DATABASE_ADMIN_URL and ENCRYPTION_KEYS');
    return 1;
  }
  const envelope = new Envelope(parseMasterKeys(keys));
  const owner = new PrismaClient({ adapter: new PrismaPg({ connectionString: adminUrl }) });
  try {
    const report = await rotateKeys(owner, envelope);
    console.log(
      `keys:rotate: ${report.rewrapped} re-wrapped under ${envelope.activeKeyId}, ${report.current} already current` +
        (report.unreadable.length
          ? `, ${report.unreadable.length} unreadable: ${report.unreadable.join(', ')}`
          : ''),
    );
    return report.unreadable.length ? 2 : 0;
  } finally {
    await owner.$disconnect();
  }
}

main().then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
