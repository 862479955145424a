import fc from 'fast-check';
import { TemplateError, parseTemplate, renderTemplate, renderValue, stepAliasOf } from './template';

describe('parseTemplate', () => {
  it.each([
    ['plain text', 'Hello there', []],
    ['one reference', 'Hi {{input.name}}!', ['input.name']],
    ['trimmed tags', 'Hi {{  input.name }} from {{context.company}}', ['input.name', 'context.company']],
    ['whole roots', '{{input}} {{context}}', ['input', 'context']],
    ['indexes and hyphens', '{{input.items[0].first-name}}', ['input.items[0].first-name']],
    [
      'step outputs',
      '{{steps.lookup.output}} / {{steps.lookup.output.rows[2].id}}',
      ['steps.lookup.output', 'steps.lookup.output.rows[2].id'],
    ],
    ['a stray }} stays literal (JSON in prompts)', 'Answer as {"a": {"b": 1}} with {{input.x}}', ['input.x']],
    ['single braces', 'f(x) = {x}', []],
  ])('%s', (_name, text, refs) => {
    expect(parseTemplate(text)).toEqual({ refs });
  });

  it.each([
    ['an unclosed tag', 'Hi {{input.name', /unclosed "\{\{" at position 3/],
    ['a tag opened inside a tag', '{{input.{{x}}}}', /opens inside another tag/],
    ['an empty tag', 'Hi {{ }}', /empty tag/],
    ['an expression', '{{ input.a + 1 }}', /not a plain reference/],
    ['a function call', '{{ input.name.toUpperCase() }}', /not a plain reference/],
    ['an unknown root', '{{ env.SECRET }}', /not a plain reference/],
    ['a step without .output', '{{ steps.lookup }}', /steps\.<alias>\.output/],
    ['a step reading something else', '{{ steps.lookup.input.x }}', /steps\.<alias>\.output/],
    ['a Mustache section', '{{#input.items}}x{{/input.items}}', /not a plain reference/],
    ['a triple mustache', '{{{input.html}}}', /not a plain reference/],
    ['bracket keys', "{{ input['a'] }}", /not a plain reference/],
  ])('rejects %s', (_name, text, message) => {
    const parsed = parseTemplate(text);
    expect(parsed).toEqual({ error: expect.stringMatching(message) });
  });

  it('never throws and finds no references in text without "{{"', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const parsed = parseTemplate(text);
        if (!text.includes('{{')) expect(parsed).toEqual({ refs: [] });
      }),
    );
  });
});

describe('stepAliasOf', () => {
  it('names the step a reference reads', () => {
    expect(stepAliasOf('steps.lookup.output.x')).toBe('lookup');
    expect(stepAliasOf('steps.lookup.output')).toBe('lookup');
    expect(stepAliasOf('input.steps')).toBeUndefined();
  });
});

describe('renderTemplate', () => {
  const scope = {
    input: { name: 'Ada', n: 3, ok: false, tags: ['a', 'b'], nested: { x: 1 }, nothing: null },
    context: { company: 'Acme' },
    steps: { lookup: { output: { rows: [{ id: 'r1' }, { id: 'r2' }] } } },
  };

  it('substitutes strings as they are and JSON-stringifies other values', () => {
    expect(renderTemplate('Hi {{ input.name }} of {{context.company}}', scope)).toBe('Hi Ada of Acme');
    expect(renderTemplate('{{input.n}} {{input.ok}} {{input.tags}} {{input.nested}}', scope)).toBe(
      '3 false ["a","b"] {"x":1}',
    );
    expect(renderTemplate('{{input.tags[1]}} {{steps.lookup.output.rows[1].id}}', scope)).toBe('b r2');
  });

  it('renders missing values and null as the empty string', () => {
    expect(
      renderTemplate('[{{input.missing.deeper}}][{{input.nothing}}][{{steps.other.output}}]', scope),
    ).toBe('[][][]');
  });

  it('reads own properties only', () => {
    expect(renderTemplate('[{{input.constructor}}][{{input.name.length}}][{{input.__proto__}}]', scope)).toBe(
      '[][][]',
    );
  });

  it('keeps literal text, including stray closing braces', () => {
    expect(renderTemplate('{"a": {"b": "{{input.name}}"}}', scope)).toBe('{"a": {"b": "Ada"}}');
  });

  it('throws a TemplateError on a malformed template', () => {
    expect(() => renderTemplate('{{ input.a + 1 }}', scope)).toThrow(TemplateError);
    expect(() => renderTemplate('{{ input.a', scope)).toThrow(/unclosed/);
  });

  it('substitutes any string value verbatim', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (value, text) => {
        expect(renderTemplate(`{{input.v}}`, { input: { v: value } })).toBe(value);
        if (!text.includes('{{')) expect(renderTemplate(text, scope)).toBe(text);
      }),
    );
  });
});

describe('renderValue', () => {
  const scope = { input: { items: [1, 2], name: 'Ada', nothing: null }, context: {}, steps: {} };

  it('keeps the type of a value referenced by a lone tag and renders other strings', () => {
    expect(
      renderValue(
        {
          items: '{{ input.items }}',
          greeting: 'Hi {{input.name}}',
          list: ['{{input.name}}', 7],
          flag: true,
        },
        scope,
      ),
    ).toEqual({ items: [1, 2], greeting: 'Hi Ada', list: ['Ada', 7], flag: true });
  });

  it('keeps null, renders missing as the empty string', () => {
    expect(renderValue(['{{input.nothing}}', '{{input.missing}}'], scope)).toEqual([null, '']);
  });

  it('throws on a malformed lone tag', () => {
    expect(() => renderValue({ a: '{{ input.items.length() }}' }, scope)).toThrow(TemplateError);
  });
});
