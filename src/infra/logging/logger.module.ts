import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { AppLogger } from './app-logger';
import { createRootLogger, ROOT_LOGGER } from './root-logger';

/** Structured JSON logs (pino). In the API every line of a request carries its id
 *  (request-context.ts); each answered request gets one line (request-log.ts). */
@Global()
@Module({
  providers: [
    {
      provide: ROOT_LOGGER,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => createRootLogger(config.env.LOG_LEVEL),
    },
    AppLogger,
  ],
  exports: [ROOT_LOGGER, AppLogger],
})
export class LoggerModule {}
