import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { PUBLIC_ROUTE } from '../infra/http/public';
import { DomainError } from '../infra/http/domain-error';
import { Unauthenticated } from './identity.errors';

/** Global guard: every route needs a valid access token unless marked @Public(). */
@Injectable()
export class JwtAuthGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext) {
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [
      context.getHandler(),
      context.getClass(),
    ]);
    return isPublic ? true : super.canActivate(context);
  }

  override handleRequest<T>(error: unknown, user: T): T {
    // Domain errors (a suspended company) pass through; anything else from passport
    // (bad signature, expired, malformed) is the same 401.
    if (error) throw error instanceof DomainError ? error : new Unauthenticated();
    if (!user) throw new Unauthenticated();
    return user;
  }
}
