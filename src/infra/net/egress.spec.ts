import dnsPromises from 'node:dns/promises';
import http from 'node:http';
import net from 'node:net';
import { type AddressInfo } from 'node:net';
import {
  EgressRefused,
  guardedFetch,
  parseAllowPrivate,
  type EgressLimits,
  type EgressPolicy,
} from './egress';
import { classifyAddress, matchesAllowedHosts, matchesAllowPrivate, parseHostPort } from './host-rules';

// Only loopback exists here. Every refusal must happen before a socket is opened:
// net.connect (what undici uses for http and, underneath, https) and DNS are spied on.
// DNS answers come from `dnsAnswers`; any other name fails the test instead of leaving.

interface TestServer {
  port: number;
  hits: string[];
  close(): Promise<void>;
}

const limits: EgressLimits = { timeoutMs: 5_000, maxResponseBytes: 64 * 1024, maxRedirects: 5 };

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function track(server: net.Server): () => Promise<void> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
}

async function startHttp(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void,
) {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  const close = track(server);
  const port = await listen(server);
  return { port, hits, close } satisfies TestServer;
}

let main: TestServer; // the allowed local server
let forbidden: TestServer; // a loopback server nobody lists
let tlsProbe: { port: number; received: Buffer[]; close(): Promise<void> };
let policy: EgressPolicy;

const dnsAnswers = new Map<string, { address: string; family: number }[]>();
let lookupSpy: jest.SpyInstance;
let connectSpy: jest.SpyInstance;

beforeAll(async () => {
  forbidden = await startHttp((_req, res) => res.end('should never be reached'));
  main = await startHttp((req, res, body) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/json':
        res.writeHead(201, { 'content-type': 'application/json; charset=utf-8', 'x-trace': 'abc' });
        res.end(JSON.stringify({ ok: true, n: 2 }));
        return;
      case '/text':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('hello');
        return;
      case '/bad-json':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{nope');
        return;
      case '/missing':
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not here');
        return;
      case '/echo':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, headers: req.headers, body }));
        return;
      case '/to-forbidden':
        res.writeHead(302, { location: `http://127.0.0.1:${forbidden.port}/secret` });
        res.end();
        return;
      case '/to-metadata':
        res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' });
        res.end();
        return;
      case '/to-file':
        res.writeHead(302, { location: 'file:///etc/passwd' });
        res.end();
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' });
        res.end();
        return;
      case '/chain': {
        const left = Number(url.searchParams.get('left'));
        res.writeHead(302, { location: left > 0 ? `/chain?left=${left - 1}` : '/json' });
        res.end();
        return;
      }
      case '/r303':
        res.writeHead(303, { location: '/echo' });
        res.end();
        return;
      case '/r307':
        res.writeHead(307, { location: '/echo' });
        res.end();
        return;
      case '/cross-origin':
        res.writeHead(302, { location: `http://other.test:${main.port}/echo` });
        res.end();
        return;
      case '/hang':
        return; // never answers
      case '/stall-body':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('partial');
        return; // never ends
      case '/big':
        res.writeHead(200, { 'content-type': 'text/plain' });
        for (let i = 0; i < 10; i++) res.write('x'.repeat(1_000));
        res.end();
        return;
      case '/big-declared':
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '10000' });
        res.end('x'.repeat(10_000));
        return;
      default:
        res.writeHead(500);
        res.end();
    }
  });

  // A TCP listener that records what a TLS client sends first (the ClientHello,
  // which carries the SNI in clear), then hangs up.
  const received: Buffer[] = [];
  const probe = net.createServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      received.push(chunk);
      socket.destroy();
    });
  });
  const closeProbe = track(probe);
  tlsProbe = { port: await listen(probe), received, close: closeProbe };

  policy = { allowPrivate: [`127.0.0.1:${main.port}`, `other.test:${main.port}`] };
});

afterAll(async () => {
  await Promise.all([main?.close(), forbidden?.close(), tlsProbe?.close()]);
});

