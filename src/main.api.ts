import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiModule } from './app/api.module';
import { configureHttpApp, createFastifyAdapter } from './app/http-app';
import { AppLogger } from './infra/logging/app-logger';
import { configOrExit } from './infra/config/boot';
import { startTracing, stopTracing } from './infra/tracing/tracing';
import { stopGracefullyOnSignals } from './infra/lifecycle/shutdown';

/** The API process: serves HTTP and produces jobs; never consumes a queue. */
async function main(): Promise<void> {
  const config = configOrExit();
  // Before the app is built: queues, HTTP hooks and Prisma pick up the tracer provider.
  startTracing(config.env);
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule.forRoot(config),
    createFastifyAdapter(config),
    { bufferLogs: true },
  );
  configureHttpApp(app);
  await app.listen({ port: config.env.PORT, host: config.env.HOST });
  const logger = app.get(AppLogger);
  logger.log(`API listening on ${await app.getUrl()}`, 'Bootstrap');
  stopGracefullyOnSignals(
    async () => {
      await app.close();
      await stopTracing();
    },
    config.env.SHUTDOWN_GRACE_MS,
    logger,
  );
}

void main();
