import { Module } from '@nestjs/common';
import { MailOutboxRepository } from './mail-outbox.repository';
import { MailService } from './mail.service';

/** Producing side (API and workers): queue mail. */
@Module({ providers: [MailOutboxRepository, MailService], exports: [MailService] })
export class NotificationsModule {}
