import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BoardAdapter } from '@bull-board/fastify';
import { getQueueToken } from '@nestjs/bullmq';
import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AccessTokens } from '../identity/access-tokens';
import { IdentityModule } from '../identity/identity.module';
import { JwtStrategy } from '../identity/jwt.strategy';
import { ALL_QUEUES } from '../infra/queue/queue-names';

export const QUEUE_BOARD_PATH = '/admin/queues';

/**
 * Bull Board, the BullMQ dashboard, at /admin/queues for app admins only. It is a
 * Fastify plugin outside Nest's routing, so it gets its own gate: the same bearer
 * token check as every API route (signature, session, user and company state), then
 * the role. Anyone else gets 404, as for anything out of scope.
 */
@Module({ imports: [IdentityModule] })
export class QueueBoardModule implements OnModuleInit {
  constructor(
    private readonly host: HttpAdapterHost,
    private readonly moduleRef: ModuleRef,
    private readonly tokens: AccessTokens,
    private readonly jwt: JwtStrategy,
  ) {}

  onModuleInit(): void {
    const board = new BoardAdapter();
    board.setBasePath(QUEUE_BOARD_PATH);
    createBullBoard({
      queues: ALL_QUEUES.map(
        (name) => new BullMQAdapter(this.moduleRef.get<Queue>(getQueueToken(name), { strict: false })),
      ),
      serverAdapter: board,
    });
    const fastify = this.host.httpAdapter.getInstance<FastifyInstance>();
    // Queued, not awaited: awaiting would load Fastify's plugins before Nest has set its
    // error handler and body parsers, and client errors would lose their problem+json.
    void fastify.register(async (scoped) => {
      scoped.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
        if (await this.isAppAdmin(request)) return;
        await reply.code(404).type('application/problem+json').send({
          type: 'about:blank',
          title: 'Not Found',
          status: 404,
          code: 'NOT_FOUND',
          detail: 'Not found.',
        });
      });
      await scoped.register(board.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
    });
  }

  private async isAppAdmin(request: FastifyRequest): Promise<boolean> {
    const header = request.headers.authorization ?? '';
    const token = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (!token) return false;
    try {
      const caller = await this.jwt.validate(this.tokens.verify(token));
      return caller.role === 'app_admin';
    } catch {
      return false;
    }
  }
}
