import { Processor, WorkerHost } from '@nestjs/bullmq';
import { Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../infra/config/config';
import type { Job } from 'bullmq';
import type { JobPayloads } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { configureWorker } from '../infra/queue/worker-options';
import { MailOutboxRepository } from './mail-outbox.repository';
import { MailTransport } from './mail-transport';

/** Sends queued mail. Thin: load the outbox row, deliver, record the outcome. */
@Processor(QueueName.Notifications)
export class NotificationsProcessor extends WorkerHost implements OnApplicationBootstrap {
  private readonly logger = new Logger(NotificationsProcessor.name);

  constructor(
    private readonly outbox: MailOutboxRepository,
    private readonly transport: MailTransport,
    private readonly config: AppConfig,
  ) {
    super();
    configureWorker(NotificationsProcessor, QueueName.Notifications, config);
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.env.NOTIFICATIONS_CONCURRENCY;
  }

  async process(job: Job<JobPayloads['mail.send']>): Promise<void> {
    const mail = await this.outbox.find(job.data.outboxId);
    // Already delivered (a retried or duplicated job): nothing to do.
    if (!mail || mail.status === 'sent' || mail.status === 'stored') return;
    if (!this.transport.enabled) {
      await this.outbox.markDelivered(mail.id, 'stored');
      this.logger.log(`mail to ${mail.toAddress} kept in the outbox (no SMTP_URL): ${mail.subject}`);
      return;
    }
    try {
      await this.transport.deliver({
        to: mail.toAddress,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
      await this.outbox.markDelivered(mail.id, 'sent');
    } catch (error) {
      const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      await this.outbox.markAttemptFailed(mail.id, String(error), final);
      throw error;
    }
  }
}
