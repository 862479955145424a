import { randomFillSync } from 'node:crypto';
import {
  context,
  defaultTextMapGetter,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import type { Env } from '../config/env.schema';

/**
 * OpenTelemetry for a process. Trace context (W3C `traceparent`) always flows: a run
 * created by a request carries the request's trace id, and its jobs, model calls and
 * tool calls continue that trace. Spans are recorded and exported over OTLP/HTTP only
 * when OTEL_EXPORTER_OTLP_ENDPOINT is set; otherwise the API is the no-op one and costs
 * nothing but the ids.
 *
 * Spans: HTTP requests (Fastify hooks, src/app/http-app.ts), Prisma queries
 * (@prisma/instrumentation), BullMQ producer → consumer (bullmq-otel, queue module),
 * Anthropic calls (the SDK's own client spans) and tool calls (the executor).
 */
const w3c = new W3CTraceContextPropagator();
let provider: TracerProvider | undefined;

export const tracer = () => trace.getTracer('hirebuddha');

/** Once per process, before the app is built (the entrypoints call it). */
export function startTracing(env: Pick<Env, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_SERVICE_NAME'>): void {
  if (provider || !env.OTEL_EXPORTER_OTLP_ENDPOINT) return;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(w3c);
  provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({
          url: `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, '')}/v1/traces`,
        }),
        // Sent often: a worker pod's spans should reach the collector well within its
        // shutdown grace.
        scheduledDelayMillis: 1_000,
      }),
    ],
  });
  trace.setGlobalTracerProvider(provider);
  registerInstrumentations({ tracerProvider: provider, instrumentations: [new PrismaInstrumentation()] });
}

/** True when spans are recorded (an exporter is configured). */
export const tracingEnabled = (): boolean => provider !== undefined;

/** Flushes spans not yet sent (graceful shutdown). */
export async function stopTracing(): Promise<void> {
  await provider?.shutdown();
}

/** The context a request's `traceparent` header names, or the root context. Parsed
 *  with the W3C propagator directly, so it works with tracing off too. */
export function contextFromTraceparent(traceparent: string | string[] | undefined): Context {
  const header = Array.isArray(traceparent) ? traceparent[0] : traceparent;
  if (!header) return ROOT_CONTEXT;
  return w3c.extract(ROOT_CONTEXT, { traceparent: header }, defaultTextMapGetter);
}

export interface SpanIds {
  traceId: string;
  spanId: string;
}

/** Random bytes drawn from a pool refilled 4 KiB at a time: a new run's trace and
 *  span ids (24 bytes) cost one OpenSSL call per 170 runs instead of two per run. */
const entropy = Buffer.alloc(4096);
let drawn = entropy.length;
function randomHex(bytes: number): string {
  if (drawn + bytes > entropy.length) {
    randomFillSync(entropy);
    drawn = 0;
  }
  drawn += bytes;
  return entropy.toString('hex', drawn - bytes, drawn);
}

/**
 * Ids of a new span under `parent` (its trace, or a new trace when it has none): the
 * span a run is. Recorded and ended at once when tracing is on, so a run's span id is
 * a real exported span and its jobs' spans hang below it.
 */
export function startRunSpan(parent: Context, name: string, attributes: Attributes): SpanIds {
  const span = tracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
  if (span.isRecording()) {
    const { traceId, spanId } = span.spanContext();
    span.end();
    return { traceId, spanId };
  }
  const parentTraceId = trace.getSpanContext(parent)?.traceId;
  return { traceId: parentTraceId ?? randomHex(16), spanId: randomHex(8) };
}

/** The context of a run recorded earlier (its trace and span id), for work done on it
 *  elsewhere: a worker continues the trace the run's request began. */
export function runContext(ids: SpanIds): Context {
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: ids.traceId,
    spanId: ids.spanId,
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
  });
}

/** The context work on a run continues: the active span when it is already in the
 *  run's trace (the job's consumer span), else the run's own span as a remote parent. */
export function contextOfRun(run: SpanIds): Context {
  const active = trace.getSpanContext(context.active());
  return active?.traceId === run.traceId ? context.active() : runContext(run);
}

/** What `work` gets when nothing is recorded: a span that ignores what it is told. */
const UNRECORDED = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/** Runs `work` inside a new active span under `parent`; errors mark the span. With
 *  tracing off there is no span to make and no context to enter (this wraps every
 *  job and every statement sent around Prisma), so `work` just runs. */
export function inSpan<T>(
  name: string,
  attributes: Attributes,
  work: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  if (!provider) return work(UNRECORDED);
  return tracer().startActiveSpan(name, { attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}
