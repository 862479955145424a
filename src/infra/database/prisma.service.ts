import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Pool } from 'pg';
import { AppConfig } from '../config/config';
import { PrismaClient } from './generated/client';
import { setScopeWithBegin } from './scope-in-begin';
import { statementNames } from './statement-names';

/**
 * The pg driver adapter, with every connection of its pool sending a transaction's
 * scope in the same message as its BEGIN. The adapter makes a new pool each time
 * Prisma connects (again, after a disconnect), so each one is patched as it comes,
 * and handed to `onPool`.
 */
class ScopedPgAdapter extends PrismaPg {
  constructor(
    config: ConstructorParameters<typeof PrismaPg>[0],
    options: ConstructorParameters<typeof PrismaPg>[1],
    private readonly onPool: (pool: Pool) => void,
  ) {
    super(config, options);
  }

  override async connect() {
    const adapter = await super.connect();
    const pool = adapter.underlyingDriver();
    pool.on('connect', setScopeWithBegin);
    this.onPool(pool);
    return adapter;
  }
}

/** The one Prisma client of a process, on the Rust-free driver adapter. Only
 *  repositories use it. Connects lazily on the first query, and again after a
 *  disconnect (a job still finishing while the process shuts down). */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  /** The pool of the adapter's current connection (none until Prisma connects). */
  private readonly pools: { current?: Pool };
  /** The prepared-statement name of a statement's text (statement-names.ts). */
  readonly statementName: (query: { sql: string }) => string;

  constructor(config: AppConfig) {
    const pools: { current?: Pool } = {};
    const names = statementNames();
    super({
      adapter: new ScopedPgAdapter(
        {
          connectionString: config.env.DATABASE_URL,
          max: config.env.DATABASE_POOL_SIZE,
          application_name: 'hirebuddha',
          // Queries are written without waiting for the one before; scope-in-begin.ts
          // relies on it to send a transaction's BEGIN with its first statement.
          pipeline: true,
        },
        { statementNameGenerator: names },
        (pool) => {
          pools.current = pool;
        },
      ),
    });
    this.pools = pools;
    this.statementName = names;
  }

  /** The connections under Prisma, for the statements ScopedDb sends around it
   *  (connecting Prisma first when it is not). */
  async pool(): Promise<Pool> {
    if (!this.pools.current) await this.$connect();
    return this.pools.current!;
  }

  async onModuleDestroy(): Promise<void> {
    this.pools.current = undefined;
    await this.$disconnect();
  }
}
