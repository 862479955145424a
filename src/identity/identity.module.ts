import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { ThrottlerModule } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppConfig } from '../infra/config/config';
import { RedisThrottlerStorage } from '../infra/http/redis-throttler.storage';
import { REDIS } from '../infra/redis/redis.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { TenancyModule } from '../tenancy/tenancy.module';
import { AccountTokensRepository } from './account-tokens.repository';
import { AccountService } from './account.service';
import { AccessTokens } from './access-tokens';
import { AuthController } from './auth.controller';
import { AuthRepository } from './auth.repository';
import { AuthService } from './auth.service';
import { BootstrapService } from './bootstrap.service';
import { JwtAuthGuard } from './jwt-auth.guard';
import { JwtStrategy } from './jwt.strategy';
import { UsersController } from './users.controller';
import { UsersRepository } from './users.repository';
import { UsersService } from './users.service';

function emailOf(request: FastifyRequest): string {
  const email = (request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' ? email.trim().toLowerCase() : '';
}

@Module({
  imports: [
    TenancyModule,
    NotificationsModule,
    PassportModule,
    // Limits per client IP and per email, counted in Redis so they hold across API
    // replicas. Only routes guarded by EmailRateLimitGuard use them (login,
    // forgot-password, resend-verification, invitations), each with its own counters.
    ThrottlerModule.forRootAsync({
      inject: [AppConfig, REDIS],
      useFactory: (config: AppConfig, redis: Redis) => {
        const ttl = config.env.LOGIN_LIMIT_WINDOW_SECONDS * 1000;
        return {
          storage: new RedisThrottlerStorage(redis),
          throttlers: [
            {
              name: 'login-ip',
              ttl,
              limit: config.env.LOGIN_LIMIT_PER_IP,
              getTracker: (request) => (request as FastifyRequest).ip,
            },
            {
              name: 'login-email',
              ttl,
              limit: config.env.LOGIN_LIMIT_PER_EMAIL,
              getTracker: (request) => `email:${emailOf(request as FastifyRequest)}`,
            },
          ],
        };
      },
    }),
  ],
  controllers: [AuthController, UsersController],
  providers: [
    AccessTokens,
    AccountService,
    AccountTokensRepository,
    AuthRepository,
    AuthService,
    BootstrapService,
    JwtStrategy,
    UsersRepository,
    UsersService,
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
  exports: [AccessTokens, JwtStrategy],
})
export class IdentityModule {}
