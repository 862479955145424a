import type { PrismaClient } from '../src/infra/database/generated/client';

/**
 * The platform's price catalog for the demo: Anthropic token SKUs on the APP company,
 * inherited by every partner and tenant. Prices in USD per million tokens follow
 * Anthropic's Sonnet and Haiku tiers (input, output, 5-minute cache write, cache
 * read); check them against the current price list before billing anyone.
 */
const MODELS: [model: string, input: string, output: string, cacheWrite: string, cacheRead: string][] = [
  ['claude-sonnet-5-5', '3', '15', '3.75', '0.30'],
  ['claude-haiku-5-5', '1', '5', '1.25', '0.10'],
];

export async function seedDemoCatalog(prisma: PrismaClient, appCompanyId: string): Promise<void> {
  for (const [model, input, output, cacheWrite, cacheRead] of MODELS) {
    const prices = { input, output, cache_write: cacheWrite, cache_read: cacheRead };
    for (const [kind, internalCost] of Object.entries(prices)) {
      const serviceSku = `anthropic/${model}:${kind}`;
      await prisma.integrationRegistry.upsert({
        where: { companyId_serviceSku: { companyId: appCompanyId, serviceSku } },
        update: {},
        create: {
          companyId: appCompanyId,
          providerName: 'anthropic',
          modelName: model,
          serviceSku,
          componentType: 'llm',
          internalCost,
          costUnit: 'TOKENS_1M',
        },
      });
    }
  }
}
