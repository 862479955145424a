import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';
import type { Job } from 'bullmq';
import { EntitiesService } from '../entities/entities.service';
import { AppConfig } from '../infra/config/config';
import { guardedFetch, parseAllowPrivate } from '../infra/net/egress';
import type { JobPayloads } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { configureWorker } from '../infra/queue/worker-options';
import { CompaniesService } from '../tenancy/companies.service';
import { rulesOf } from './approval-rules';
import { ApprovalsRepository } from './approvals.repository';
import type { ApprovalSnapshot } from './approvals.service';
import { SIGNATURE_HEADER, signWebhook } from './webhook-signature';

/**
 * Delivers approval webhooks: a signed POST through the egress guard, every attempt
 * recorded on its delivery row; a non-2xx answer or a network error is retried with
 * backoff (the job's attempts), the last failure marks the delivery failed.
 */
@Processor(QueueName.Webhooks)
export class WebhookProcessor extends WorkerHost {
  private readonly logger = new Logger(WebhookProcessor.name);

  constructor(
    private readonly approvals: ApprovalsRepository,
    private readonly entities: EntitiesService,
    private readonly companies: CompaniesService,
    private readonly config: AppConfig,
  ) {
    super();
    configureWorker(WebhookProcessor, QueueName.Webhooks, config);
  }

  async process(job: Job<JobPayloads['webhook.deliver']>): Promise<void> {
    const { scope } = await this.companies.runContext(job.data.companyId);
    const delivery = await this.approvals.findDelivery(scope, job.data.deliveryId);
    if (!delivery || delivery.status !== 'pending') return;
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const secret = await this.secretFor(scope, delivery.approvalId, delivery.url);
    if (!secret) {
      await this.approvals.recordAttempt(scope, delivery.id, {
        delivered: false,
        error: 'No signing secret: set the channel secret or WEBHOOK_SIGNING_SECRET.',
        final: true,
      });
      return;
    }
    const body = JSON.stringify(delivery.payload);
    try {
      const response = await guardedFetch(
        {
          method: 'POST',
          url: delivery.url,
          headers: {
            'content-type': 'application/json',
            [SIGNATURE_HEADER]: signWebhook(secret, body),
            'X-HireBuddha-Event': delivery.event,
            'X-HireBuddha-Delivery': delivery.id,
          },
          body,
        },
        { allowPrivate: parseAllowPrivate(this.config.env.EGRESS_ALLOW_PRIVATE_HOSTS) },
        { timeoutMs: this.config.env.WEBHOOK_TIMEOUT_MS, maxResponseBytes: 64 * 1024, maxRedirects: 0 },
      );
      const delivered = response.status >= 200 && response.status < 300;
      await this.approvals.recordAttempt(scope, delivery.id, {
        delivered,
        statusCode: response.status,
        error: delivered ? undefined : `answered ${response.status}`,
        final,
      });
      if (!delivered) throw new Error(`webhook ${delivery.id} answered ${response.status}`);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!message.startsWith(`webhook ${delivery.id} answered`))
        await this.approvals.recordAttempt(scope, delivery.id, { delivered: false, error: message, final });
      if (final) this.logger.warn(`webhook ${delivery.id} to ${delivery.url} failed for good: ${message}`);
      throw error;
    }
  }

  /** The channel's own secret (from the entity's governance), else the platform's. */
  private async secretFor(
    scope: Parameters<EntitiesService['findForRun']>[0],
    approvalId: string,
    url: string,
  ) {
    const approval = await this.approvals.findVisible(scope, approvalId);
    const run = approval ? await this.approvals.runOf(scope, approval.runId) : null;
    const entity = run ? await this.entities.findForRun(scope, run.entityId) : null;
    const snapshot = approval?.contextSnapshot as unknown as ApprovalSnapshot | undefined;
    const rule = entity && snapshot ? rulesOf(entity)[snapshot.rule] : undefined;
    const channel = rule?.channels?.find((c) => c.type === 'webhook' && c.url === url);
    return (
      (channel?.type === 'webhook' ? channel.secret : undefined) ?? this.config.env.WEBHOOK_SIGNING_SECRET
    );
  }
}