beforeEach(() => {
  dnsAnswers.clear();
  lookupSpy = jest.spyOn(dnsPromises, 'lookup').mockImplementation(((hostname: string) => {
    const answer = dnsAnswers.get(hostname);
    if (!answer) return Promise.reject(new Error(`test: unexpected DNS lookup of ${hostname}`));
    return Promise.resolve(answer);
  }) as unknown as typeof dnsPromises.lookup);
  connectSpy = jest.spyOn(net, 'connect');
});

afterEach(() => {
  jest.restoreAllMocks();
});

async function refusal(promise: Promise<unknown>): Promise<EgressRefused> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EgressRefused);
  return error as EgressRefused;
}

describe('the SSRF corpus is refused before any connection', () => {
  const cases: [string, (port: number) => string, string][] = [
    ['loopback', (p) => `http://127.0.0.1:${p}/`, 'PRIVATE_ADDRESS'],
    ['short loopback', (p) => `http://127.1:${p}/`, 'PRIVATE_ADDRESS'],
    ['hex loopback', (p) => `http://0x7f000001:${p}/`, 'PRIVATE_ADDRESS'],
    ['decimal loopback', (p) => `http://2130706433:${p}/`, 'PRIVATE_ADDRESS'],
    ['octal loopback', (p) => `http://0177.0.0.1:${p}/`, 'PRIVATE_ADDRESS'],
    ['IPv6 loopback', (p) => `http://[::1]:${p}/`, 'PRIVATE_ADDRESS'],
    ['IPv4-mapped loopback', (p) => `http://[::ffff:127.0.0.1]:${p}/`, 'PRIVATE_ADDRESS'],
    ['unspecified', (p) => `http://0.0.0.0:${p}/`, 'PRIVATE_ADDRESS'],
    ['cloud metadata', () => 'http://169.254.169.254/latest/meta-data/', 'PRIVATE_ADDRESS'],
    ['metadata hostname', () => 'http://metadata.google.internal/computeMetadata/v1/', 'PRIVATE_ADDRESS'],
    ['bare metadata hostname', () => 'http://metadata/', 'PRIVATE_ADDRESS'],
    ['RFC 1918 10/8', () => 'http://10.0.0.1/', 'PRIVATE_ADDRESS'],
    ['RFC 1918 192.168/16', () => 'http://192.168.1.1/', 'PRIVATE_ADDRESS'],
    ['carrier-grade NAT', () => 'http://100.64.0.1/', 'PRIVATE_ADDRESS'],
    ['IPv6 unique local', () => 'http://[fd00::1]/', 'PRIVATE_ADDRESS'],
    ['IPv6 link local', () => 'https://[fe80::1]/', 'PRIVATE_ADDRESS'],
    ['6to4 of loopback', () => 'http://[2002:7f00:1::]/', 'PRIVATE_ADDRESS'],
    ['localhost', (p) => `http://localhost:${p}/`, 'PRIVATE_ADDRESS'],
    ['sub.localhost', (p) => `http://api.localhost:${p}/`, 'PRIVATE_ADDRESS'],
    ['file scheme', () => 'file:///etc/passwd', 'SCHEME_NOT_ALLOWED'],
    ['ftp scheme', () => 'ftp://example.com/', 'SCHEME_NOT_ALLOWED'],
    ['gopher scheme', () => 'gopher://127.0.0.1:70/_x', 'SCHEME_NOT_ALLOWED'],
    ['data scheme', () => 'data:text/plain,hi', 'SCHEME_NOT_ALLOWED'],
    ['not a URL', () => 'not a url', 'INVALID_URL'],
    ['embedded credentials', (p) => `http://user:pw@127.0.0.1:${p}/`, 'INVALID_URL'],
  ];

  it.each(cases)('%s', async (_name, build, reason) => {
    const before = main.hits.length;
    const error = await refusal(guardedFetch({ method: 'GET', url: build(main.port) }, {}, limits));
    expect(error.reason).toBe(reason);
    expect(lookupSpy).not.toHaveBeenCalled();
    expect(connectSpy).not.toHaveBeenCalled();
    expect(main.hits.length).toBe(before);
  });

  it('refuses a name when any one of its addresses is private (DNS checked, nothing connected)', async () => {
    dnsAnswers.set('mixed.test', [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.2.3', family: 4 },
    ]);
    const error = await refusal(guardedFetch({ method: 'GET', url: 'http://mixed.test/' }, {}, limits));
    expect(error.reason).toBe('PRIVATE_ADDRESS');
    expect(error.message).toContain('10.1.2.3');
    expect(lookupSpy).toHaveBeenCalledTimes(1);
    expect(connectSpy).not.toHaveBeenCalled();
  });

  it('classifies IPv4-mapped answers as the IPv4 address they reach', async () => {
    dnsAnswers.set('mapped.test', [{ address: '::ffff:169.254.169.254', family: 6 }]);
    const error = await refusal(guardedFetch({ method: 'GET', url: 'http://mapped.test/' }, {}, limits));
    expect(error.reason).toBe('PRIVATE_ADDRESS');
    expect(error.message).toContain('169.254.169.254 (linkLocal)');
    expect(connectSpy).not.toHaveBeenCalled();
  });

  it('allowPrivate is per host:port: another port on the same address stays refused', async () => {
    const error = await refusal(
      guardedFetch({ method: 'GET', url: `http://127.0.0.1:${forbidden.port}/` }, policy, limits),
    );
    expect(error.reason).toBe('PRIVATE_ADDRESS');
    expect(forbidden.hits).toEqual([]);
    expect(connectSpy).not.toHaveBeenCalled();
  });
});

