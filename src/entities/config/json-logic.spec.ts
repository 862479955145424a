import * as jsonLogic from 'json-logic-js';
import { JSON_LOGIC_MAX_DEPTH, JSON_LOGIC_OPERATORS, checkJsonLogic } from './json-logic';

const check = (expression: unknown) => checkJsonLogic(expression, '/logicGate/when');
const pointers = (expression: unknown) => check(expression).map((e) => e.pointer);

describe('JSON_LOGIC_OPERATORS', () => {
  it('are all operators json-logic-js knows', () => {
    for (const op of JSON_LOGIC_OPERATORS) {
      let message = '';
      try {
        jsonLogic.apply({ [op]: [] }, {});
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toMatch(/Unrecognized operation/);
    }
  });

  it('leave out "log" (which json-logic-js knows); what is not listed, json-logic-js rejects', () => {
    expect(() => {
      jsonLogic.apply({ nope: [] }, {});
    }).toThrow(/Unrecognized operation/);
    expect(JSON_LOGIC_OPERATORS.has('log')).toBe(false);
    expect(JSON_LOGIC_OPERATORS.size).toBe(34);
  });
});

describe('checkJsonLogic', () => {
  it.each([
    ['a literal', true],
    ['a number', 42],
    ['an array of literals', [1, 'a', null]],
    ['a variable', { var: 'input.amount' }],
    ['a variable with a default', { var: ['context.tier', 'free'] }],
    ['the whole data', { var: '' }],
    ['unary sugar', { '!': { var: 'input.blocked' } }],
    [
      'nested logic',
      {
        and: [
          { '>': [{ var: 'input.amount' }, 100] },
          { or: [{ '==': [{ var: 'context.tier' }, 'gold'] }, { in: ['vip', { var: 'input.tags' }] }] },
          { if: [{ var: 'input.x' }, true, { '<=': [1, { var: 'input.y' }, 3] }] },
        ],
      },
    ],
    [
      'string and arithmetic',
      { cat: [{ substr: [{ var: 'input.name' }, 0, 3] }, '-', { '+': [1, { '*': [2, 3] }] }] },
    ],
    [
      'missing and missing_some',
      { or: [{ missing: ['input.a', 'input.b'] }, { missing_some: [1, ['input.c', 'context.d']] }] },
    ],
    [
      'per-element logic reads the element',
      { some: [{ var: 'input.items' }, { '>=': [{ var: 'qty' }, 2] }] },
    ],
    [
      'map, filter and reduce',
      {
        reduce: [
          { map: [{ filter: [{ var: 'input.items' }, { var: 'active' }] }, { var: 'price' }] },
          { '+': [{ var: 'current' }, { var: 'accumulator' }] },
          0,
        ],
      },
    ],
  ])('accepts %s', (_name, expression) => {
    expect(check(expression)).toEqual([]);
  });

  it.each([
    ['an unknown operator, at its operation', { and: [true, { nope: [1] }] }, ['/logicGate/when/and/1']],
    ['an unknown operator at the top', { eval: 'process.exit()' }, ['/logicGate/when']],
    ['the log operator', { log: 'x' }, ['/logicGate/when']],
    ['a dotted method call', { 'Math.max': [1, 2] }, ['/logicGate/when']],
    ['an object with two keys', { '==': [1, 1], '!=': [1, 2] }, ['/logicGate/when']],
    ['an empty object', { and: [{}] }, ['/logicGate/when/and/0']],
    ['an operator key that needs escaping', { '/': [1, { 'a/b': 2 }] }, ['/logicGate/when/~1/1']],
    ['unary sugar around a bad operation', { '!': { bad: 1 } }, ['/logicGate/when/!']],
    [
      'a variable outside input and context',
      { '==': [{ var: 'secrets.key' }, 1] },
      ['/logicGate/when/==/0/var'],
    ],
    ['a numeric top-level variable', { var: 0 }, ['/logicGate/when/var']],
    ['a variable with three arguments', { var: ['input.a', 1, 2] }, ['/logicGate/when/var']],
    ['a missing path outside input', { missing: ['input.a', 'env.b'] }, ['/logicGate/when/missing/1']],
    ['map with one argument', { map: [{ var: 'input.items' }] }, ['/logicGate/when/map']],
    [
      'a bad operator inside per-element logic',
      { all: [{ var: 'input.items' }, { bad: [] }] },
      ['/logicGate/when/all/1'],
    ],
  ])('rejects %s', (_name, expression, expected) => {
    const errors = check(expression);
    expect(errors.map((e) => e.pointer)).toEqual(expected);
    expect(errors.every((e) => e.message.length > 0)).toBe(true);
  });

  it('names the unknown operator', () => {
    expect(check({ foo: [] })).toEqual([
      { pointer: '/logicGate/when', message: 'unknown JSONLogic operator "foo"' },
    ]);
  });

  it('stops at its depth limit instead of overflowing the stack', () => {
    let deep: unknown = true;
    for (let i = 0; i < 10_000; i++) deep = { '!': deep };
    const errors = check(deep);
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(`${JSON_LOGIC_MAX_DEPTH} levels`);
  });

  it('accepts other roots when asked', () => {
    expect(checkJsonLogic({ var: 'steps.a' }, '', { roots: ['steps'] })).toEqual([]);
    expect(pointers({ var: 'steps.a' })).toEqual(['/logicGate/when/var']);
  });
});
