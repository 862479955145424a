import type { CostUnit } from '../infra/database/generated/client';

/** Cost units as the API and the database spell them; Prisma's enum names differ. */
export const COST_UNITS = ['1K_tokens', '1M_tokens', 'call', '1K_chars'] as const;
export type ApiCostUnit = (typeof COST_UNITS)[number];

const TO_DB: Record<ApiCostUnit, CostUnit> = {
  '1K_tokens': 'TOKENS_1K',
  '1M_tokens': 'TOKENS_1M',
  call: 'CALL',
  '1K_chars': 'CHARS_1K',
};

export const toDbCostUnit = (unit: ApiCostUnit): CostUnit => TO_DB[unit];
export const toApiCostUnit = (unit: CostUnit): ApiCostUnit =>
  (Object.keys(TO_DB) as ApiCostUnit[]).find((key) => TO_DB[key] === unit)!;
