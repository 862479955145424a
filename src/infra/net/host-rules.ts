// Pure host and address rules behind the egress guard (egress.ts): hostname
// normalisation, the allowedHosts narrowing, the operator's private host:port list
// and the classification of resolved addresses. No I/O here.
import ipaddr from 'ipaddr.js';

/** Cloud metadata hostnames, refused whatever they resolve to. */
const METADATA_HOSTS: ReadonlySet<string> = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
]);

/**
 * Lowercases, drops IPv6 brackets and a trailing root dot, so that 'Example.COM.',
 * 'example.com' and '[::1]' / '::1' compare equal. Expects a WHATWG-parsed hostname
 * (IP literals already canonical: '127.1' became '127.0.0.1').
 */
export function normaliseHostname(hostname: string): string {
  let host = hostname.trim().toLowerCase();
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  while (host.endsWith('.')) host = host.slice(0, -1);
  return host;
}

/** Parses a bare host (name or IP literal, IPv6 in brackets) the way a URL would. */
function parseBareHost(host: string): string | null {
  if (host === '' || /[/?#@\s]/.test(host)) return null;
  try {
    return normaliseHostname(new URL(`http://${host}/`).hostname);
  } catch {
    return null;
  }
}

export function isMetadataHost(hostname: string): boolean {
  return METADATA_HOSTS.has(normaliseHostname(hostname));
}

/** 'localhost' and '*.localhost' are loopback by definition (RFC 6761). */
export function isLocalhostName(hostname: string): boolean {
  const host = normaliseHostname(hostname);
  return host === 'localhost' || host.endsWith('.localhost');
}

/**
 * allowedHosts narrowing: true when the list is empty, or the hostname equals an
 * entry, or an entry is '*.suffix' and the hostname is a strict subdomain of suffix
 * (the apex does not match). Case-insensitive, trailing dots ignored.
 */
export function matchesAllowedHosts(hostname: string, allowedHosts: readonly string[] | undefined): boolean {
  if (!allowedHosts || allowedHosts.length === 0) return true;
  const host = normaliseHostname(hostname);
  for (const raw of allowedHosts) {
    const entry = raw.trim();
    if (entry.startsWith('*.')) {
      const suffix = parseBareHost(entry.slice(2));
      if (suffix && host.length > suffix.length && host.endsWith(`.${suffix}`)) return true;
    } else {
      const exact = parseBareHost(entry);
      if (exact !== null && exact === host) return true;
    }
  }
  return false;
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parses one 'host:port' entry ('127.0.0.1:3000', 'localhost:8080', '[::1]:9000').
 * The port is mandatory; anything unparseable gives null (and so never matches).
 */
export function parseHostPort(entry: string): HostPort | null {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(entry.trim());
  if (!match) return null;
  const host = parseBareHost(match[1]);
  const port = Number(match[2]);
  if (host === null || port < 1 || port > 65_535) return null;
  return { host, port };
}

/** Whether host:port (normalised hostname, effective port) is in the operator's list. */
export function matchesAllowPrivate(
  hostname: string,
  port: number,
  allowPrivate: readonly string[] | undefined,
): boolean {
  if (!allowPrivate || allowPrivate.length === 0) return false;
  const host = normaliseHostname(hostname);
  return allowPrivate.some((entry) => {
    const parsed = parseHostPort(entry);
    return parsed !== null && parsed.host === host && parsed.port === port;
  });
}

export interface AddressClass {
  /** True only for ordinary public unicast addresses. */
  public: boolean;
  /** ipaddr.js range name ('unicast', 'loopback', 'private', 'linkLocal', ...) or 'invalid'. */
  range: string;
  /** The address as classified (IPv4-mapped IPv6 unwrapped to IPv4). */
  normalised: string;
}

/**
 * Classifies one IP address. IPv4-mapped IPv6 ('::ffff:127.0.0.1') is unwrapped first,
 * so it is judged as the IPv4 address it reaches. Everything that is not plain
 * 'unicast' is non-public: loopback, private, linkLocal (169.254.169.254 included),
 * uniqueLocal, unspecified, broadcast, carrierGradeNat, multicast, reserved, and the
 * transition ranges (6to4, teredo, NAT64) whose embedded IPv4 could be anything.
 */
export function classifyAddress(address: string): AddressClass {
  let parsed;
  try {
    parsed = ipaddr.process(normaliseHostname(address));
  } catch {
    return { public: false, range: 'invalid', normalised: address };
  }
  const range = parsed.range();
  return { public: range === 'unicast', range, normalised: parsed.toString() };
}
