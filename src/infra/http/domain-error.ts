/**
 * What went wrong, from the client's point of view. The HTTP status follows from
 * the kind (see problem.ts), so domains never speak HTTP.
 */
export type ErrorKind =
  | 'invalid'
  | 'unauthenticated'
  | 'payment_required'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'locked'
  | 'rate_limited'
  | 'unavailable';

export interface FieldError {
  /** JSON pointer into the request body (or `/query/<name>` for query parameters). */
  pointer: string;
  message: string;
}

/**
 * Base of every error a domain raises on purpose. `code` is a stable UPPER_SNAKE
 * identifier clients may switch on; `message` is for humans.
 */
export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    readonly errors?: FieldError[],
    /** Extra response headers, e.g. Retry-After. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationFailed extends DomainError {
  constructor(errors: FieldError[], message = 'The request is not valid.') {
    super('invalid', 'VALIDATION_FAILED', message, errors);
  }
}

/** Answered for missing rows and rows outside the caller's scope alike. */
export class NotFound extends DomainError {
  constructor(what = 'Resource') {
    super('not_found', 'NOT_FOUND', `${what} not found.`);
  }
}
