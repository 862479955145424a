import { Module } from '@nestjs/common';
import { IntegrationsRepository } from './integrations.repository';
import { Ledger } from './ledger';
import { SecretBox } from './secret-box';

/** What both processes need of billing: the registry, the key envelope, the ledger. */
@Module({
  providers: [IntegrationsRepository, SecretBox, Ledger],
  exports: [IntegrationsRepository, SecretBox, Ledger],
})
export class BillingCoreModule {}
