import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance } from 'fastify';

/** The id of the HTTP request being served, for every log line written on its behalf. */
const requests = new AsyncLocalStorage<string>();

/** The request id of the code running now (undefined outside a request: jobs, boot). */
export const currentRequestId = (): string | undefined => requests.getStore();

/**
 * Makes the request id current for everything the request runs: Fastify calls the
 * rest of the request (body parsing, Nest's guards, pipes and controller, and all
 * they await) from this hook's `done`, so it all runs in the context set here. The
 * request-context spec checks that a body arriving after the headers keeps it.
 */
export function bindRequestContext(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', (request, _reply, done) => requests.run(String(request.id), done));
}
