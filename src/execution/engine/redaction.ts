/** Values at the `observability.redact` JSON pointers of {input, context}, to be
 *  blanked out of every log row (prompts included, since templates copy them in). */
export function redactedValues(pointers: unknown, facts: { input: unknown; context: unknown }): string[] {
  if (!Array.isArray(pointers)) return [];
  const values: string[] = [];
  for (const pointer of pointers) {
    if (typeof pointer !== 'string') continue;
    let node: unknown = facts;
    for (const raw of pointer.split('/').slice(1)) {
      const key = raw.replaceAll('~1', '/').replaceAll('~0', '~');
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
    if (typeof node === 'string' && node.length > 0) values.push(node);
    else if (typeof node === 'number') values.push(String(node));
  }
  return values;
}

/** A deep copy of `value` with every redacted value replaced by "[REDACTED]". */
export function redact<T>(value: T, secrets: readonly string[]): T {
  if (!secrets.length) return value;
  let text = JSON.stringify(value);
  for (const secret of secrets) text = text.split(JSON.stringify(secret).slice(1, -1)).join('[REDACTED]');
  return JSON.parse(text) as T;
}
