import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { AppConfig } from '../../infra/config/config';
import { Prisma, PrismaClient } from '../../infra/database/generated/client';
import { TERMINAL } from '../run-status';

export type InteractionLogTable = 'llm_interaction_logs' | 'tool_interaction_logs';

/**
 * Deletes old rows across every company, on the owner connection (DATABASE_ADMIN_URL):
 * pruning has no company scope, and row-level security would show the application
 * role nothing. Each call deletes at most one batch, so a statement never holds its
 * row locks for long; callers loop until a batch comes back short.
 *
 * Every statement walks the companies and, per company, the (company_id, created_at)
 * index of the table, so old rows are found by index range scans, not by scanning
 * the table.
 */
@Injectable()
export class RetentionRepository implements OnModuleDestroy {
  private owner?: PrismaClient;

  constructor(private readonly config: AppConfig) {}

  /** One connection, opened on the first pruning and kept for the next ones. */
  private get db(): PrismaClient {
    this.owner ??= new PrismaClient({
      adapter: new PrismaPg({
        connectionString: this.config.env.DATABASE_ADMIN_URL,
        max: 1,
        application_name: 'hirebuddha-retention',
      }),
    });
    return this.owner;
  }

  async onModuleDestroy(): Promise<void> {
    await this.owner?.$disconnect();
  }

  /** True when the owner connection passes row-level security (superuser or
   *  BYPASSRLS); with FORCE ROW LEVEL SECURITY a plain owner would delete nothing. */
  async bypassesRowSecurity(): Promise<boolean> {
    const [row] = await this.db.$queryRaw<{ bypass: boolean }[]>`
      SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`;
    return row?.bypass ?? false;
  }

  /**
   * Events of run trees that ended before `cutoff`. A tree's stream is read by its root
   * (SSE resume), so the root and the event's own run must both be final; events are
   * written before their run ends, hence older than the cutoff too.
   */
  pruneRunEvents(cutoff: Date, batchSize: number): Promise<number> {
    return this.db.$executeRaw`
      DELETE FROM run_events WHERE id IN (
        SELECT doomed.id FROM companies c CROSS JOIN LATERAL (
          SELECT e.id FROM run_events e
            JOIN execution_runs r ON r.id = e.run_id
            JOIN execution_runs root ON root.id = e.root_run_id
           WHERE e.company_id = c.id AND e.created_at < ${cutoff}
             AND r.status = ANY (${TERMINAL}::run_status[])
             AND root.status = ANY (${TERMINAL}::run_status[])
             AND coalesce(root.completed_at, root.updated_at) < ${cutoff}
           LIMIT ${batchSize}) doomed
        LIMIT ${batchSize})`;
  }

  /**
   * LLM or tool interaction logs written before `cutoff`, of runs whose whole tree has
   * ended: an unfinished run replays its logged steps from these rows.
   */
  pruneInteractionLogs(table: InteractionLogTable, cutoff: Date, batchSize: number): Promise<number> {
    const logs = Prisma.raw(table);
    return this.db.$executeRaw`
      DELETE FROM ${logs} WHERE id IN (
        SELECT doomed.id FROM companies c CROSS JOIN LATERAL (
          SELECT l.id FROM ${logs} l
            JOIN execution_runs r ON r.id = l.run_id
            JOIN execution_runs root ON root.id = coalesce(r.root_run_id, r.id)
           WHERE l.company_id = c.id AND l.created_at < ${cutoff}
             AND r.status = ANY (${TERMINAL}::run_status[])
             AND root.status = ANY (${TERMINAL}::run_status[])
           LIMIT ${batchSize}) doomed
        LIMIT ${batchSize})`;
  }
}
