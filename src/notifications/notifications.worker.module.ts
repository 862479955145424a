import { Module } from '@nestjs/common';
import { MailOutboxRepository } from './mail-outbox.repository';
import { MailTransport } from './mail-transport';
import { NotificationsProcessor } from './notifications.processor';

/** Consuming side, loaded only by the worker: sends what the outbox holds. */
@Module({ providers: [MailOutboxRepository, MailTransport, NotificationsProcessor] })
export class NotificationsWorkerModule {}
