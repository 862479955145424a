import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { AppConfig } from '../config/config';
import { PrismaClient } from './generated/client';
import { setScopeWithBegin } from './scope-in-begin';

/**
 * The pg driver adapter, with every connection of its pool sending a transaction's
 * scope in the same message as its BEGIN. The adapter makes a new pool each time
 * Prisma connects (again, after a disconnect), so each one is patched as it comes.
 */
class ScopedPgAdapter extends PrismaPg {
  override async connect() {
    const adapter = await super.connect();
    adapter.underlyingDriver().on('connect', setScopeWithBegin);
    return adapter;
  }
}

/** The one Prisma client of a process, on the Rust-free driver adapter. Only
 *  repositories use it. Connects lazily on the first query. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(config: AppConfig) {
    super({
      adapter: new ScopedPgAdapter({
        connectionString: config.env.DATABASE_URL,
        max: config.env.DATABASE_POOL_SIZE,
        application_name: 'hirebuddha',
        // Queries are written without waiting for the one before; scope-in-begin.ts
        // relies on it to send a transaction's BEGIN with its first statement.
        pipeline: true,
      }),
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
