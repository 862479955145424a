import { getQueueToken } from '@nestjs/bullmq';
import { Global, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ALL_QUEUES } from '../queue/queue-names';

/**
 * The process's Prometheus metrics. Labels are bounded: routes are templates
 * (`/api/v1/runs/:id`), statuses and entity types are enums, SKUs and embedders come
 * from the registry; never an id.
 */
@Injectable()
export class Metrics implements OnModuleInit {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'hb_http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly runsFinished = new Counter({
    name: 'hb_runs_finished_total',
    help: 'Runs that reached a final status, by status and entity type.',
    labelNames: ['status', 'entity_type'] as const,
    registers: [this.registry],
  });

  readonly runDuration = new Histogram({
    name: 'hb_run_duration_seconds',
    help: 'Wall-clock time from start to final status, by entity type and status.',
    labelNames: ['entity_type', 'status'] as const,
    buckets: [0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 7200],
    registers: [this.registry],
  });

  readonly llmTokens = new Counter({
    name: 'hb_llm_tokens_total',
    help: 'LLM tokens billed, by SKU (provider/model:kind).',
    labelNames: ['sku'] as const,
    registers: [this.registry],
  });

  readonly costUsd = new Counter({
    name: 'hb_usage_cost_usd_total',
    help: 'Cost written to the usage ledger, by SKU.',
    labelNames: ['sku'] as const,
    registers: [this.registry],
  });

  readonly approvalWait = new Histogram({
    name: 'hb_approval_wait_seconds',
    help: 'Time from an approval request to its answer, by checkpoint and answer.',
    labelNames: ['checkpoint', 'status'] as const,
    buckets: [1, 10, 60, 300, 900, 3600, 14400, 86400, 604800],
    registers: [this.registry],
  });

  readonly embeddingBatches = new Counter({
    name: 'hb_embedding_batches_total',
    help: 'Embedding requests (document batches and queries), by embedder.',
    labelNames: ['embedder'] as const,
    registers: [this.registry],
  });

  readonly executionDeferred = new Counter({
    name: 'hb_execution_deferred_total',
    help: 'Execution jobs put back to delayed because their company was at EXECUTION_COMPANY_CONCURRENCY.',
    registers: [this.registry],
  });

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    collectDefaultMetrics({ register: this.registry, prefix: 'hb_' });
    const moduleRef = this.moduleRef;
    // Read from Redis when scraped: queue depth needs no bookkeeping of its own.
    new Gauge({
      name: 'hb_queue_jobs',
      help: 'Jobs per queue and state (waiting, active, delayed, failed).',
      labelNames: ['queue', 'state'] as const,
      registers: [this.registry],
      async collect() {
        for (const name of ALL_QUEUES) {
          const queue = moduleRef.get<Queue>(getQueueToken(name), { strict: false });
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed').catch(() => null);
          if (!counts) continue;
          for (const [state, value] of Object.entries(counts)) this.set({ queue: name, state }, value);
        }
      },
    });
  }

  /** The exposition text and its content type, for /metrics. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

@Global()
@Module({ providers: [Metrics], exports: [Metrics] })
export class MetricsModule {}
