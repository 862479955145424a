import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { createTransport, type Transporter } from 'nodemailer';
import { AppConfig } from '../infra/config/config';
import type { OutgoingMail } from './mail-outbox.repository';

/** SMTP through nodemailer when SMTP_URL is set; otherwise there is no transport and
 *  the outbox row is the delivery. */
@Injectable()
export class MailTransport implements OnModuleDestroy {
  private readonly transporter?: Transporter;

  constructor(private readonly config: AppConfig) {
    const url = config.env.SMTP_URL;
    if (url) this.transporter = createTransport(url, { from: config.env.MAIL_FROM });
  }

  get enabled(): boolean {
    return this.transporter !== undefined;
  }

  async deliver(mail: OutgoingMail): Promise<void> {
    await this.transporter!.sendMail({
      to: mail.to,
      subject: mail.subject,
      text: mail.text,
      html: mail.html,
    });
  }

  onModuleDestroy(): void {
    this.transporter?.close();
  }
}
