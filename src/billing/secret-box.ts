import { Injectable } from '@nestjs/common';
import { AppConfig } from '../infra/config/config';
import { Envelope } from '../infra/crypto/envelope';

/** The platform's envelope encryption, keyed by ENCRYPTION_KEYS. */
@Injectable()
export class SecretBox extends Envelope {
  constructor(config: AppConfig) {
    super(config.env.ENCRYPTION_KEYS);
  }
}
