import { EgressRefused, guardedFetch } from '../../infra/net/egress';
import { EMBEDDING_DIMENSION } from './local-embedder';
import type { Throttle } from './request-throttle';

export type InputType = 'document' | 'query';

export interface EmbeddingProvider {
  provider: string;
  model: string;
  apiKey: string;
  baseUrl?: string;
}

export class EmbeddingError extends Error {}

const DEFAULT_BASE: Record<string, string> = {
  voyage: 'https://api.voyageai.com',
  openai: 'https://api.openai.com',
};

/** `<base>/v1/embeddings`, whether the base URL names `/v1` or not. */
export function embeddingsUrl(provider: EmbeddingProvider): string {
  const base = (provider.baseUrl ?? DEFAULT_BASE[provider.provider] ?? '').replace(/\/+$/, '');
  if (!base)
    throw new EmbeddingError(`No base URL for embedding provider ${provider.provider}: set baseUrl.`);
  return base.endsWith('/v1') ? `${base}/embeddings` : `${base}/v1/embeddings`;
}

/**
 * One batch through Voyage's or any OpenAI-compatible `/v1/embeddings` endpoint, asking
 * for the platform's 1024 dimensions. Transient failures (429, 5xx, network) are
 * retried with exponential backoff, honouring Retry-After; the egress guard applies.
 * Every attempt waits for `throttle` (the process's rate limit for this endpoint).
 */
export async function embedRemotely(
  provider: EmbeddingProvider,
  texts: string[],
  inputType: InputType,
  options: { allowPrivate: readonly string[]; timeoutMs: number; attempts?: number; throttle?: Throttle },
): Promise<{ vectors: number[][]; tokens: number }> {
  const voyage = provider.provider === 'voyage';
  const body = JSON.stringify({
    model: provider.model,
    input: texts,
    ...(voyage
      ? { input_type: inputType, output_dimension: EMBEDDING_DIMENSION }
      : { dimensions: EMBEDDING_DIMENSION, encoding_format: 'float' }),
  });
  const url = embeddingsUrl(provider);
  const throttle: Throttle = options.throttle ?? ((work) => work());
  const attempts = options.attempts ?? 4;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    let retryAfterMs = 500 * 2 ** (attempt - 1);
    try {
      const response = await throttle(() =>
        guardedFetch(
          {
            method: 'POST',
            url,
            headers: { authorization: `Bearer ${provider.apiKey}`, 'content-type': 'application/json' },
            body,
          },
          { allowPrivate: options.allowPrivate },
          { timeoutMs: options.timeoutMs, maxResponseBytes: 64 * 1024 * 1024, maxRedirects: 0 },
        ),
      );
      if (response.status === 200) return parse(response.body, texts.length);
      last = `${provider.provider} answered ${response.status}`;
      if (response.status !== 429 && response.status < 500) break;
      const header = Number(response.headers['retry-after']);
      if (Number.isFinite(header) && header >= 0) retryAfterMs = Math.min(header * 1000, 10_000);
    } catch (error) {
      if (error instanceof EgressRefused || error instanceof EmbeddingError)
        throw new EmbeddingError(error.message);
      last = error instanceof Error ? error.message : String(error);
    }
    if (attempt < attempts) await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
  }
  throw new EmbeddingError(`Embedding failed: ${last}`);
}

function parse(body: unknown, expected: number): { vectors: number[][]; tokens: number } {
  const data = (body as { data?: { embedding?: unknown; index?: number }[] } | null)?.data;
  if (!Array.isArray(data) || data.length !== expected)
    throw new EmbeddingError(
      `The provider returned ${Array.isArray(data) ? data.length : 'no'} embeddings for ${expected} texts.`,
    );
  const vectors = [...data]
    .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
    .map((item) => {
      const vector = item.embedding;
      if (
        !Array.isArray(vector) ||
        vector.length !== EMBEDDING_DIMENSION ||
        !vector.every((v) => typeof v === 'number')
      )
        throw new EmbeddingError(
          `The provider returned an embedding that is not ${EMBEDDING_DIMENSION} numbers.`,
        );
      return vector;
    });
  const usage = (body as { usage?: { total_tokens?: unknown } }).usage;
  return { vectors, tokens: typeof usage?.total_tokens === 'number' ? usage.total_tokens : 0 };
}
