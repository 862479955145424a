// The egress guard: outbound HTTP made on behalf of tenants (http actions, webhooks)
// goes through guardedFetch, an SSRF-safe fetch.
//
// - Only http: and https:, URLs parsed with WHATWG URL (so '127.1', '0x7f000001',
//   '2130706433' and '[::ffff:127.0.0.1]' are seen as the address they really are).
// - The hostname is resolved here and EVERY address must be public unicast, unless the
//   operator listed that exact host:port (EGRESS_ALLOW_PRIVATE_HOSTS). Cloud metadata
//   hostnames are refused outright.
// - The connection goes to the addresses that were checked (the socket's DNS lookup
//   is answered with them), so a DNS rebinding between check and connect changes
//   nothing; TLS still verifies the certificate against the URL's hostname (SNI too).
// - Redirects are followed here, by hand, each Location re-checked from scratch.
// - One deadline for the whole exchange (DNS, connect, redirects, body), a byte cap on
//   the streamed body.
import { type LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import {
  classifyAddress,
  isLocalhostName,
  isMetadataHost,
  matchesAllowPrivate,
  matchesAllowedHosts,
  normaliseHostname,
} from './host-rules';

export interface EgressPolicy {
  /** From the entity's governance.allowedHosts: when non-empty, only these hostnames (exact, or '*.example.com' suffix wildcard) may be called. Can never open private addresses. */
  allowedHosts?: readonly string[];
  /** Operator escape hatch (env EGRESS_ALLOW_PRIVATE_HOSTS): 'host:port' entries (e.g. '127.0.0.1:3000', 'localhost:8080', '[::1]:9000') that may be reached even though they resolve to loopback/private addresses. */
  allowPrivate?: readonly string[];
}

export interface EgressLimits {
  /** Deadline for the whole exchange: DNS, connect, every redirect hop, the body. */
  timeoutMs: number;
  /** Cap on the (undecoded) response body of the final response. */
  maxResponseBytes: number;
  /** Redirects followed; one more is refused with TOO_MANY_REDIRECTS. */
  maxRedirects: number;
}

export interface EgressRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface EgressResponse {
  status: number;
  /** Lowercased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  /** Parsed JSON when the content-type is JSON and it parses, else the text. */
  body: unknown;
  /** Size of the body as received. */
  bytes: number;
  /** Final URL after redirects. */
  url: string;
}

export type EgressRefusalReason =
  | 'INVALID_URL'
  | 'SCHEME_NOT_ALLOWED'
  | 'HOST_NOT_ALLOWED'
  | 'PRIVATE_ADDRESS'
  | 'TOO_MANY_REDIRECTS'
  | 'RESPONSE_TOO_LARGE'
  | 'TIMEOUT';

/** The guard said no (policy or limit). Network failures are not wrapped: they surface as thrown by Node/undici. */
export class EgressRefused extends Error {
  constructor(
    readonly reason: EgressRefusalReason,
    message: string,
  ) {
    super(message);
    this.name = 'EgressRefused';
  }
}

/** EGRESS_ALLOW_PRIVATE_HOSTS: comma-separated 'host:port' entries; trimmed, empties dropped. */
export function parseAllowPrivate(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Never forwarded: hop-by-hop, framing (undici computes it), and Host (taken from the URL). */
const STRIPPED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
  'http2-settings',
]);

/** Dropped when a redirect leaves the origin, so credentials meant for A never reach B. */
const CREDENTIAL_HEADERS: readonly string[] = ['authorization', 'cookie'];

/** Dropped when a redirect turns the request into a body-less GET. */
const BODY_HEADERS: readonly string[] = [
  'content-type',
  'content-encoding',
  'content-language',
  'content-location',
];

interface VettedTarget {
  url: URL;
  /** Normalised hostname (no brackets, no trailing dot). */
  hostname: string;
  /** Addresses the socket may connect to, all checked. */
  addresses: LookupAddress[];
}

/**
 * SSRF-safe HTTP call. Throws EgressRefused (policy or limit) before any connection is
 * made to a refused target; other errors (connection refused, TLS, DNS NXDOMAIN) are
 * rethrown as they come.
 */
