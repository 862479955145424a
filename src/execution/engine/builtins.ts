import jsonata from 'jsonata';
import { all, create } from 'mathjs';
import { renderTemplate, renderValue, type TemplateScope } from '../../entities/config/template';
import { RunFailure } from '../execution.errors';

// mathjs with the functions that could reach outside an expression disabled (its own
// security guidance): an expression computes a value and nothing else.
const math = create(all);
const evaluate = math.evaluate.bind(math);
const disabled = () => {
  throw new Error('this function is disabled');
};
math.import(
  {
    import: disabled,
    createUnit: disabled,
    evaluate: disabled,
    parse: disabled,
    simplify: disabled,
    derivative: disabled,
    resolve: disabled,
    reviver: disabled,
  },
  { override: true },
);

export type BuiltinName = 'time.now' | 'text.template' | 'json.transform' | 'math.evaluate';

/**
 * The builtin tools of ACTIONs. Arguments are templated first ({{input.x}} …).
 * None of them executes code from the configuration: templates substitute,
 * JSONata and mathjs interpret their own small languages.
 */
export async function runBuiltin(
  name: BuiltinName,
  rawArgs: unknown,
  scope: TemplateScope,
): Promise<unknown> {
  const args = (renderValue(rawArgs ?? {}, scope) ?? {}) as Record<string, unknown>;
  switch (name) {
    case 'time.now':
      return new Date().toISOString();
    case 'text.template': {
      const template = (rawArgs as { template?: unknown } | undefined)?.template;
      return renderTemplate(typeof template === 'string' ? template : '', scope);
    }
    case 'json.transform': {
      const expression = jsonata(String(args.expression));
      return expression.evaluate(args.data ?? scope.input);
    }
    case 'math.evaluate': {
      const result: unknown = evaluate(String(args.expression), {
        ...((args.scope as object | undefined) ?? {}),
      });
      const value = typeof result === 'number' ? result : Number(result);
      if (!Number.isFinite(value))
        throw new RunFailure('TOOL_ERROR', `math.evaluate did not produce a finite number`);
      return value;
    }
  }
}
