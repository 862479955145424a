/**
 * A local stand-in for the Anthropic Messages API, for tests and the offline demo.
 * It speaks the wire format the real SDK expects (POST /v1/messages, text and
 * tool_use blocks, usage with cache fields, request-id header), answers from a
 * script of replies, and can fail on demand (429 with retry-after, 500, 529, 401).
 * The platform reaches it through ANTHROPIC_BASE_URL, exactly as it reaches Anthropic.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedReply {
  /** Fail with this HTTP status instead of answering (an error body in Anthropic's format). */
  status?: number;
  retryAfterSeconds?: number;
  text?: string;
  /** Answer only after this long (a call in flight, for crash tests). */
  delayMs?: number;
  toolUse?: { name: string; input: Record<string, unknown> }[];
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens';
  usage?: Partial<{
    input_tokens: number;
    output_tokens: number;
    cache_read_input_tokens: number;
    cache_creation_input_tokens: number;
  }>;
}

export interface RecordedRequest {
  headers: IncomingMessage['headers'];
  body: {
    model: string;
    max_tokens: number;
    system?: unknown;
    messages: { role: string; content: unknown }[];
    tools?: unknown[];
  };
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

export class FakeAnthropic {
  readonly requests: RecordedRequest[] = [];
  private readonly script: ScriptedReply[] = [];
  private server?: Server;
  /** Answered when the script is empty. */
  fallback: ScriptedReply = { text: 'ok' };

  /** Queues replies, answered in order, one per request. */
  reply(...replies: ScriptedReply[]): this {
    this.script.push(...replies);
    return this;
  }

  async start(port = 0): Promise<string> {
    this.server = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      request.on('end', () => {
        if (request.method !== 'POST' || !request.url?.startsWith('/v1/messages')) {
          response.writeHead(404, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'not found' } }),
          );
          return;
        }
        const body = JSON.parse(raw) as RecordedRequest['body'];
        this.requests.push({ headers: request.headers, body });
        const scripted = this.script.shift() ?? this.fallback;
        const requestId = `req_${randomUUID().replaceAll('-', '')}`;
        if (scripted.status) {
          response.writeHead(scripted.status, {
            'content-type': 'application/json',
            'request-id': requestId,
            ...(scripted.retryAfterSeconds !== undefined
              ? { 'retry-after': String(scripted.retryAfterSeconds) }
              : {}),
          });
          response.end(
            JSON.stringify({
              type: 'error',
              error: {
                type: ERROR_TYPES[scripted.status] ?? 'api_error',
                message: `scripted ${scripted.status}`,
              },
            }),
          );
          return;
        }
        const content = [
          ...(scripted.text !== undefined ? [{ type: 'text', text: scripted.text }] : []),
          ...(scripted.toolUse ?? []).map((call) => ({
            type: 'tool_use',
            id: `toolu_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
            name: call.name,
            input: call.input,
          })),
        ];
        const send = () => {
          response.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId });
          response.end(
            JSON.stringify({
              id: `msg_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
              type: 'message',
              role: 'assistant',
              model: body.model,
              content,
              stop_reason: scripted.stopReason ?? (scripted.toolUse?.length ? 'tool_use' : 'end_turn'),
              stop_sequence: null,
              usage: {
                input_tokens: 12,
                output_tokens: 7,
                cache_read_input_tokens: 0,
                cache_creation_input_tokens: 0,
                ...scripted.usage,
              },
            }),
          );
        };
        if (scripted.delayMs) setTimeout(send, scripted.delayMs).unref();
        else send();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

// `node -r @swc-node/register tools/fake-anthropic.ts [port]` serves it for the demo.
if (require.main === module) {
  const fake = new FakeAnthropic();
  fake.fallback = {
    text: 'This is the local fake Anthropic server: set ANTHROPIC_API_KEY for real answers.',
  };
  void fake
    .start(Number(process.argv[2] ?? 4010))
    .then((url) => console.log(`fake Anthropic Messages API on ${url}`));
}
