import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import { AppLogger } from './app-logger';
import { bindRequestContext } from './request-context';
import { logRequests } from './request-log';
import { createRootLogger } from './root-logger';

/** A root logger at `level` whose lines land in `lines` (parsed). */
function capture(level: 'info' | 'debug' = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  const root = createRootLogger(level, sink);
  return { lines, logger: new AppLogger(root), root };
}

describe('request context in log lines', () => {
  const { lines, logger, root } = capture();
  const app = Fastify({ genReqId: (request) => String(request.headers['x-request-id']) });
  let base = '';
  bindRequestContext(app);
  logRequests(app, root);
  // Logs after the body was read and after awaiting, as a service would.
  app.post('/work', async (request) => {
    await sleep(5);
    await Promise.resolve();
    logger.log(`working on ${(request.body as { name: string }).name}`, 'Worker');
    return { ok: true };
  });
  app.get('/health/live', () => 'ok');

  beforeAll(async () => {
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  it('carries the id of its own request, with concurrent requests interleaved', async () => {
    // Over real sockets: a body arrives in socket events, outside the request's context.
    const names = ['a', 'b', 'c', 'd'];
    const answers = await Promise.all(
      names.map((name) =>
        fetch(`${base}/work`, {
          method: 'POST',
          body: JSON.stringify({ name }),
          headers: {
            'content-type': 'application/json',
            authorization: 'Bearer secret-token',
            'x-request-id': `req-${name}`,
          },
        }),
      ),
    );
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    for (const name of names) {
      const line = lines.find((l) => l.msg === `working on ${name}`);
      expect(line).toMatchObject({ context: 'Worker', requestId: `req-${name}`, level: 30 });
      const done = lines.find((l) => l.msg === 'request completed' && l.requestId === `req-${name}`);
      expect(done).toMatchObject({
        req: { method: 'POST', url: '/work', route: '/work' },
        res: { statusCode: 200 },
      });
    }
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });

  it('keeps the id when the body arrives later than the headers', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(`${base}/work`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'req-slow' },
      });
      request.on('response', (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.flushHeaders();
      request.write('{"name":');
      setTimeout(() => request.end('"slow"}'), 50);
    });
    expect(status).toBe(200);
    expect(lines.find((l) => l.msg === 'working on slow')).toMatchObject({ requestId: 'req-slow' });
  });

  it('has no request id outside a request, and leaves health probes out of the request lines', async () => {
    logger.warn('between requests', 'Boot');
    expect(lines.at(-1)).toMatchObject({ msg: 'between requests', context: 'Boot' });
    expect(lines.at(-1)).not.toHaveProperty('requestId');
    const count = lines.length;
    await fetch(`${base}/health/live`, { headers: { 'x-request-id': 'probe' } });
    expect(lines.length).toBe(count);
  });
});

describe('AppLogger', () => {
  it('merges an object message, takes its text from the next argument and the context from the last', () => {
    const { lines, logger } = capture();
    logger.error({ requestId: 'r1', code: 7 }, 'unhandled error', 'HTTP');
    expect(lines[0]).toMatchObject({
      level: 50,
      requestId: 'r1',
      code: 7,
      msg: 'unhandled error',
      context: 'HTTP',
    });
  });

  it('writes an Error as err and a stack given to error()', () => {
    const { lines, logger } = capture();
    logger.warn(new Error('boom'), 'Job');
    logger.error('failed', 'at line 1', 'Shutdown');
    expect(lines[0]).toMatchObject({ level: 40, msg: 'boom', context: 'Job', err: { message: 'boom' } });
    expect(lines[1]).toMatchObject({ level: 50, msg: 'failed', stack: 'at line 1', context: 'Shutdown' });
  });

  it('writes nothing below its level, and redacts credentials in merged objects', () => {
    const { lines, logger } = capture('info');
    logger.debug('hidden', 'X');
    logger.verbose('hidden too', 'X');
    logger.log({ user: { password: 'hunter2' }, headers: { authorization: 'Bearer t' } }, 'login', 'Auth');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      user: { password: '[REDACTED]' },
      headers: { authorization: '[REDACTED]' },
    });
  });
});
