import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { AppConfig } from '../infra/config/config';
import type { HumanApproval, Prisma } from '../infra/database/generated/client';
import type { TenantScope } from '../infra/database/tenant-scope';
import { JOB_OPTIONS, Jobs } from '../infra/queue/jobs';
import { QueueName } from '../infra/queue/queue-names';
import { MailService } from '../notifications/mail.service';
import type { ApprovalRule } from './approval-rules';
import { toApprovalResponse } from './approval-response';
import { ApprovalsRepository } from './approvals.repository';

export type ApprovalEvent = 'approval.requested' | 'approval.resolved';

/**
 * Tells an approval's channels that it was requested or resolved: each webhook gets a
 * delivery row (the log) and a job on the webhooks queue (signed POST, retried with
 * backoff); each email address gets a mail through the outbox.
 */
@Injectable()
export class ApprovalNotifier {
  constructor(
    private readonly approvals: ApprovalsRepository,
    private readonly mail: MailService,
    private readonly config: AppConfig,
    @InjectQueue(QueueName.Webhooks) private readonly webhooks: Queue,
  ) {}

  async notify(
    scope: TenantScope,
    approval: HumanApproval,
    rule: ApprovalRule | undefined,
    event: ApprovalEvent,
  ) {
    const channels = rule?.channels ?? [];
    const body = { event, approval: toApprovalResponse(approval) } as unknown as Prisma.InputJsonObject;
    const deliveries = await this.approvals.addDeliveries(
      scope,
      channels.flatMap((channel) =>
        channel.type === 'webhook'
          ? [
              {
                companyId: approval.companyId,
                approvalId: approval.id,
                event,
                url: channel.url,
                payload: body,
              },
            ]
          : [],
      ),
    );
    for (const delivery of deliveries) {
      const payload = { deliveryId: delivery.id, companyId: delivery.companyId };
      await this.webhooks.add(Jobs.DeliverWebhook.name, payload, JOB_OPTIONS['webhook.deliver'](payload));
    }
    const link = `${this.config.env.PUBLIC_BASE_URL}/console/approvals#${approval.id}`;
    const what =
      event === 'approval.requested' ? 'needs your approval' : `was ${approval.status.toLowerCase()}`;
    for (const channel of channels)
      if (channel.type === 'email')
        for (const to of channel.to)
          await this.mail.send({
            to,
            subject: `A run ${what} (${approval.checkpoint})`,
            text: `Run ${approval.runId} ${what} at its ${approval.checkpoint} checkpoint.\n\nOpen: ${link}\n`,
            html: `<p>Run <code>${approval.runId}</code> ${what} at its <b>${approval.checkpoint}</b> checkpoint.</p><p><a href="${link}">Open the approvals inbox</a></p>`,
          });
  }
}
