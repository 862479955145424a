import { Module } from '@nestjs/common';
import { LoggerModule as PinoLoggerModule } from 'nestjs-pino';
import { AppConfig } from '../config/config';

/** Structured JSON logs (pino). In the API every line of a request carries its id. */
@Module({
  imports: [
    PinoLoggerModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        pinoHttp: {
          level: config.env.LOG_LEVEL,
          // Fastify assigned the id already (request-id.ts); reuse it.
          genReqId: (req) => (req as { id?: string }).id ?? 'unknown',
          customProps: (req) => ({ requestId: (req as { id?: string }).id }),
          quietReqLogger: true,
          autoLogging: { ignore: (req) => (req.url ?? '').startsWith('/health') },
          redact: {
            paths: [
              'req.headers.authorization',
              'req.headers.cookie',
              '*.password',
              '*.apiKey',
              '*.refreshToken',
            ],
            censor: '[REDACTED]',
          },
        },
      }),
    }),
  ],
})
export class LoggerModule {}
