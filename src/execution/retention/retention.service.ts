import { getQueueToken } from '@nestjs/bullmq';
import { Injectable, Logger } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { AppConfig } from '../../infra/config/config';
import { ALL_QUEUES, type QueueName } from '../../infra/queue/queue-names';
import { retentionCutoff } from './retention-cutoff';
import { RetentionRepository } from './retention.repository';

/** Rows per DELETE, and jobs per clean call: short statements, short locks. */
const BATCH = 5_000;

export interface RetentionReport {
  runEvents: number;
  llmLogs: number;
  toolLogs: number;
  /** Finished (completed or failed) jobs removed, per queue. */
  jobs: Partial<Record<QueueName, number>>;
}

/**
 * Prunes what only observability needs once it is old: run events of finished run
 * trees (RETENTION_RUN_EVENTS_DAYS), LLM and tool interaction logs of finished runs
 * (RETENTION_INTERACTION_LOGS_DAYS) and finished queue jobs (RETENTION_JOBS_DAYS).
 * 0 keeps a kind forever. Usage rows (usage_logs, usage_daily) are the billing
 * ledger and are never touched.
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger(RetentionService.name);

  constructor(
    private readonly repository: RetentionRepository,
    private readonly config: AppConfig,
    private readonly moduleRef: ModuleRef,
  ) {}

  async prune(now = new Date(), batchSize = BATCH): Promise<RetentionReport> {
    const env = this.config.env;
    const eventsBefore = retentionCutoff(env.RETENTION_RUN_EVENTS_DAYS, now);
    const logsBefore = retentionCutoff(env.RETENTION_INTERACTION_LOGS_DAYS, now);
    const jobsBefore = retentionCutoff(env.RETENTION_JOBS_DAYS, now);
    const report: RetentionReport = {
      runEvents: eventsBefore
        ? await drain((n) => this.repository.pruneRunEvents(eventsBefore, n), batchSize)
        : 0,
      llmLogs: logsBefore
        ? await drain(
            (n) => this.repository.pruneInteractionLogs('llm_interaction_logs', logsBefore, n),
            batchSize,
          )
        : 0,
      toolLogs: logsBefore
        ? await drain(
            (n) => this.repository.pruneInteractionLogs('tool_interaction_logs', logsBefore, n),
            batchSize,
          )
        : 0,
      jobs: jobsBefore ? await this.cleanJobs(now.getTime() - jobsBefore.getTime(), batchSize) : {},
    };
    const jobs = Object.values(report.jobs).reduce((sum, n) => sum + n, 0);
    if (report.runEvents || report.llmLogs || report.toolLogs || jobs) {
      this.logger.log(`pruned: ${JSON.stringify(report)}`);
    }
    return report;
  }

  /** Completed and failed jobs that finished more than `graceMs` ago, on every queue. */
  private async cleanJobs(graceMs: number, batchSize: number): Promise<RetentionReport['jobs']> {
    const removed: RetentionReport['jobs'] = {};
    for (const name of ALL_QUEUES) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      let count = 0;
      for (const state of ['completed', 'failed'] as const) {
        count += await drain(async (n) => (await queue.clean(graceMs, n, state)).length, batchSize);
      }
      if (count) removed[name] = count;
    }
    return removed;
  }
}

/** Repeats a bounded deletion until a batch comes back short; the total removed. */
async function drain(batch: (size: number) => Promise<number>, size: number): Promise<number> {
  let total = 0;
  for (;;) {
    const removed = await batch(size);
    total += removed;
    if (removed < size) return total;
  }
}