describe('allowed requests', () => {
  it('returns status, headers and a parsed JSON body', async () => {
    const response = await guardedFetch(
      { method: 'GET', url: `http://127.0.0.1:${main.port}/json` },
      policy,
      limits,
    );
    expect(response).toMatchObject({
      status: 201,
      body: { ok: true, n: 2 },
      url: `http://127.0.0.1:${main.port}/json`,
    });
    expect(response.headers['x-trace']).toBe('abc');
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(response.bytes).toBe(JSON.stringify({ ok: true, n: 2 }).length);
    expect(connectSpy).toHaveBeenCalled(); // so the "not called" assertions above mean something
  });

  it('returns text bodies as text, invalid JSON as text, and non-2xx statuses as they are', async () => {
    const base = `http://127.0.0.1:${main.port}`;
    const text = await guardedFetch({ method: 'GET', url: `${base}/text` }, policy, limits);
    expect(text).toMatchObject({ status: 200, body: 'hello', bytes: 5 });
    const bad = await guardedFetch({ method: 'GET', url: `${base}/bad-json` }, policy, limits);
    expect(bad.body).toBe('{nope');
    const missing = await guardedFetch({ method: 'GET', url: `${base}/missing` }, policy, limits);
    expect(missing).toMatchObject({ status: 404, body: 'not here' });
  });

  it('matches allowPrivate on the normalised host (127.1 is 127.0.0.1)', async () => {
    const response = await guardedFetch(
      { method: 'GET', url: `http://127.1:${main.port}/text` },
      policy,
      limits,
    );
    expect(response.body).toBe('hello');
  });

  it('sends method and body, drops hop-by-hop headers and a caller-supplied Host', async () => {
    const response = await guardedFetch(
      {
        method: 'post',
        url: `http://127.0.0.1:${main.port}/echo`,
        headers: {
          Host: 'internal.admin',
          Connection: 'x-secret',
          'X-Secret': 'leak',
          'Keep-Alive': 'timeout=5',
          'Transfer-Encoding': 'chunked',
          'Content-Type': 'application/json',
          'X-Api-Key': 'k1',
        },
        body: '{"a":1}',
      },
      policy,
      limits,
    );
    const echo = response.body as { method: string; headers: Record<string, string>; body: string };
    expect(echo.method).toBe('POST');
    expect(echo.body).toBe('{"a":1}');
    expect(echo.headers.host).toBe(`127.0.0.1:${main.port}`);
    expect(echo.headers['x-secret']).toBeUndefined();
    expect(echo.headers['keep-alive']).toBeUndefined();
    expect(echo.headers['transfer-encoding']).toBeUndefined();
    expect(echo.headers['x-api-key']).toBe('k1');
    expect(echo.headers['content-type']).toBe('application/json');
  });

  it('connects to the address it checked (no second DNS query), keeping the hostname in Host', async () => {
    dnsAnswers.set('pinned.test', [{ address: '127.0.0.1', family: 4 }]);
    const response = await guardedFetch(
      { method: 'GET', url: `http://pinned.test:${main.port}/echo` },
      { allowPrivate: [`pinned.test:${main.port}`] },
      limits,
    );
    expect((response.body as { headers: Record<string, string> }).headers.host).toBe(
      `pinned.test:${main.port}`,
    );
    expect(lookupSpy).toHaveBeenCalledTimes(1);
  });

  it('over https, connects to the pinned address with the hostname as SNI', async () => {
    dnsAnswers.set('pinned.test', [{ address: '127.0.0.1', family: 4 }]);
    tlsProbe.received.length = 0;
    const error = await guardedFetch(
      { method: 'GET', url: `https://pinned.test:${tlsProbe.port}/` },
      { allowPrivate: [`pinned.test:${tlsProbe.port}`] },
      limits,
    ).catch((e: unknown) => e);
    // The probe hung up: a network error (undici's, from another realm), not a refusal.
    expect(error).toMatchObject({ message: expect.any(String) });
    expect(error).not.toBeInstanceOf(EgressRefused);
    expect(Buffer.concat(tlsProbe.received).includes(Buffer.from('pinned.test'))).toBe(true);
    expect(lookupSpy).toHaveBeenCalledTimes(1);
  });
});

