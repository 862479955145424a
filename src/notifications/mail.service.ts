import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { MailOutboxRepository, type OutgoingMail } from './mail-outbox.repository';

/** Queues a mail: the outbox row first (so nothing is lost), then the job that sends
 *  it. Never sends inside a request. */
@Injectable()
export class MailService {
  constructor(
    private readonly outbox: MailOutboxRepository,
    @InjectQueue(QueueName.Notifications) private readonly queue: Queue,
  ) {}

  async send(mail: OutgoingMail): Promise<string> {
    const row = await this.outbox.add(mail);
    const payload = { outboxId: row.id };
    await this.queue.add(Jobs.SendMail.name, payload, JOB_OPTIONS['mail.send'](payload));
    return row.id;
  }
}
