import { HttpException, HttpStatus } from '@nestjs/common';
import { DomainError, type ErrorKind, type FieldError } from './domain-error';

/** RFC 9457 problem details, as every error leaves the API. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance: string;
  code: string;
  requestId: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const STATUS_BY_KIND: Record<ErrorKind, number> = {
  invalid: 400,
  unauthenticated: 401,
  payment_required: 402,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  unsupported_media_type: 415,
  unprocessable: 422,
  locked: 423,
  rate_limited: 429,
  unavailable: 503,
};

/** Codes for errors raised by the framework rather than a domain. */
const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  402: 'PAYMENT_REQUIRED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  423: 'LOCKED',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/** Codes of Fastify's own client errors (body parsing, content types). */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
};

export interface ProblemParts {
  status: number;
  code: string;
  detail: string;
  errors?: FieldError[];
  headers?: Record<string, string>;
  /** Unexpected: log it with the request id and answer a generic 500. */
  unexpected: boolean;
}

function titleOf(status: number): string {
  const name = HttpStatus[status] as string | undefined;
  if (!name) return 'Error';
  return name
    .toLowerCase()
    .split('_')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join(' ');
}

function httpExceptionDetail(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/** Classifies anything thrown while serving a request. */
export function toProblemParts(error: unknown): ProblemParts {
  if (error instanceof DomainError) {
    return {
      status: STATUS_BY_KIND[error.kind],
      code: error.code,
      detail: error.message,
      errors: error.errors,
      headers: error.headers,
      unexpected: false,
    };
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    // Nest hands Fastify's own client errors (body parsing) over as HttpExceptions
    // whose cause keeps Fastify's code.
    const fastifyCode = (error.cause as { code?: unknown } | undefined)?.code;
    const code = typeof fastifyCode === 'string' ? FASTIFY_CODES[fastifyCode] : undefined;
    return {
      status,
      code: code ?? CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL_ERROR' : 'BAD_REQUEST'),
      detail: status >= 500 ? 'An unexpected error occurred.' : httpExceptionDetail(error),
      unexpected: status >= 500,
    };
  }
  return { status: 500, code: 'INTERNAL_ERROR', detail: 'An unexpected error occurred.', unexpected: true };
}

export function toProblem(parts: ProblemParts, instance: string, requestId: string): Problem {
  return {
    type: `https://hirebuddha.dev/problems/${parts.code.toLowerCase().replaceAll('_', '-')}`,
    title: titleOf(parts.status),
    status: parts.status,
    detail: parts.detail,
    instance,
    code: parts.code,
    requestId,
    ...(parts.errors ? { errors: parts.errors } : {}),
  };
}