describe('redirects', () => {
  it('refuses a redirect to a loopback port nobody listed, and never reaches it', async () => {
    const error = await refusal(
      guardedFetch({ method: 'GET', url: `http://127.0.0.1:${main.port}/to-forbidden` }, policy, limits),
    );
    expect(error.reason).toBe('PRIVATE_ADDRESS');
    expect(forbidden.hits).toEqual([]);
  });

  it('refuses a redirect to the metadata address and to another scheme', async () => {
    const base = `http://127.0.0.1:${main.port}`;
    expect(
      (await refusal(guardedFetch({ method: 'GET', url: `${base}/to-metadata` }, policy, limits))).reason,
    ).toBe('PRIVATE_ADDRESS');
    expect(
      (await refusal(guardedFetch({ method: 'GET', url: `${base}/to-file` }, policy, limits))).reason,
    ).toBe('SCHEME_NOT_ALLOWED');
  });

  it('follows up to maxRedirects and refuses one more', async () => {
    const base = `http://127.0.0.1:${main.port}`;
    const ok = await guardedFetch(
      { method: 'GET', url: `${base}/chain?left=2` },
      policy,
      { ...limits, maxRedirects: 3 }, // 3 redirects: left=2 → 1 → 0 → /json
    );
    expect(ok).toMatchObject({ status: 201, url: `${base}/json` });

    const before = main.hits.length;
    const error = await refusal(
      guardedFetch({ method: 'GET', url: `${base}/loop` }, policy, { ...limits, maxRedirects: 3 }),
    );
    expect(error.reason).toBe('TOO_MANY_REDIRECTS');
    expect(main.hits.length - before).toBe(4); // the first request and 3 followed redirects
  });

  it('turns a 303 into a GET without body, keeps method and body on 307', async () => {
    const base = `http://127.0.0.1:${main.port}`;
    const request = {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"x":1}',
    };
    const after303 = await guardedFetch({ ...request, url: `${base}/r303` }, policy, limits);
    expect(after303.body).toMatchObject({ method: 'GET', body: '' });
    expect((after303.body as { headers: Record<string, string> }).headers['content-type']).toBeUndefined();
    const after307 = await guardedFetch({ ...request, url: `${base}/r307` }, policy, limits);
    expect(after307.body).toMatchObject({ method: 'POST', body: '{"x":1}' });
    expect(after307.url).toBe(`${base}/echo`);
  });

  it('drops credentials when a redirect changes origin', async () => {
    dnsAnswers.set('other.test', [{ address: '127.0.0.1', family: 4 }]);
    const response = await guardedFetch(
      {
        method: 'GET',
        url: `http://127.0.0.1:${main.port}/cross-origin`,
        headers: { Authorization: 'Bearer t', 'X-Api-Key': 'k1' },
      },
      policy,
      limits,
    );
    const headers = (response.body as { headers: Record<string, string> }).headers;
    expect(headers.authorization).toBeUndefined();
    expect(headers['x-api-key']).toBe('k1');
    expect(headers.host).toBe(`other.test:${main.port}`);
  });
});

