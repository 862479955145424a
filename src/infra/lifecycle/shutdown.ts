import type { LoggerService } from '@nestjs/common';

/**
 * Stops the process cleanly on SIGTERM/SIGINT: `close` drains (in-flight HTTP
 * requests, active jobs), then the process exits 0. If draining outlives the
 * grace period the process exits 1 anyway, so an orchestrator's kill never has
 * to. Orchestrators should allow a little more than the grace period.
 */
export function stopGracefullyOnSignals(
  close: () => Promise<void>,
  graceMs: number,
  logger: LoggerService,
): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.log(`received ${signal}; draining for up to ${graceMs} ms`, 'Shutdown');
    setTimeout(() => {
      logger.error(`still draining after ${graceMs} ms; exiting`, undefined, 'Shutdown');
      process.exit(1);
    }, graceMs).unref();
    close().then(
      () => {
        logger.log('stopped cleanly', 'Shutdown');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error(`error while stopping: ${String(error)}`, undefined, 'Shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
