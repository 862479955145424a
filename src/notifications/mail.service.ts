import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import type { Tx } from '../infra/database/tenant-scope';
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
    await this.dispatch([row.id]);
    return row.id;
  }

  /** Mail that must commit with the caller's own change: the outbox rows are written in
   *  its transaction; `dispatch` their ids after the commit (a lost dispatch is swept by
   *  the reconciler). */
  record(tx: Tx, mails: OutgoingMail[]): Promise<string[]> {
    return this.outbox.addInTx(tx, mails);
  }

  /** Queues the jobs that send outbox rows (ids make a repeat a no-op). */
  async dispatch(outboxIds: string[]): Promise<void> {
    for (const outboxId of outboxIds) {
      const payload = { outboxId };
      await this.queue.add(Jobs.SendMail.name, payload, JOB_OPTIONS['mail.send'](payload));
    }
  }
}
