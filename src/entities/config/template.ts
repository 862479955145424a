/**
 * Mustache-style templates of prompts, URLs, bodies and mappings: `{{ path }}`
 * where path is `input…`, `context…` or `steps.<alias>.output…`, continued by
 * `.identifier` or `[index]` segments. No sections, partials, filters or
 * expressions: a tag is a plain reference, so rendering can never run code.
 *
 * A `{{` must be closed by `}}` before the next `{{`; a stray `}}` outside a tag is
 * literal text (as in Mustache), so JSON examples in prompts stay legal.
 */

/** A path segment: letters, digits, `_` and inner `-`, not starting with a digit or `-`. */
const SEGMENT = '[A-Za-z_][A-Za-z0-9_-]*';
const PATH = `(?:\\.${SEGMENT}|\\[[0-9]{1,9}\\])*`;
const REFERENCE = new RegExp(`^(?:input|context|steps\\.${SEGMENT}\\.output)${PATH}$`);
const STEP_REFERENCE = new RegExp(`^steps\\.(${SEGMENT})(?:$|[.[])`);
/** A string that is one tag and nothing else. */
const SINGLE_TAG = /^\{\{([^{}]*)\}\}$/;

export const TEMPLATE_ROOTS = ['input', 'context', 'steps'] as const;

export type TemplateParse = { refs: string[] } | { error: string };

export interface TemplateScope {
  input?: unknown;
  context?: unknown;
  /** Outputs of earlier steps (or child runs) by alias: `{ [alias]: { output } }`. */
  steps?: Readonly<Record<string, { output?: unknown } | undefined>>;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Part = { text: string } | { ref: string };

function describe(ref: string): string {
  if (!ref) return 'an empty tag';
  return `"{{ ${ref.length > 60 ? `${ref.slice(0, 57)}...` : ref} }}"`;
}

function referenceError(ref: string): string | undefined {
  if (REFERENCE.test(ref)) return undefined;
  if (!ref) return 'an empty tag "{{}}" is not allowed';
  if (
    /^steps\.[A-Za-z_][A-Za-z0-9_-]*$/.test(ref) ||
    /^steps\.[A-Za-z_][A-Za-z0-9_-]*[.[](?!output\b)/.test(ref)
  ) {
    return `${describe(ref)}: a step reference reads its output: steps.<alias>.output…`;
  }
  return `${describe(ref)} is not a plain reference: use input.<path>, context.<path> or steps.<alias>.output.<path> (dotted names or [n] indexes, no expressions)`;
}

function split(text: string): Part[] | { error: string } {
  const parts: Part[] = [];
  let from = 0;
  for (;;) {
    const open = text.indexOf('{{', from);
    if (open < 0) break;
    const close = text.indexOf('}}', open + 2);
    const reopen = text.indexOf('{{', open + 2);
    if (close < 0) return { error: `unclosed "{{" at position ${open}` };
    if (reopen >= 0 && reopen < close)
      return { error: `"{{" at position ${reopen} opens inside another tag` };
    const ref = text.slice(open + 2, close).trim();
    const error = referenceError(ref);
    if (error) return { error };
    if (open > from) parts.push({ text: text.slice(from, open) });
    parts.push({ ref });
    from = close + 2;
  }
  if (from < text.length) parts.push({ text: text.slice(from) });
  return parts;
}

/** The references of a template, in order, or why it is not a valid template. */
export function parseTemplate(text: string): TemplateParse {
  const parts = split(text);
  if (!Array.isArray(parts)) return parts;
  return { refs: parts.flatMap((part) => ('ref' in part ? [part.ref] : [])) };
}

/** The alias a `steps.<alias>.output…` reference reads, else undefined. */
export function stepAliasOf(ref: string): string | undefined {
  return STEP_REFERENCE.exec(ref)?.[1];
}

/** The value a (valid) reference points at in the scope; undefined when any segment is missing. */
export function resolveReference(ref: string, scope: TemplateScope): unknown {
  const segments = ref.match(/[^.[\]]+|\[[0-9]+\]/g) ?? [];
  let current: unknown = scope;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null) return undefined;
    const key = segment.startsWith('[') ? segment.slice(1, -1) : segment;
    if (!Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return typeof value === 'bigint' ? value.toString() : ''; // a BigInt or a cycle: not JSON
  }
}

/**
 * Substitutes every tag: strings as they are, other values JSON-stringified,
 * missing values (and null) as the empty string. Throws TemplateError on a
 * malformed template (configs are validated on write, so that means a bug).
 */
export function renderTemplate(text: string, scope: TemplateScope): string {
  const parts = split(text);
  if (!Array.isArray(parts)) throw new TemplateError(parts.error);
  return parts
    .map((part) => ('ref' in part ? stringify(resolveReference(part.ref, scope)) : part.text))
    .join('');
}

/**
 * Renders every string inside a JSON value (a step input mapping, an HTTP body,
 * builtin args). A string that is exactly one tag (`"{{input.items}}"`) takes the
 * referenced value itself, keeping its JSON type (null stays null, missing → ""); any other string
 * is rendered with renderTemplate. Object keys are not templated.
 */
export function renderValue(value: unknown, scope: TemplateScope): unknown {
  if (typeof value === 'string') {
    const single = SINGLE_TAG.exec(value);
    if (single) {
      const ref = single[1].trim();
      const error = referenceError(ref);
      if (error) throw new TemplateError(error);
      const resolved = resolveReference(ref, scope);
      return resolved === undefined ? '' : resolved;
    }
    return renderTemplate(value, scope);
  }
  if (Array.isArray(value)) return value.map((item) => renderValue(item, scope));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, scope)]));
  }
  return value;
}
