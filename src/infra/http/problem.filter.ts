import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, toProblem, toProblemParts } from './problem';

/** Writes every error as problem+json. Nest routes Fastify's own errors (body
 *  parsing, unknown routes) through here too. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    const parts = toProblemParts(exception);
    if (parts.unexpected) this.logger.error({ err: exception, requestId: request.id }, 'unhandled error');
    void http
      .getResponse<FastifyReply>()
      .status(parts.status)
      .headers(parts.headers ?? {})
      .header('content-type', PROBLEM_CONTENT_TYPE)
      .send(toProblem(parts, request.url, String(request.id)));
  }
}
