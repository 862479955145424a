/**
 * A local stand-in for an embeddings API (OpenAI-compatible and Voyage shapes:
 * POST /v1/embeddings), for tests: deterministic 1024-dimensional vectors, token usage,
 * and failures on demand. The platform reaches it through an integration's baseUrl.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { embedLocally } from '../src/knowledge/embedding/local-embedder';

export interface EmbeddingRequest {
  headers: IncomingMessage['headers'];
  body: {
    model: string;
    input: string[];
    dimensions?: number;
    output_dimension?: number;
    input_type?: string;
  };
}

export class FakeEmbeddings {
  readonly requests: EmbeddingRequest[] = [];
  /** Statuses to answer with before answering normally (e.g. [429]). */
  failures: number[] = [];
  private server?: Server;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let raw = '';
      request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      request.on('end', () => {
        const body = JSON.parse(raw) as EmbeddingRequest['body'];
        this.requests.push({ headers: request.headers, body });
        const failure = this.failures.shift();
        if (failure) {
          response.writeHead(failure, { 'content-type': 'application/json', 'retry-after': '0' });
          response.end(JSON.stringify({ error: { message: `scripted ${failure}` } }));
          return;
        }
        // A "model": the lexical embedding of the upper-cased text, so vectors differ
        // from the built-in embedder's while staying meaningful for tests.
        const data = body.input.map((text, index) => ({
          object: 'embedding',
          index,
          embedding: embedLocally(`${text} model`),
        }));
        const tokens = body.input.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ object: 'list', data, model: body.model, usage: { total_tokens: tokens } }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
