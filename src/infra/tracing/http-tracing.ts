import { context, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { contextFromTraceparent, tracer, tracingEnabled } from './tracing';

const spans = new WeakMap<FastifyRequest, Span>();

/**
 * A SERVER span per HTTP request, continuing the caller's `traceparent`. It is made
 * the active context in preHandler (after the body is read, right before guards and
 * the handler run), because Fastify reads bodies in stream callbacks that would not
 * carry a context set earlier. Ended on response, or when the client goes away.
 */
export function traceHttpRequests(fastify: FastifyInstance): void {
  if (!tracingEnabled()) return;
  fastify.addHook('onRequest', (request, _reply, done) => {
    const span = tracer().startSpan(
      `${request.method} ${request.routeOptions.url ?? 'unmatched'}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': request.method, 'http.route': request.routeOptions.url ?? '' },
      },
      contextFromTraceparent(request.headers.traceparent),
    );
    spans.set(request, span);
    done();
  });
  fastify.addHook('preHandler', (request, _reply, done) => {
    const span = spans.get(request);
    if (!span) return done();
    context.with(trace.setSpan(context.active(), span), done);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    if (span) {
      span.setAttribute('http.response.status_code', reply.statusCode);
      if (reply.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    spans.get(request)?.end();
    done();
  });
}

/** The trace context a request's work belongs to: its server span when tracing is
 *  on, else just the caller's `traceparent` (so run ids continue it either way). */
export function requestTraceContext(request: FastifyRequest): Context {
  const span = spans.get(request);
  return span ? trace.setSpan(context.active(), span) : contextFromTraceparent(request.headers.traceparent);
}
