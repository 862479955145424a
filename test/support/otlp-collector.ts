import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  service: string;
  scope: string;
}

interface OtlpJson {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number }[];
    }[];
  }[];
}

/** OTLP ids in JSON are hex; some encoders send base64. Normalised to hex. */
const hex = (id: string | undefined): string =>
  !id ? '' : /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');

/**
 * A stand-in for an OpenTelemetry collector at the wire: accepts OTLP/HTTP JSON
 * exports on /v1/traces and keeps the spans.
 */
export class FakeOtlpCollector {
  readonly spans: CollectedSpan[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        if (request.url === '/v1/traces') {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpJson;
          for (const resource of body.resourceSpans ?? []) {
            const service =
              resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
            for (const scope of resource.scopeSpans ?? [])
              for (const span of scope.spans ?? [])
                this.spans.push({
                  traceId: hex(span.traceId),
                  spanId: hex(span.spanId),
                  parentSpanId: hex(span.parentSpanId),
                  name: span.name,
                  kind: span.kind,
                  service,
                  scope: scope.scope?.name ?? '',
                });
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }
}
