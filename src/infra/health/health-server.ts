import { createServer, type Server } from 'node:http';
import type { Metrics } from '../metrics/metrics';
import type { HealthService } from './health.service';

/**
 * The worker's only HTTP surface: /health/live and /health/ready on its own
 * port, for orchestrator probes, and /metrics for Prometheus.
 */
export async function startHealthServer(
  health: HealthService,
  port: number,
  host: string,
  metrics?: Metrics,
): Promise<Server> {
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return reply(405, { status: 'method not allowed' });
    if (request.url === '/health/live') return reply(200, { status: 'ok' });
    if (request.url === '/health/ready') {
      health.readiness().then(
        (readiness) => reply(readiness.status === 'ok' ? 200 : 503, readiness),
        () => reply(503, { status: 'unavailable' }),
      );
      return;
    }
    if (request.url === '/metrics' && metrics) {
      metrics.scrape().then(
        ({ contentType, body }) => {
          response.writeHead(200, { 'content-type': contentType });
          response.end(body);
        },
        () => reply(500, { status: 'metrics unavailable' }),
      );
      return;
    }
    reply(404, { status: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}
