import type { IncomingMessage } from 'node:http';
import { Strategy } from 'passport';
import { ExtractJwt } from 'passport-jwt';

type Done = (error: unknown, user?: unknown) => void;

const fromBearerHeader = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * A passport strategy for bearer JWTs whose verification is a function given to
 * it (AccessTokens.verify). passport-jwt extracts the token; its own verification
 * goes through jsonwebtoken, several times slower than fast-jwt (bench/auth).
 */
export class BearerTokenStrategy extends Strategy {
  constructor(
    private readonly decode: (token: string) => unknown,
    private readonly verifyCallback: (claims: unknown, done: Done) => void,
  ) {
    super();
  }

  override authenticate(request: IncomingMessage): void {
    const token = fromBearerHeader(request);
    if (!token) return this.fail('missing bearer token', 401);
    let claims: unknown;
    try {
      claims = this.decode(token);
    } catch (error) {
      return this.error(error);
    }
    this.verifyCallback(claims, (error, user) => {
      if (error) return this.error(error);
      if (!user) return this.fail('not authenticated', 401);
      this.success(user);
    });
  }
}
