import { Injectable } from '@nestjs/common';
import { PrismaService } from '../../infra/database/prisma.service';
import { TERMINAL } from '../run-status';

export type InteractionLogTable = 'llm_interaction_logs' | 'tool_interaction_logs';

/**
 * Deletes old rows across every company through SECURITY DEFINER functions (migration
 * `retention_prune`): pruning has no company scope, and row-level security would show
 * the application role nothing. Each call deletes at most one batch, so a statement
 * never holds its row locks for long; callers loop until a batch comes back short.
 */
@Injectable()
export class RetentionRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Events of run trees that ended before `cutoff` (the event's run and its root final). */
  async pruneRunEvents(cutoff: Date, batchSize: number): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ pruned: number }[]>`
      SELECT retention_prune_run_events(${cutoff}, ${batchSize}::integer, ${TERMINAL}::run_status[]) AS pruned`;
    return row.pruned;
  }

  /** LLM or tool interaction logs written before `cutoff`, of runs whose whole tree has
   *  ended: an unfinished run replays its logged steps from these rows. */
  async pruneInteractionLogs(table: InteractionLogTable, cutoff: Date, batchSize: number): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ pruned: number }[]>`
      SELECT retention_prune_interaction_logs(${table}, ${cutoff}, ${batchSize}::integer,
        ${TERMINAL}::run_status[]) AS pruned`;
    return row.pruned;
  }
}
