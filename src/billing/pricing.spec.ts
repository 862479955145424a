import { Prisma } from '../infra/database/generated/client';
import {
  costOf,
  inputTokensUpperBound,
  llmCharges,
  worstCaseCost,
  type Price,
  type TokenKind,
} from './pricing';

const price = (kind: TokenKind, cost: string, unit: Price['costUnit'] = 'TOKENS_1M'): Price => ({
  skuId: `sku-${kind}`,
  serviceSku: `anthropic/claude-sonnet-4-5:${kind}`,
  internalCost: new Prisma.Decimal(cost),
  costUnit: unit,
});

// Claude Sonnet 4.5 list prices per million tokens: input 3, output 15, cache write
// (5 min) 3.75, cache read 0.30.
const SONNET = {
  input: price('input', '3'),
  output: price('output', '15'),
  cache_read: price('cache_read', '0.30'),
  cache_write: price('cache_write', '3.75'),
};

let ids = 0;
const newId = () => `row-${++ids}`;

describe('pricing', () => {
  it('prices every token kind, cache reads and writes included, as computed by hand', () => {
    const { rows, total, unpriced } = llmCharges(
      { inputTokens: 1200, outputTokens: 350, cacheReadTokens: 10_000, cacheWriteTokens: 2048 },
      SONNET,
      newId,
    );
    // 1200 × 3/1M, 350 × 15/1M, 10 000 × 0.30/1M, 2048 × 3.75/1M
    expect(rows.map((r) => [r.serviceSku, r.quantity, r.cost])).toEqual([
      ['anthropic/claude-sonnet-4-5:input', '1200', '0.0036000000'],
      ['anthropic/claude-sonnet-4-5:output', '350', '0.0052500000'],
      ['anthropic/claude-sonnet-4-5:cache_read', '10000', '0.0030000000'],
      ['anthropic/claude-sonnet-4-5:cache_write', '2048', '0.0076800000'],
    ]);
    expect(total.toFixed(10)).toBe('0.0195300000');
    expect(unpriced).toEqual([]);
  });

  it('prices per thousand tokens, per call and per thousand characters', () => {
    expect(costOf(7, price('input', '0.001', 'TOKENS_1K')).toFixed(10)).toBe('0.0000070000');
    expect(costOf(1, price('input', '0.02', 'CALL')).toFixed(10)).toBe('0.0200000000');
    expect(costOf(2500, price('input', '0.004', 'CHARS_1K')).toFixed(10)).toBe('0.0100000000');
  });

  it('rounds each row once, half-up, to 10 decimals', () => {
    // 7 × 0.33333 / 1M = 0.00000233331 → 0.0000023333
    expect(costOf(7, price('input', '0.33333')).toFixed(10)).toBe('0.0000023333');
    // 5 × 0.00000003 / 1K = 0.00000000015 → 0.0000000002 (half-up)
    expect(costOf(5, price('input', '0.00000003', 'TOKENS_1K')).toFixed(10)).toBe('0.0000000002');
  });

  it('flags kinds without a price and bills them at zero; skips kinds not used', () => {
    const { rows, total, unpriced } = llmCharges(
      { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 3 },
      { input: SONNET.input },
      newId,
    );
    expect(rows.map((r) => r.serviceSku)).toEqual(['anthropic/claude-sonnet-4-5:input']);
    expect(total.toFixed(10)).toBe('0.0000300000');
    expect(unpriced).toEqual(['output', 'cache_write']);
  });

  it('reserves the worst case: input at the dearer of input and cache write, plus max output', () => {
    const worst = worstCaseCost(1000, 500, SONNET);
    // 1000 × 3.75/1M + 500 × 15/1M
    expect(worst.usd.toFixed(10)).toBe('0.0112500000');
    expect(worst.tokens).toBe(1500);
    // No real usage within those bounds can cost more.
    for (const usage of [
      { inputTokens: 1000, outputTokens: 500, cacheReadTokens: 0, cacheWriteTokens: 0 },
      { inputTokens: 0, outputTokens: 500, cacheReadTokens: 0, cacheWriteTokens: 1000 },
      { inputTokens: 200, outputTokens: 500, cacheReadTokens: 400, cacheWriteTokens: 400 },
    ])
      expect(llmCharges(usage, SONNET, newId).total.lte(worst.usd)).toBe(true);
  });

  it('bounds input tokens from above by the request bytes', () => {
    const request = { system: 'You are terse.', messages: [{ role: 'user', content: 'héllo wörld' }] };
    const bound = inputTokensUpperBound(request);
    expect(bound).toBeGreaterThanOrEqual(Buffer.byteLength('You are terse.héllo wörld'));
    expect(inputTokensUpperBound({ ...request, tools: [{ name: 't' }] })).toBeGreaterThan(bound + 999);
  });
});
