import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { AppConfig } from '../infra/config/config';
import { PrismaClient } from '../infra/database/generated/client';
import { bootstrapPlatform } from './bootstrap';

/** On first start with an empty database, the API creates the platform's APP
 *  company and app_admin from BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD. */
@Injectable()
export class BootstrapService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Bootstrap');

  constructor(private readonly config: AppConfig) {}

  async onApplicationBootstrap(): Promise<void> {
    const { BOOTSTRAP_ADMIN_EMAIL: email, BOOTSTRAP_ADMIN_PASSWORD: password } = this.config.env;
    if (!email || !password) return;
    // The owner connection is opened for this one check and closed again.
    const owner = new PrismaClient({
      adapter: new PrismaPg({ connectionString: this.config.env.DATABASE_ADMIN_URL, max: 1 }),
    });
    try {
      if (await bootstrapPlatform(owner, { email, password })) {
        this.logger.log(`created the APP company and app_admin ${email}`);
      }
    } finally {
      await owner.$disconnect();
    }
  }
}
