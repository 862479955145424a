import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './app/worker.module';
import { AppLogger } from './infra/logging/app-logger';
import { configOrExit } from './infra/config/boot';
import { startTracing, stopTracing } from './infra/tracing/tracing';
import { startHealthServer } from './infra/health/health-server';
import { HealthService } from './infra/health/health.service';
import { Metrics } from './infra/metrics/metrics';
import { stopGracefullyOnSignals } from './infra/lifecycle/shutdown';

/** A worker process: consumes queues; no HTTP but health. Scale these apart from the API. */
async function main(): Promise<void> {
  const config = configOrExit();
  // Before the app is built: queues, HTTP hooks and Prisma pick up the tracer provider.
  startTracing(config.env);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    bufferLogs: true,
  });
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  const server = await startHealthServer(
    app.get(HealthService),
    config.env.WORKER_HTTP_PORT,
    config.env.HOST,
    app.get(Metrics),
  );
  logger.log(`worker started; health on :${config.env.WORKER_HTTP_PORT}`, 'Bootstrap');
  stopGracefullyOnSignals(
    async () => {
      server.close();
      // Closing the context closes BullMQ workers, which wait for active jobs.
      await app.close();
      await stopTracing();
    },
    config.env.SHUTDOWN_GRACE_MS,
    logger,
  );
}

void main();
