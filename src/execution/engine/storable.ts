/**
 * A value with every NUL character (U+0000) in its strings and keys replaced by
 * U+FFFD. Postgres cannot store NUL in text or jsonb, and a tool's answer (an HTTP
 * body) may carry one: stored as is, the run's end would be refused, and a retried job
 * would call the tool again and again.
 */
export function storable<T>(value: T): T {
  if (typeof value === 'string')
    return (value.includes('\u0000') ? value.replaceAll('\u0000', '\ufffd') : value) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => storable(item)) as T;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [storable(key), storable(item as unknown)]),
    ) as T;
  }
  return value;
}
