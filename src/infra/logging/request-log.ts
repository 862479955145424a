import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';

/**
 * One line per answered request: method, URL, route, status, duration and its id.
 * No headers, so no credential can reach a log line through them. Health probes
 * are left out (an orchestrator polls them every few seconds).
 */
export function logRequests(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const level = reply.statusCode >= 500 ? 'error' : 'info';
    if (logger.isLevelEnabled(level) && !request.url.startsWith('/health')) {
      logger[level](
        {
          requestId: request.id,
          req: {
            method: request.method,
            url: request.url,
            route: request.routeOptions.url,
            remoteAddress: request.ip,
          },
          res: { statusCode: reply.statusCode },
          responseTime: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request completed',
      );
    }
    done();
  });
}
