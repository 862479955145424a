import {
  BadRequestException,
  HttpException,
  NotFoundException,
  PayloadTooLargeException,
} from '@nestjs/common';
import { DomainError, ValidationFailed } from './domain-error';
import { toProblem, toProblemParts } from './problem';

describe('toProblemParts', () => {
  it('maps a domain error kind to its status and keeps its code', () => {
    const parts = toProblemParts(new DomainError('locked', 'COMPANY_SUSPENDED', 'Suspended.'));
    expect(parts).toMatchObject({
      status: 423,
      code: 'COMPANY_SUSPENDED',
      detail: 'Suspended.',
      unexpected: false,
    });
  });

  it('carries field errors and headers', () => {
    const parts = toProblemParts(new ValidationFailed([{ pointer: '/a', message: 'bad' }]));
    expect(parts.errors).toEqual([{ pointer: '/a', message: 'bad' }]);
    const limited = toProblemParts(
      new DomainError('rate_limited', 'RATE_LIMITED', 'Slow down.', undefined, { 'retry-after': '3' }),
    );
    expect(limited).toMatchObject({ status: 429, headers: { 'retry-after': '3' } });
  });

  it('maps framework exceptions by status', () => {
    expect(toProblemParts(new NotFoundException())).toMatchObject({ status: 404, code: 'NOT_FOUND' });
    expect(toProblemParts(new PayloadTooLargeException())).toMatchObject({
      status: 413,
      code: 'PAYLOAD_TOO_LARGE',
    });
    expect(toProblemParts(new BadRequestException('nope'))).toMatchObject({ status: 400, detail: 'nope' });
  });

  it('maps Fastify client errors (wrapped by Nest) by their code', () => {
    const cause = Object.assign(new Error('Body is not valid JSON'), {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    });
    const error = new HttpException(cause.message, 400, { cause });
    expect(toProblemParts(error)).toMatchObject({
      status: 400,
      code: 'INVALID_JSON',
      detail: 'Body is not valid JSON',
    });
  });

  it('turns anything else into an opaque 500', () => {
    const parts = toProblemParts(new Error('connection to 10.0.0.5 refused: password hunter2'));
    expect(parts).toEqual({
      status: 500,
      code: 'INTERNAL_ERROR',
      detail: 'An unexpected error occurred.',
      unexpected: true,
    });
    expect(toProblemParts({ statusCode: 502 })).toMatchObject({ status: 500, unexpected: true });
  });
});

describe('toProblem', () => {
  it('builds an RFC 9457 body with a stable type URI', () => {
    const problem = toProblem(
      toProblemParts(new DomainError('conflict', 'ENTITY_IMMUTABLE', 'Active.')),
      '/x',
      'r1',
    );
    expect(problem).toEqual({
      type: 'https://hirebuddha.dev/problems/entity-immutable',
      title: 'Conflict',
      status: 409,
      detail: 'Active.',
      instance: '/x',
      code: 'ENTITY_IMMUTABLE',
      requestId: 'r1',
    });
  });
});
