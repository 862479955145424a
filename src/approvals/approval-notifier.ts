import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { v7 as uuidv7 } from 'uuid';
import { AppConfig } from '../infra/config/config';
import type { HumanApproval, Prisma } from '../infra/database/generated/client';
import type { Tx } from '../infra/database/tenant-scope';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { MailService } from '../notifications/mail.service';
import type { ApprovalRule } from './approval-rules';
import { toApprovalResponse } from './approval-response';

export type ApprovalEvent = 'approval.requested' | 'approval.resolved';

/** What a notification left to send: its outbox rows, by id. */
export interface Outgoing {
  companyId: string;
  deliveryIds: string[];
  mailIds: string[];
}

/**
 * Tells an approval's channels that it was requested or resolved. The messages are
 * written in the same transaction as the approval change (webhook_deliveries for each
 * webhook, mail outbox rows for each address, through MailService): a crash after the
 * commit loses none of them.
 * Their jobs are queued after the commit; a lost enqueue is swept by the reconciler.
 */
@Injectable()
export class ApprovalNotifier {
  constructor(
    private readonly config: AppConfig,
    @InjectQueue(QueueName.Webhooks) private readonly webhooks: Queue,
    private readonly mailService: MailService,
  ) {}

  /** Writes the messages inside the approval's transaction. */
  async record(
    tx: Tx,
    approval: HumanApproval,
    rule: ApprovalRule | undefined,
    event: ApprovalEvent,
  ): Promise<Outgoing> {
    const channels = rule?.channels ?? [];
    const body = { event, approval: toApprovalResponse(approval) } as unknown as Prisma.InputJsonObject;
    const deliveries = channels.flatMap((channel) =>
      channel.type === 'webhook'
        ? [
            {
              id: uuidv7(),
              companyId: approval.companyId,
              approvalId: approval.id,
              event,
              url: channel.url,
              payload: body,
            },
          ]
        : [],
    );
    if (deliveries.length) await tx.webhookDelivery.createMany({ data: deliveries });
    const link = `${this.config.env.PUBLIC_BASE_URL}/console/approvals#${approval.id}`;
    const what =
      event === 'approval.requested' ? 'needs your approval' : `was ${approval.status.toLowerCase()}`;
    const mails = channels.flatMap((channel) =>
      channel.type === 'email'
        ? channel.to.map((to) => ({
            to,
            subject: `A run ${what} (${approval.checkpoint})`,
            text: `Run ${approval.runId} ${what} at its ${approval.checkpoint} checkpoint.\n\nOpen: ${link}\n`,
            html: `<p>Run <code>${approval.runId}</code> ${what} at its <b>${approval.checkpoint}</b> checkpoint.</p><p><a href="${link}">Open the approvals inbox</a></p>`,
          }))
        : [],
    );
    return {
      companyId: approval.companyId,
      deliveryIds: deliveries.map((d) => d.id),
      mailIds: await this.mailService.record(tx, mails),
    };
  }

  /** Queues the jobs that send recorded messages (ids make a repeat a no-op). */
  async dispatch(outgoing: Outgoing): Promise<void> {
    for (const deliveryId of outgoing.deliveryIds) {
      const payload = { deliveryId, companyId: outgoing.companyId };
      await this.webhooks.add(Jobs.DeliverWebhook.name, payload, JOB_OPTIONS['webhook.deliver'](payload));
    }
    await this.mailService.dispatch(outgoing.mailIds);
  }
}
