import { Inject, Injectable, type LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';
import { currentRequestId } from './request-context';
import { ROOT_LOGGER } from './root-logger';

/**
 * Nest's logger, written as pino JSON lines: `context` is the logging class, and a
 * line written while serving a request carries that request's `requestId`.
 *
 * Nest calls `log(message, ...params)` with the context last; an object message is
 * merged into the line (its `msg` then comes from the next string), an Error becomes
 * `err`, and for `error` a string before the context is the stack.
 */
@Injectable()
export class AppLogger implements LoggerService {
  constructor(@Inject(ROOT_LOGGER) readonly pino: Logger) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...params];
    const context = rest.length > 0 && typeof rest.at(-1) === 'string' ? rest.pop() : undefined;
    const fields: Record<string, unknown> = { context, requestId: currentRequestId() };
    let msg: string | undefined;
    if (message instanceof Error) {
      fields.err = message;
      msg = message.message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
      if (typeof rest[0] === 'string') msg = rest.shift() as string;
    } else {
      msg = String(message);
    }
    for (const param of rest) {
      if (param instanceof Error) fields.err = param;
      else if (typeof param === 'string' && level === 'error') fields.stack = param;
    }
    this.pino[level](fields, msg);
  }
}
