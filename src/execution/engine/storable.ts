/**
 * A value with every NUL character (U+0000) in its strings and keys replaced by
 * U+FFFD. Postgres cannot store NUL in text or jsonb, and a tool's answer (an HTTP
 * body) may carry one: stored as is, the run's end would be refused, and a retried job
 * would call the tool again and again. A value without NUL comes back as it was (the
 * same object), so the common case copies nothing.
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string')
    return (value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value) as T;
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) => storable(item));
    return (items.some((item, i) => item !== value[i]) ? items : value) as T;
  }
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value);
    const cleaned = entries.map(([key, item]) => [storable(key), storable(item as unknown)] as const);
    const changed = cleaned.some(([key, item], i) => key !== entries[i][0] || item !== entries[i][1]);
    return (changed ? Object.fromEntries(cleaned) : value) as T;
  }
  return value;
}
