import { Injectable } from '@nestjs/common';
import type { MailOutbox } from '../infra/database/generated/client';
import { v7 as uuidv7 } from 'uuid';
import { PrismaService } from '../infra/database/prisma.service';
import type { Tx } from '../infra/database/tenant-scope';

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

  /** Outbox rows written inside the caller's transaction (mail that must commit with
   *  what it reports, e.g. an approval); returns their ids. */
  async addInTx(tx: Tx, mails: OutgoingMail[]): Promise<string[]> {
    const rows = mails.map((mail) => ({
      id: uuidv7(),
      toAddress: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    }));
    if (rows.length) await tx.mailOutbox.createMany({ data: rows });
    return rows.map((row) => row.id);
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