describe('limits', () => {
  it('times out on a server that never answers', async () => {
    const started = Date.now();
    const error = await refusal(
      guardedFetch({ method: 'GET', url: `http://127.0.0.1:${main.port}/hang` }, policy, {
        ...limits,
        timeoutMs: 200,
      }),
    );
    expect(error.reason).toBe('TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('times out on a body that never ends', async () => {
    const error = await refusal(
      guardedFetch({ method: 'GET', url: `http://127.0.0.1:${main.port}/stall-body` }, policy, {
        ...limits,
        timeoutMs: 200,
      }),
    );
    expect(error.reason).toBe('TIMEOUT');
  });

  it('aborts a streamed body beyond maxResponseBytes', async () => {
    const small = { ...limits, maxResponseBytes: 1_000 };
    const base = `http://127.0.0.1:${main.port}`;
    expect((await refusal(guardedFetch({ method: 'GET', url: `${base}/big` }, policy, small))).reason).toBe(
      'RESPONSE_TOO_LARGE',
    );
    expect(
      (await refusal(guardedFetch({ method: 'GET', url: `${base}/big-declared` }, policy, small))).reason,
    ).toBe('RESPONSE_TOO_LARGE');
    const exact = await guardedFetch({ method: 'GET', url: `${base}/big` }, policy, {
      ...limits,
      maxResponseBytes: 10_000,
    });
    expect(exact.bytes).toBe(10_000);
  });
});

describe('allowedHosts', () => {
  it('refuses a hostname not in the list before any DNS or connection', async () => {
    const error = await refusal(
      guardedFetch(
        { method: 'GET', url: 'http://other.example.com/' },
        { allowedHosts: ['api.example.com'] },
        limits,
      ),
    );
    expect(error.reason).toBe('HOST_NOT_ALLOWED');
    expect(lookupSpy).not.toHaveBeenCalled();
    expect(connectSpy).not.toHaveBeenCalled();
  });

  it('narrows even the operator-allowed private hosts', async () => {
    const error = await refusal(
      guardedFetch(
        { method: 'GET', url: `http://127.0.0.1:${main.port}/json` },
        { ...policy, allowedHosts: ['api.example.com'] },
        limits,
      ),
    );
    expect(error.reason).toBe('HOST_NOT_ALLOWED');
    expect(connectSpy).not.toHaveBeenCalled();
  });

  it('cannot open a private address: a listed name resolving to loopback is refused', async () => {
    dnsAnswers.set('a.b.example.org', [{ address: '127.0.0.1', family: 4 }]);
    const error = await refusal(
      guardedFetch(
        { method: 'GET', url: 'http://A.b.Example.org./' },
        { allowedHosts: ['*.example.org'] },
        limits,
      ),
    );
    expect(error.reason).toBe('PRIVATE_ADDRESS');
    expect(connectSpy).not.toHaveBeenCalled();
  });

  it('matches exact names and strict subdomains of wildcards, case-insensitively', () => {
    const list = ['api.example.com', '*.example.org'];
    expect(matchesAllowedHosts('api.example.com', list)).toBe(true);
    expect(matchesAllowedHosts('API.Example.COM.', list)).toBe(true);
    expect(matchesAllowedHosts('x.api.example.com', list)).toBe(false);
    expect(matchesAllowedHosts('a.example.org', list)).toBe(true);
    expect(matchesAllowedHosts('a.b.example.org', list)).toBe(true);
    expect(matchesAllowedHosts('example.org', list)).toBe(false);
    expect(matchesAllowedHosts('evilexample.org', list)).toBe(false);
    expect(matchesAllowedHosts('anything.test', [])).toBe(true);
    expect(matchesAllowedHosts('anything.test', undefined)).toBe(true);
  });
});

describe('host and address rules', () => {
  it('parseAllowPrivate splits, trims and drops empties', () => {
    expect(parseAllowPrivate(undefined)).toEqual([]);
    expect(parseAllowPrivate('')).toEqual([]);
    expect(parseAllowPrivate(' 127.0.0.1:3000 , ,localhost:8080,[::1]:9000,')).toEqual([
      '127.0.0.1:3000',
      'localhost:8080',
      '[::1]:9000',
    ]);
  });

  it('parses host:port entries, normalising the host', () => {
    expect(parseHostPort('127.0.0.1:3000')).toEqual({ host: '127.0.0.1', port: 3000 });
    expect(parseHostPort('LocalHost:8080')).toEqual({ host: 'localhost', port: 8080 });
    expect(parseHostPort('[0:0:0:0:0:0:0:1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseHostPort('127.1:80')).toEqual({ host: '127.0.0.1', port: 80 });
    expect(parseHostPort('localhost')).toBeNull();
    expect(parseHostPort('localhost:0')).toBeNull();
    expect(parseHostPort('localhost:70000')).toBeNull();
    expect(parseHostPort('http://localhost:80')).toBeNull();
  });

  it('matches allowPrivate on the effective port', () => {
    expect(matchesAllowPrivate('localhost', 80, ['localhost:80'])).toBe(true);
    expect(matchesAllowPrivate('::1', 9000, ['[::1]:9000'])).toBe(true);
    expect(matchesAllowPrivate('[::1]', 9000, ['[::1]:9000'])).toBe(true);
    expect(matchesAllowPrivate('localhost', 8081, ['localhost:8080'])).toBe(false);
    expect(matchesAllowPrivate('localhost', 80, undefined)).toBe(false);
  });

  it('only plain unicast is public', () => {
    expect(classifyAddress('93.184.216.34')).toMatchObject({ public: true, range: 'unicast' });
    expect(classifyAddress('2606:4700::1')).toMatchObject({ public: true, range: 'unicast' });
    expect(classifyAddress('::ffff:8.8.8.8')).toMatchObject({ public: true, normalised: '8.8.8.8' });
    for (const [address, range] of [
      ['127.0.0.1', 'loopback'],
      ['::1', 'loopback'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['10.0.0.1', 'private'],
      ['172.16.5.4', 'private'],
      ['192.168.1.1', 'private'],
      ['169.254.169.254', 'linkLocal'],
      ['fe80::1', 'linkLocal'],
      ['fc00::1', 'uniqueLocal'],
      ['0.0.0.0', 'unspecified'],
      ['::', 'unspecified'],
      ['255.255.255.255', 'broadcast'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['224.0.0.1', 'multicast'],
      ['ff02::1', 'multicast'],
      ['240.0.0.1', 'reserved'],
      ['2002:7f00:1::', '6to4'],
      ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'teredo'],
      ['64:ff9b::7f00:1', 'rfc6052'],
      ['not-an-ip', 'invalid'],
    ]) {
      expect(classifyAddress(address)).toMatchObject({ public: false, range });
    }
  });

  it('WHATWG URL normalises the alternative loopback spellings', () => {
    for (const spelling of ['127.1', '0x7f000001', '2130706433', '0177.0.0.1']) {
      expect(new URL(`http://${spelling}/`).hostname).toBe('127.0.0.1');
    }
    expect(new URL('http://[::ffff:127.0.0.1]/').hostname).toBe('[::ffff:7f00:1]');
    expect(classifyAddress('[::ffff:7f00:1]')).toMatchObject({ public: false, range: 'loopback' });
  });
});
