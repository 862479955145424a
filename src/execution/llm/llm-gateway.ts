import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../infra/config/config';
import { assertEgressAllowed, EgressRefused, parseAllowPrivate } from '../../infra/net/egress';
import { RunFailure } from '../execution.errors';

/** Output tokens of a call whose entity sets no capabilities.model.maxTokens. */
export const DEFAULT_MAX_TOKENS = 1024;

export interface LlmRequest {
  model?: string;
  system?: string;
  /** A single user turn; or the whole conversation in `messages`. */
  prompt?: string;
  messages?: Anthropic.MessageParam[];
  tools?: Anthropic.Tool[];
  maxTokens?: number;
  temperature?: number;
  /** Extended thinking: the model may think for up to this many of its maxTokens. */
  thinking?: { budgetTokens: number };
}

export interface LlmResult {
  model: string;
  text: string;
  stopReason: string | null;
  requestId: string | null;
  latencyMs: number;
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number };
  /** The request and response as sent and received, for the interaction log. */
  request: Anthropic.MessageCreateParamsNonStreaming;
  response: Anthropic.Message;
}

/**
 * Every call to the Anthropic Messages API goes through here: one SDK client per
 * credential, the SDK's own retries (429, 5xx, network) with backoff, a request
 * timeout, and failures turned into stable run error codes.
 */
@Injectable()
export class LlmGateway {
  private readonly clients = new Map<string, Anthropic>();

  constructor(private readonly config: AppConfig) {}

  private readonly guardedFetch = async (
    input: string | URL | Request,
    init?: RequestInit,
  ): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    try {
      await assertEgressAllowed(url, {
        allowPrivate: parseAllowPrivate(this.config.env.EGRESS_ALLOW_PRIVATE_HOSTS),
      });
    } catch (error) {
      if (error instanceof EgressRefused)
        throw new RunFailure('EGRESS_REFUSED', `The integration's base URL is refused: ${error.message}`);
      throw error;
    }
    return fetch(input, { ...init, redirect: 'error' });
  };

  private client(apiKey: string, baseURL?: string): Anthropic {
    const key = `${baseURL ?? ''}\u0000${apiKey}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new Anthropic({
        apiKey,
        baseURL: baseURL ?? this.config.env.ANTHROPIC_BASE_URL,
        maxRetries: this.config.env.LLM_MAX_RETRIES,
        timeout: this.config.env.LLM_TIMEOUT_MS,
        // A base URL from the registry was set by a tenant: every request is checked by
        // the egress guard again (DNS may have changed since it was saved) and may not
        // follow redirects. The operator's ANTHROPIC_BASE_URL is trusted as configured.
        ...(baseURL ? { fetch: this.guardedFetch } : {}),
      });
      this.clients.set(key, client);
    }
    return client;
  }

  /** The Messages API request of a call, as it will be sent (and reserved for). */
  request(call: LlmRequest): Anthropic.MessageCreateParamsNonStreaming {
    return {
      model: call.model ?? this.config.env.ANTHROPIC_DEFAULT_MODEL,
      max_tokens: call.maxTokens ?? DEFAULT_MAX_TOKENS,
      messages: call.messages ?? [{ role: 'user', content: call.prompt ?? '' }],
      // Tool definitions are stable per entity version: cache them with the system prompt.
      ...(call.tools?.length
        ? {
            tools: call.tools.map((tool, i, all) =>
              i === all.length - 1 ? { ...tool, cache_control: { type: 'ephemeral' as const } } : tool,
            ),
          }
        : {}),
      ...(call.system
        ? // The system prompt is the stable prefix of every call of an entity: cache it.
          {
            system: [
              { type: 'text' as const, text: call.system, cache_control: { type: 'ephemeral' as const } },
            ],
          }
        : {}),
      ...(call.temperature === undefined ? {} : { temperature: call.temperature }),
      ...(call.thinking
        ? { thinking: { type: 'enabled' as const, budget_tokens: call.thinking.budgetTokens } }
        : {}),
    };
  }

  /** Sends a request built by `request()` with the credentials the registry resolved. */
  async complete(
    request: Anthropic.MessageCreateParamsNonStreaming,
    credentials: { apiKey: string; baseUrl?: string },
  ): Promise<LlmResult> {
    const started = performance.now();
    try {
      const { data, request_id } = await this.client(credentials.apiKey, credentials.baseUrl)
        .messages.create(request)
        .withResponse();
      return {
        model: data.model,
        text: data.content.map((block) => (block.type === 'text' ? block.text : '')).join(''),
        stopReason: data.stop_reason,
        requestId: request_id ?? null,
        latencyMs: Math.round(performance.now() - started),
        usage: {
          inputTokens: data.usage.input_tokens,
          outputTokens: data.usage.output_tokens,
          cacheReadTokens: data.usage.cache_read_input_tokens ?? 0,
          cacheWriteTokens: data.usage.cache_creation_input_tokens ?? 0,
        },
        request,
        response: data,
      };
    } catch (error) {
      // The egress guard refused the integration's base URL (the SDK wraps it as a connection error).
      if (error instanceof APIError && error.cause instanceof RunFailure) throw error.cause;
      if (error instanceof APIError) {
        // 401/403 are not retried (the SDK knows); the rest were retried already.
        const code = error.status === 401 || error.status === 403 ? 'PROVIDER_AUTH' : 'PROVIDER_ERROR';
        throw new RunFailure(
          code,
          `Anthropic answered ${error.status ?? 'no status'}: ${error.message}`.slice(0, 1000),
        );
      }
      throw new RunFailure(
        'PROVIDER_ERROR',
        `Anthropic could not be reached: ${String(error)}`.slice(0, 1000),
      );
    }
  }
}
