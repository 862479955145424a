import { IO_CONTRACT_LIMITS, checkContractSchema, createContractAjv } from './io-contract';

describe('checkContractSchema', () => {
  it('accepts ordinary schemas', () => {
    expect(
      checkContractSchema({
        type: 'object',
        required: ['email'],
        properties: {
          email: { type: 'string', format: 'email' },
          when: { type: 'string', format: 'date-time' },
          tags: { type: 'array', items: { $ref: '#/$defs/tag' } },
        },
        $defs: { tag: { type: 'string', pattern: '^[a-z]+$' } },
        additionalProperties: false,
        examples: [{ email: 'a@b.co' }],
      }),
    ).toBeUndefined();
    expect(checkContractSchema({})).toBeUndefined();
  });

  it('rejects what the draft 2020-12 meta-schema rejects', () => {
    expect(checkContractSchema({ type: 'strnig' })).toMatch(/^not a valid JSON Schema: \/type /);
    expect(checkContractSchema({ properties: { a: { minLength: -1 } } })).toMatch(/not a valid JSON Schema/);
  });

  it('rejects schemas that do not compile', () => {
    expect(checkContractSchema({ $ref: 'https://example.com/schema.json' })).toMatch(/does not compile/);
    expect(checkContractSchema({ type: 'string', pattern: '(' })).toMatch(/does not compile/);
    expect(checkContractSchema({ $schema: 'http://json-schema.org/draft-07/schema#' })).toMatch(
      /does not compile/,
    );
  });

  it('rejects non-objects and $async', () => {
    expect(checkContractSchema('string')).toBe('must be a JSON Schema object');
    expect(checkContractSchema({ $async: true, type: 'object' })).toMatch(/\$async/);
  });

  it('bounds depth without overflowing the stack, and size', () => {
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 100_000; i++) deep = { type: 'array', items: deep };
    expect(checkContractSchema(deep)).toBe(
      `the schema is nested deeper than ${IO_CONTRACT_LIMITS.maxDepth} levels`,
    );

    const properties = Object.fromEntries(
      Array.from({ length: 3000 }, (_, i) => [`property_${i}`, { type: 'string', maxLength: 10 }]),
    );
    expect(checkContractSchema({ type: 'object', properties })).toMatch(/larger than 64 KiB/);
  });

  it('refuses patterns prone to catastrophic backtracking', () => {
    expect(checkContractSchema({ type: 'string', pattern: '^(a+)+$' })).toMatch(/nests quantifiers/);
    expect(checkContractSchema({ patternProperties: { '^(\\w*x)*$': {} } })).toMatch(/nests quantifiers/);
    expect(checkContractSchema({ type: 'string', pattern: 'x'.repeat(1001) })).toMatch(/longer than 1000/);
    expect(checkContractSchema({ type: 'string', pattern: '^(ab)+[0-9]*$' })).toBeUndefined();
  });

  it('keeps working after a schema claims the meta-schema $id', () => {
    const hijack = { $id: 'https://json-schema.org/draft/2020-12/schema', type: 'object' };
    expect(checkContractSchema(hijack)).toBeUndefined();
    expect(checkContractSchema(hijack)).toBeUndefined();
    expect(checkContractSchema({ type: 'strnig' })).toMatch(/not a valid JSON Schema/);
    expect(checkContractSchema({ type: 'object' })).toBeUndefined();
  });
});

describe('createContractAjv', () => {
  it('validates the formats the engine relies on', () => {
    const validate = createContractAjv().compile({
      type: 'object',
      properties: {
        email: { type: 'string', format: 'email' },
        at: { type: 'string', format: 'date-time' },
        id: { type: 'string', format: 'uuid' },
      },
    });
    expect(
      validate({ email: 'a@b.co', at: '2025-01-31T10:00:00Z', id: '0b7e5d4c-1f2a-4b3c-8d9e-0a1b2c3d4e5f' }),
    ).toBe(true);
    expect(validate({ email: 'nope', at: '2025-02-30T10:00:00Z', id: 'x' })).toBe(false);
    expect(validate.errors?.map((e) => e.instancePath)).toEqual(['/email', '/at', '/id']);
  });
});
