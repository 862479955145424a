import { Prisma, type CostUnit } from '../infra/database/generated/client';

const { Decimal } = Prisma;
type Decimal = Prisma.Decimal;

/**
 * Prices and costs. Money is decimal end to end (decimal.js through Prisma), never a
 * float. Rounding rule: each ledger row's cost is `quantity × internal_cost / unit`,
 * computed exactly and rounded once, half-up, to 10 decimal places (the column's
 * scale); every total is a plain sum of rows, so totals are exact sums of the ledger.
 * The API shows run totals with 6 decimals and ledger rows with all 10.
 */

export const COST_SCALE = 10;

/** How many raw units one `internal_cost` pays for. */
export const UNIT_SIZE: Record<CostUnit, number> = {
  TOKENS_1K: 1_000,
  TOKENS_1M: 1_000_000,
  CALL: 1,
  CHARS_1K: 1_000,
};

/** The token kinds an LLM call is billed by, each its own SKU: `anthropic/<model>:<kind>`. */
export const TOKEN_KINDS = ['input', 'output', 'cache_read', 'cache_write'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];

export interface Price {
  skuId: string;
  serviceSku: string;
  internalCost: Decimal;
  costUnit: CostUnit;
}

/** One row for the usage ledger (see usage_settle in the billing migration). */
export interface UsageRow {
  id: string;
  skuId: string;
  serviceSku: string;
  quantity: string;
  cost: string;
  metadata?: Record<string, unknown>;
}

export function llmSku(provider: string, model: string, kind: TokenKind): string {
  return `${provider}/${model}:${kind}`;
}

export function costOf(
  quantity: number | string | Decimal,
  price: Pick<Price, 'internalCost' | 'costUnit'>,
): Decimal {
  return new Decimal(quantity)
    .mul(price.internalCost)
    .div(UNIT_SIZE[price.costUnit])
    .toDecimalPlaces(COST_SCALE, Decimal.ROUND_HALF_UP);
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

const QUANTITY_OF: Record<TokenKind, keyof TokenUsage> = {
  input: 'inputTokens',
  output: 'outputTokens',
  cache_read: 'cacheReadTokens',
  cache_write: 'cacheWriteTokens',
};

/**
 * The ledger rows of one LLM call: one per token kind used, at that kind's price.
 * Kinds used without a price are returned in `unpriced` (billed at zero, flagged).
 */
export function llmCharges(
  usage: TokenUsage,
  prices: Partial<Record<TokenKind, Price>>,
  newId: () => string,
): { rows: UsageRow[]; total: Decimal; unpriced: TokenKind[] } {
  const rows: UsageRow[] = [];
  const unpriced: TokenKind[] = [];
  let total = new Decimal(0);
  for (const kind of TOKEN_KINDS) {
    const quantity = usage[QUANTITY_OF[kind]];
    if (!quantity) continue;
    const price = prices[kind];
    if (!price) {
      unpriced.push(kind);
      continue;
    }
    const cost = costOf(quantity, price);
    total = total.add(cost);
    rows.push({
      id: newId(),
      skuId: price.skuId,
      serviceSku: price.serviceSku,
      quantity: String(quantity),
      cost: cost.toFixed(COST_SCALE),
      metadata: { tokenKind: kind },
    });
  }
  return { rows, total, unpriced };
}

/**
 * The most one call can cost: every input token at the dearer of the input and cache
 * write prices (a cache write is billed instead of input), and `maxTokens` of output
 * (thinking included). Cache reads are cheaper than input, so they never raise it.
 */
export function worstCaseCost(
  inputTokensUpperBound: number,
  maxTokens: number,
  prices: Partial<Record<TokenKind, Price>>,
): { usd: Decimal; tokens: number } {
  const inputCosts = [prices.input, prices.cache_write]
    .filter((p): p is Price => p !== undefined)
    .map((p) => costOf(inputTokensUpperBound, p));
  const input = inputCosts.reduce((max, cost) => (cost.gt(max) ? cost : max), new Decimal(0));
  const output = prices.output ? costOf(maxTokens, prices.output) : new Decimal(0);
  return { usd: input.add(output), tokens: inputTokensUpperBound + maxTokens };
}

/**
 * An upper bound of a request's input tokens without asking the provider: a token
 * never covers less than one byte of UTF-8, and the JSON framing counted here more
 * than pays for the few tokens each message and tool definition adds. Tool use adds
 * a fixed system prompt on the provider's side (a few hundred tokens).
 */
export function inputTokensUpperBound(request: {
  system?: unknown;
  messages?: unknown;
  tools?: unknown[];
}): number {
  const bytes = Buffer.byteLength(
    JSON.stringify({
      system: request.system ?? null,
      messages: request.messages ?? [],
      tools: request.tools ?? [],
    }),
    'utf8',
  );
  return bytes + (request.tools?.length ? 1_000 : 0);
}

/** A priced tool call's quantity: characters of its JSON output for `1K_chars` (at most
 *  `maxChars`, what was reserved), else one call. */
export function toolQuantity(price: Pick<Price, 'costUnit'>, output: unknown, maxChars: number): number {
  return price.costUnit === 'CHARS_1K'
    ? Math.min((JSON.stringify(output ?? null) ?? '').length, maxChars)
    : 1;
}

/** The ledger row of one priced tool call; never more than its reserved worst case. */
export function toolCharge(price: Price, output: unknown, newId: () => string, maxChars: number): UsageRow {
  const quantity = toolQuantity(price, output, maxChars);
  return {
    id: newId(),
    skuId: price.skuId,
    serviceSku: price.serviceSku,
    quantity: String(quantity),
    cost: costOf(quantity, price).toFixed(COST_SCALE),
  };
}

/** The most a tool call can cost: one call, or `maxChars` characters of output. */
export function toolWorstCase(price: Price, maxChars: number): Decimal {
  return costOf(price.costUnit === 'CHARS_1K' ? maxChars : 1, price);
}