export async function guardedFetch(
  request: EgressRequest,
  policy: EgressPolicy,
  limits: EgressLimits,
): Promise<EgressResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  const { signal } = controller;
  try {
    return await followRedirects(request, policy, limits, signal);
  } catch (error) {
    if (error instanceof EgressRefused) throw error;
    if (signal.aborted) {
      throw new EgressRefused('TIMEOUT', `No complete response within ${limits.timeoutMs} ms.`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

async function followRedirects(
  initial: EgressRequest,
  policy: EgressPolicy,
  limits: EgressLimits,
  signal: AbortSignal,
): Promise<EgressResponse> {
  let method = initial.method.toUpperCase();
  let body = initial.body;
  let headers = sanitiseHeaders(initial.headers ?? {});
  let target = await vet(parseTarget(initial.url), policy, signal);

  for (let redirects = 0; ; redirects++) {
    const agent = pinnedAgent(target);
    try {
      const response = await request(target.url, {
        dispatcher: agent,
        method,
        headers,
        body: body ?? null,
        signal,
      });

      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(response.statusCode) && location !== undefined) {
        if (redirects >= limits.maxRedirects) {
          throw new EgressRefused('TOO_MANY_REDIRECTS', `More than ${limits.maxRedirects} redirects.`);
        }
        const next = parseTarget(Array.isArray(location) ? location[0] : location, target.url);
        if (response.statusCode === 301 || response.statusCode === 302 || response.statusCode === 303) {
          if (method !== 'HEAD') method = 'GET';
          body = undefined;
          headers = without(headers, BODY_HEADERS);
        }
        if (next.origin !== target.url.origin) headers = without(headers, CREDENTIAL_HEADERS);
        // The full policy again, before anything is sent to the new location.
        target = await vet(next, policy, signal);
        continue;
      }

      const declared = Number(firstHeader(response.headers['content-length']));
      if (Number.isFinite(declared) && declared > limits.maxResponseBytes) {
        throw tooLarge(limits.maxResponseBytes);
      }
      const raw = await readCapped(response.body, limits.maxResponseBytes);
      const responseHeaders = flattenHeaders(response.headers);
      return {
        status: response.statusCode,
        headers: responseHeaders,
        body: decodeBody(raw, responseHeaders['content-type']),
        bytes: raw.length,
        url: target.url.href,
      };
    } finally {
      // Per-hop agent: its sockets die with it, whatever was left unread.
      await agent.destroy().catch(() => undefined);
    }
  }
}

function parseTarget(raw: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new EgressRefused('INVALID_URL', 'Not a valid URL.');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EgressRefused(
      'SCHEME_NOT_ALLOWED',
      `Scheme ${url.protocol} is not allowed; only http and https.`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new EgressRefused('INVALID_URL', 'URLs with embedded credentials are not allowed; use a header.');
  }
  if (url.hostname === '') throw new EgressRefused('INVALID_URL', 'The URL has no host.');
  url.hash = '';
  return url;
}

function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** The whole policy for one URL, in order: metadata names, allowedHosts (no DNS yet), then addresses. */
async function vet(url: URL, policy: EgressPolicy, signal: AbortSignal): Promise<VettedTarget> {
  const hostname = normaliseHostname(url.hostname);
  if (isMetadataHost(hostname)) {
    throw new EgressRefused('PRIVATE_ADDRESS', `${hostname} is a cloud metadata host.`);
  }
  if (!matchesAllowedHosts(hostname, policy.allowedHosts)) {
    throw new EgressRefused('HOST_NOT_ALLOWED', `${hostname} is not in the allowed hosts.`);
  }
  const port = effectivePort(url);
  const privateAllowed = matchesAllowPrivate(hostname, port, policy.allowPrivate);

  let addresses: LookupAddress[];
  const family = isIP(hostname);
  if (family !== 0) {
    addresses = [{ address: hostname, family }];
  } else if (isLocalhostName(hostname) && !privateAllowed) {
    throw new EgressRefused('PRIVATE_ADDRESS', `${hostname}:${port} is a loopback host.`);
  } else {
    addresses = await resolve(hostname, signal);
  }

  if (!privateAllowed) {
    for (const { address } of addresses) {
      const klass = classifyAddress(address);
      if (!klass.public) {
        throw new EgressRefused(
          'PRIVATE_ADDRESS',
          `${hostname}:${port} resolves to ${klass.normalised} (${klass.range}), which is not a public address.`,
        );
      }
    }
  }
  return { url, hostname, addresses };
}

async function resolve(hostname: string, signal: AbortSignal): Promise<LookupAddress[]> {
  signal.throwIfAborted();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    const addresses = await Promise.race([dnsLookup(hostname, { all: true, order: 'verbatim' }), aborted]);
    if (addresses.length === 0) {
      throw Object.assign(new Error(`No address for ${hostname}.`), { code: 'ENOTFOUND' });
    }
    return addresses;
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * An agent whose sockets can only reach the vetted addresses: the socket's lookup is
 * answered from them (no second DNS query). The URL keeps the hostname, so the Host
 * header, SNI and certificate verification all use it.
 */
function pinnedAgent(target: VettedTarget): Agent {
  const lookup = (
    hostname: string,
    options: { all?: boolean; family?: number | string },
    callback: LookupCallback,
  ) => {
    if (normaliseHostname(hostname) !== target.hostname) {
      const error: NodeJS.ErrnoException = new Error(`Unexpected lookup of ${hostname}.`);
      error.code = 'ENOTFOUND';
      callback(error, []);
      return;
    }
    const wanted =
      options.family === 6 || options.family === 'IPv6'
        ? 6
        : options.family === 4 || options.family === 'IPv4'
          ? 4
          : 0;
    const candidates = wanted === 0 ? target.addresses : target.addresses.filter((a) => a.family === wanted);
    if (candidates.length === 0) {
      const error: NodeJS.ErrnoException = new Error(`No vetted IPv${wanted} address for ${hostname}.`);
      error.code = 'ENOTFOUND';
      callback(error, []);
      return;
    }
    if (options.all) callback(null, candidates);
    else callback(null, candidates[0].address, candidates[0].family);
  };
  return new Agent({ connect: { lookup, allowH2: false }, pipelining: 0 });
}

function sanitiseHeaders(input: Record<string, string>): Record<string, string> {
  const named = new Set(STRIPPED_REQUEST_HEADERS);
  for (const [name, value] of Object.entries(input)) {
    if (name.toLowerCase() === 'connection') {
      for (const token of value.split(',')) named.add(token.trim().toLowerCase());
    }
  }
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(input)) {
    const key = name.toLowerCase();
    if (!named.has(key)) out[key] = value;
  }
  return out;
}

function without(headers: Record<string, string>, names: readonly string[]): Record<string, string> {
  const out = { ...headers };
  for (const name of names) delete out[name];
  return out;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function tooLarge(max: number): EgressRefused {
  return new EgressRefused('RESPONSE_TOO_LARGE', `The response body exceeds ${max} bytes.`);
}

async function readCapped(
  body: AsyncIterable<Buffer> & { destroy(): unknown },
  max: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > max) {
      body.destroy();
      throw tooLarge(max);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function decodeBody(raw: Buffer, contentType: string | undefined): unknown {
  const text = raw.toString('utf8');
  const mediaType = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * Checks now a URL the platform will call later with a secret (a registry base URL):
 * http(s), no embedded credentials, and only public addresses unless the operator's
 * allow-list opens it. Throws EgressRefused; DNS failures too, as HOST_NOT_ALLOWED.
 */
export async function assertEgressAllowed(
  raw: string,
  policy: EgressPolicy,
  timeoutMs = 5_000,
): Promise<void> {
  const url = parseTarget(raw);
  try {
    await vet(url, policy, AbortSignal.timeout(timeoutMs));
  } catch (error) {
    if (error instanceof EgressRefused) throw error;
    throw new EgressRefused('HOST_NOT_ALLOWED', `${url.hostname} could not be resolved.`);
  }
}
