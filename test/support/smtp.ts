import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A local SMTP receiver: the mail the platform sends, parsed, for assertions. */
export class SmtpSink {
  readonly received: ParsedMail[] = [];
  private readonly server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData: (stream, _session, callback) => {
      simpleParser(stream).then(
        (mail) => {
          this.received.push(mail);
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `smtp://127.0.0.1:${(this.server.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The first mail to `to` (after `since` earlier ones) within `timeoutMs`. */
  async waitFor(to: string, since = 0, timeoutMs = 10_000): Promise<ParsedMail> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.received.filter((m) => JSON.stringify(m.to).includes(to)).slice(since)[0];
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no mail to ${to} within ${timeoutMs} ms`);
  }

  count(to: string): number {
    return this.received.filter((m) => JSON.stringify(m.to).includes(to)).length;
  }
}

/** The token of the link in a mail's text. */
export function tokenIn(mail: ParsedMail): string {
  const match = /[?&]token=([A-Za-z0-9_-]+)/.exec(mail.text ?? '');
  if (!match) throw new Error(`no token link in: ${mail.text}`);
  return match[1];
}
