import fc from 'fast-check';
import {
  ACTION_SCHEMA,
  ACTION_SCHEMAS,
  BLOCK_SCHEMAS,
  CONFIG_BLOCKS,
  type JsonSchema,
} from './block-schemas';
import { validateEntityConfig } from './validate-config';

/** Every schema node that declares `properties` (outside if/then), with its path. */
function objectNodes(schema: unknown, path = '#'): [string, JsonSchema][] {
  if (typeof schema !== 'object' || schema === null) return [];
  const node = schema as JsonSchema;
  const own: [string, JsonSchema][] = node.properties && !/\/(if|then)$/.test(path) ? [[path, node]] : [];
  const children = Object.entries(node).flatMap(([key, value]) =>
    Array.isArray(value)
      ? value.flatMap((item, i) => objectNodes(item, `${path}/${key}/${i}`))
      : objectNodes(value, `${path}/${key}`),
  );
  return [...own, ...children];
}

describe('block schemas', () => {
  it('reject unknown keys in every structured object (metadataExtensions is free-form)', () => {
    let checked = 0;
    for (const block of CONFIG_BLOCKS) {
      for (const [path, node] of objectNodes(BLOCK_SCHEMAS[block])) {
        checked += 1;
        if (block === 'metadataExtensions' && path === '#') continue;
        expect({ block, path, additionalProperties: node.additionalProperties }).toEqual({
          block,
          path,
          additionalProperties: false,
        });
      }
    }
    expect(checked).toBeGreaterThan(25);
  });

  it('describe every block for the OpenAPI document', () => {
    for (const block of CONFIG_BLOCKS) expect(BLOCK_SCHEMAS[block].description).toEqual(expect.any(String));
  });

  it('combine one schema per action kind with a discriminator on kind', () => {
    expect(ACTION_SCHEMA).toMatchObject({ discriminator: { propertyName: 'kind' } });
    expect(ACTION_SCHEMA.oneOf).toEqual(Object.values(ACTION_SCHEMAS));
    for (const [kind, schema] of Object.entries(ACTION_SCHEMAS)) {
      expect(schema).toMatchObject({
        properties: { kind: { const: kind } },
        required: expect.arrayContaining(['kind']),
      });
    }
  });
});

describe('validateEntityConfig on arbitrary JSON', () => {
  it('never throws and always answers pointers inside the blocks it was given', () => {
    const block = fc.constantFrom(...CONFIG_BLOCKS);
    const type = fc.constantFrom('ACTION', 'SKILL', 'AGENT', 'PROCESS' as const);
    fc.assert(
      fc.property(
        fc.dictionary(block, fc.jsonValue()),
        type,
        fc.array(fc.stringMatching(/^[a-z]{1,5}$/)),
        (input, t, aliases) => {
          const errors = validateEntityConfig(input, { type: t, childAliases: aliases });
          for (const error of errors) {
            expect(error.pointer).toMatch(/^\/[A-Za-z]+(\/|$)/);
            expect(error.message.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
