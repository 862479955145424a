import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { IsEmail, IsInt, IsOptional, IsString, Max, Min, MinLength, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { NotFound } from '../../src/infra/http/domain-error';
import { Public } from '../../src/infra/http/public';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { startApi } from '../support/app';

// A controller mounted only in this test, to exercise the global pipeline
// (validation, problem+json, request ids) independently of any domain.
class AddressDto {
  @IsString()
  @MinLength(2)
  city!: string;
}

class EchoDto {
  @IsEmail()
  email!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => AddressDto)
  address?: AddressDto;
}

class PageQuery {
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
}

@Public()
@Controller('probe')
class ProbeController {
  @Post('echo')
  echo(@Body() body: EchoDto) {
    return body;
  }

  @Get('page')
  page(@Query() query: PageQuery) {
    return { limit: query.limit ?? 50 };
  }

  @Get('missing')
  missing() {
    throw new NotFound('Widget');
  }

  @Get('boom')
  boom() {
    throw new Error('database password is hunter2');
  }
}

const PROBLEM_KEYS = ['code', 'detail', 'instance', 'requestId', 'status', 'title', 'type'];

describe('HTTP basics', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await startApi(db, { controllers: [ProbeController] });
  });

  afterAll(async () => {
    await app.close();
    await db.drop();
  });

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'POST',
      url,
      payload: payload as string,
      headers: { 'content-type': 'application/json', ...headers },
    });

  it('serves routes under /api/v1 and echoes a valid body', async () => {
    const response = await post('/api/v1/probe/echo', { email: 'a@example.com', address: { city: 'Oslo' } });
    expect(response.statusCode).toBe(201);
    expect(response.json()).toEqual({ email: 'a@example.com', address: { city: 'Oslo' } });
  });

  it('rejects unknown fields with a 400 problem pointing at them, nested ones too', async () => {
    const response = await post('/api/v1/probe/echo', {
      email: 'a@example.com',
      isAdmin: true,
      address: { city: 'Oslo', planet: 'Earth' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = response.json();
    expect(Object.keys(problem).sort()).toEqual([...PROBLEM_KEYS, 'errors'].sort());
    expect(problem).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', instance: '/api/v1/probe/echo' });
    expect(problem.errors.map((e: { pointer: string }) => e.pointer).sort()).toEqual([
      '/address/planet',
      '/isAdmin',
    ]);
  });

  it('lists every violation with its JSON pointer', async () => {
    const response = await post('/api/v1/probe/echo', { email: 'nope', address: { city: 'X' } });
    expect(response.statusCode).toBe(400);
    const pointers = response.json().errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers.sort()).toEqual(['/address/city', '/email']);
  });

  it('prefixes query parameter pointers with /query', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/probe/page?limit=500' });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].pointer).toBe('/query/limit');
    const ok = await app.inject({ method: 'GET', url: '/api/v1/probe/page?limit=20' });
    expect(ok.json()).toEqual({ limit: 20 });
  });

  it('refuses NUL characters (Postgres cannot store them) with a 400 pointing at them', async () => {
    const response = await post('/api/v1/probe/echo', {
      email: 'a@example.com',
      address: { city: 'Os\u0000lo' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors).toEqual([
      { pointer: '/address/city', message: 'must not contain NUL characters' },
    ]);
  });

  it('answers malformed JSON with 400 INVALID_JSON, not 500', async () => {
    const response = await post('/api/v1/probe/echo', '{"email": ');
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'INVALID_JSON', status: 400 });
  });

  it('answers a body that is not an object with 400', async () => {
    for (const payload of ['[1,2]', '"text"', 'null', '42']) {
      const response = await post('/api/v1/probe/echo', payload);
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('answers an unsupported media type with 415', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/probe/echo',
      payload: 'email=a@example.com',
      headers: { 'content-type': 'application/xml' },
    });
    expect(response.statusCode).toBe(415);
    expect(response.json()).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 });
  });

  it('answers an oversized body with 413', async () => {
    const response = await post('/api/v1/probe/echo', JSON.stringify({ email: 'x'.repeat(2 * 1024 * 1024) }));
    expect(response.statusCode).toBe(413);
    expect(response.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', status: 413 });
  });

  it('answers unknown routes and domain not-found errors with a 404 problem', async () => {
    const unknown = await app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(unknown.statusCode).toBe(404);
    expect(Object.keys(unknown.json()).sort()).toEqual(PROBLEM_KEYS);
    expect(unknown.json()).toMatchObject({
      code: 'NOT_FOUND',
      status: 404,
      instance: '/api/v1/nothing-here',
    });

    const missing = await app.inject({ method: 'GET', url: '/api/v1/probe/missing' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND', detail: 'Widget not found.' });
  });

  it('hides unexpected errors behind a generic 500 that carries the request id', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/probe/boom',
      headers: { 'x-request-id': 'trace-500' },
    });
    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain('hunter2');
    expect(response.json()).toMatchObject({ code: 'INTERNAL_ERROR', requestId: 'trace-500' });
  });

  it('echoes a plain X-Request-Id and puts it in the problem body', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/nothing-here',
      headers: { 'x-request-id': 'req-42.abc' },
    });
    expect(response.headers['x-request-id']).toBe('req-42.abc');
    expect(response.json().requestId).toBe('req-42.abc');
  });

  it('mints a request id when none (or an unsafe one) is sent', async () => {
    const minted = await app.inject({ method: 'GET', url: '/health/live' });
    expect(minted.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const unsafe = await app.inject({
      method: 'GET',
      url: '/health/live',
      headers: { 'x-request-id': 'a b\u0000<script>' },
    });
    expect(unsafe.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const other = await app.inject({ method: 'GET', url: '/health/live' });
    expect(other.headers['x-request-id']).not.toBe(minted.headers['x-request-id']);
  });

  it('serves the OpenAPI 3.1 document and Swagger UI', async () => {
    const doc = await app.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(doc.statusCode).toBe(200);
    expect(doc.json().openapi).toBe('3.1.0');
    expect(Object.keys(doc.json().paths)).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    const ui = await app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/text\/html/);
  });

  it('keeps health outside the /api/v1 prefix', async () => {
    expect((await app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/api/v1/health/live' })).statusCode).toBe(404);
  });
});
