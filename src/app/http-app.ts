import { RequestMethod, type INestApplication } from '@nestjs/common';
import multipart from '@fastify/multipart';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '../infra/config/config';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppLogger } from '../infra/logging/app-logger';
import { bindRequestContext } from '../infra/logging/request-context';
import { logRequests } from '../infra/logging/request-log';
import { Metrics } from '../infra/metrics/metrics';
import { ProblemFilter } from '../infra/http/problem.filter';
import { REQUEST_ID_HEADER, requestIdFor } from '../infra/http/request-id';
import { ProblemValidationPipe } from '../infra/http/validation';
import { mountOpenApi } from '../infra/openapi/openapi';
import { traceHttpRequests } from '../infra/tracing/http-tracing';

export const API_PREFIX = 'api/v1';

/** Builds the Fastify adapter with the platform's request-id and body rules. */
export function createFastifyAdapter(config: AppConfig): FastifyAdapter {
  const adapter = new FastifyAdapter({
    genReqId: requestIdFor,
    bodyLimit: 1024 * 1024,
    trustProxy: config.env.TRUST_PROXY,
  });
  // Document uploads: streamed, one file part, capped at DOCUMENT_MAX_BYTES.
  const fastify = adapter.getInstance();
  void fastify.register(multipart, {
    limits: { fileSize: config.env.DOCUMENT_MAX_BYTES, files: 1, fields: 10, parts: 12 },
  });
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    done();
  });
  bindRequestContext(fastify);
  traceHttpRequests(fastify);
  return adapter;
}

/** Applies everything an HTTP app of the platform has: prefix, validation,
 *  problem+json, OpenAPI. Tests call this too, on the same module graph. */
export function configureHttpApp(app: INestApplication): void {
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  app.setGlobalPrefix(API_PREFIX, {
    exclude: [
      { path: 'health/*path', method: RequestMethod.ALL },
      { path: 'metrics', method: RequestMethod.ALL },
      { path: 'console/*path', method: RequestMethod.GET },
    ],
  });
  app.useGlobalPipes(new ProblemValidationPipe());
  app.useGlobalFilters(new ProblemFilter());
  // Request duration by route template (never the raw URL: ids would explode the labels).
  const metrics = app.get(Metrics);
  const fastify = (app as NestFastifyApplication).getHttpAdapter().getInstance();
  logRequests(fastify, logger.pino);
  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
    done();
  });
  mountOpenApi(app);
}
