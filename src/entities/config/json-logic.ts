import type { FieldError } from '../../infra/http/domain-error';
import { joinPointer } from './json-pointer';

/**
 * The operators of json-logic-js 2.0.5 (node_modules/json-logic-js/logic.js: the
 * `operations` table plus the control operators `apply` handles itself), minus
 * `log`, which writes to the worker's console and would bypass log redaction.
 * No custom operations are ever registered, and the dotted `a.b` method syntax
 * is refused, so an expression can only compute, never act.
 */
export const JSON_LOGIC_OPERATORS: ReadonlySet<string> = new Set([
  // control (handled inside jsonLogic.apply)
  'if',
  '?:',
  'and',
  'or',
  'filter',
  'map',
  'reduce',
  'all',
  'none',
  'some',
  // the operations table
  '==',
  '===',
  '!=',
  '!==',
  '>',
  '>=',
  '<',
  '<=',
  '!!',
  '!',
  '%',
  'in',
  'cat',
  'substr',
  '+',
  '*',
  '-',
  '/',
  'min',
  'max',
  'merge',
  'var',
  'missing',
  'missing_some',
]);

/** Operators whose second argument is evaluated once per array element, with the element as data. */
const SCOPED = new Set(['filter', 'map', 'reduce', 'all', 'none', 'some']);

export const JSON_LOGIC_MAX_DEPTH = 64;

export interface JsonLogicOptions {
  /**
   * First path segments `var` / `missing` may read at the top level (outside the
   * per-element logic of map, filter, ...). Default: `input` and `context`, the data
   * a logic gate sees. An empty path (the whole data) is always allowed.
   */
  roots?: readonly string[];
}

/**
 * Checks that a value is a JSONLogic expression json-logic-js can evaluate: every
 * object is an operation with exactly one key, a known operator, arguments that
 * are expressions in turn, and `var` paths rooted in the data the gate sees.
 * Never evaluates anything. Pointers address the offending operation (or argument).
 */
export function checkJsonLogic(
  expression: unknown,
  pointer: string,
  options: JsonLogicOptions = {},
): FieldError[] {
  const roots = new Set(options.roots ?? ['input', 'context']);
  const errors: FieldError[] = [];

  const checkPath = (path: unknown, at: string) => {
    if (typeof path === 'number') {
      errors.push({
        pointer: at,
        message: `a top-level variable must be a path such as "input.x", not ${path}`,
      });
    } else if (typeof path === 'string' && path !== '' && !roots.has(path.split('.')[0])) {
      errors.push({
        pointer: at,
        message: `variable "${path}" must start with ${[...roots].map((r) => `"${r}"`).join(' or ')}`,
      });
    }
  };

  const walk = (node: unknown, at: string, scoped: boolean, depth: number): void => {
    if (depth > JSON_LOGIC_MAX_DEPTH) {
      errors.push({ pointer: at, message: `expression nested deeper than ${JSON_LOGIC_MAX_DEPTH} levels` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((item, i) => walk(item, joinPointer(at, i), scoped, depth + 1));
      return;
    }
    if (typeof node !== 'object' || node === null) return;

    const keys = Object.keys(node);
    if (keys.length !== 1) {
      errors.push({
        pointer: at,
        message: keys.length
          ? `a JSONLogic operation has exactly one key (its operator), found ${keys.length}: ${keys.slice(0, 5).join(', ')}`
          : 'an empty object is not a JSONLogic expression',
      });
      return;
    }
    const op = keys[0];
    if (!JSON_LOGIC_OPERATORS.has(op)) {
      errors.push({
        pointer: at,
        message:
          op === 'log'
            ? 'the JSONLogic "log" operator is not allowed'
            : `unknown JSONLogic operator "${op.length > 40 ? `${op.slice(0, 37)}...` : op}"`,
      });
      return;
    }

    const raw = (node as Record<string, unknown>)[op];
    const argsAt = joinPointer(at, op);
    const args = Array.isArray(raw) ? raw : [raw];
    const argAt = (i: number) => (Array.isArray(raw) ? joinPointer(argsAt, i) : argsAt);

    if (op === 'var') {
      if (args.length > 2)
        errors.push({ pointer: argsAt, message: '"var" takes a path and an optional default' });
      if (!scoped && args.length) checkPath(args[0], argAt(0));
    } else if (op === 'missing' && !scoped) {
      args.forEach((path, i) => checkPath(path, argAt(i)));
    } else if (op === 'missing_some' && !scoped && Array.isArray(args[1])) {
      args[1].forEach((path, i) => checkPath(path, joinPointer(argAt(1), i)));
    } else if (SCOPED.has(op)) {
      const expected = op === 'reduce' ? '2 or 3' : '2';
      if (args.length < 2 || args.length > (op === 'reduce' ? 3 : 2)) {
        errors.push({
          pointer: argsAt,
          message: `"${op}" takes ${expected} arguments, found ${args.length}`,
        });
      }
    }
    args.forEach((arg, i) => walk(arg, argAt(i), scoped || (SCOPED.has(op) && i === 1), depth + 1));
  };

  walk(expression, pointer, false, 0);
  return errors;
}
