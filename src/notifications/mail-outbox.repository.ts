import { Injectable } from '@nestjs/common';
import type { MailOutbox } from '../infra/database/generated/client';
import { PrismaService } from '../infra/database/prisma.service';

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/** The outbox is platform infrastructure, not tenant data: it has no company and no
 *  row-level security, and it is never exposed through the API. */
@Injectable()
export class MailOutboxRepository {
  constructor(private readonly prisma: PrismaService) {}

  add(mail: OutgoingMail): Promise<MailOutbox> {
    return this.prisma.mailOutbox.create({
      data: { toAddress: mail.to, subject: mail.subject, text: mail.text, html: mail.html },
    });
  }

  find(id: string): Promise<MailOutbox | null> {
    return this.prisma.mailOutbox.findUnique({ where: { id } });
  }

  async markDelivered(id: string, status: 'sent' | 'stored'): Promise<void> {
    await this.prisma.mailOutbox.update({
      where: { id },
      data: { status, sentAt: new Date(), attempts: { increment: 1 } },
    });
  }

  async markAttemptFailed(id: string, error: string, final: boolean): Promise<void> {
    await this.prisma.mailOutbox.update({
      where: { id },
      data: {
        lastError: error.slice(0, 2000),
        attempts: { increment: 1 },
        ...(final ? { status: 'failed' } : {}),
      },
    });
  }
}
