import { isIPv4, isIPv6 } from 'node:net';
import type AjvCore from 'ajv/dist/core';

/**
 * The string formats the configuration schemas use (`ajv-formats` is not a
 * dependency): small, predictable checks with no backtracking-prone patterns.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const EMAIL_LOCAL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$/;
const HOST_LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME = /^([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A DNS hostname (RFC 1123): dot-separated labels of letters, digits and inner hyphens, ≤ 253 characters. */
export function isHostname(value: string): boolean {
  return value.length > 0 && value.length <= 253 && value.split('.').every((label) => HOST_LABEL.test(label));
}

/** `local@domain` with a dotted domain: what a mailer can deliver to, not every RFC 5322 oddity. */
export function isEmail(value: string): boolean {
  if (value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at < 1) return false;
  const domain = value.slice(at + 1);
  return EMAIL_LOCAL.test(value.slice(0, at)) && domain.includes('.') && isHostname(domain);
}

/** An absolute URI (a scheme, then something WHATWG URL accepts), without whitespace. */
export function isUri(value: string): boolean {
  return URI_SCHEME.test(value) && !/\s/.test(value) && URL.canParse(value);
}

function isDate(value: string): boolean {
  const match = DATE.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function isDateTime(value: string): boolean {
  const split = value.search(/[Tt ]/);
  return split === 10 && isDate(value.slice(0, split)) && TIME.test(value.slice(split + 1));
}

/** Formats of the configuration blocks themselves. */
export const CONFIG_FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  uuid: isUuid,
  email: isEmail,
  uri: isUri,
  hostname: isHostname,
};

/** Formats honoured in user-supplied `ioContract` schemas (others are annotations only). */
export const CONTRACT_FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  ...CONFIG_FORMATS,
  date: isDate,
  time: (value) => TIME.test(value),
  'date-time': isDateTime,
  ipv4: (value) => isIPv4(value),
  ipv6: (value) => isIPv6(value),
};

export function addFormats(
  ajv: AjvCore,
  formats: Readonly<Record<string, (value: string) => boolean>>,
): void {
  for (const [name, validate] of Object.entries(formats)) ajv.addFormat(name, { type: 'string', validate });
}
