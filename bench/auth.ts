/**
 * bench/auth: what authentication costs.
 *
 * (a) Access-token verification as the guard does it (AccessTokens.verify: kid
 *     lookup, fast-jwt with the key imported once, HS256 pinned, issuer/audience/
 *     expiry checks) against the floor: a bare HMAC-SHA256 of the same signing input
 *     in the same process. For reference: passport-jwt's own verifier (jsonwebtoken)
 *     with a KeyObject and with a string secret. Target: guard ≤ 3 × floor.
 * (b) Login throughput through the real API (HTTP, validation, throttling in Redis,
 *     user lookup, argon2id verify, token issue) against raw argon2id verify
 *     throughput at the same concurrency,
 *     with the API's event-loop delay sampled during the run. Target: ≥ 0.8 ×,
 *     event-loop p99 < 20 ms.
 *
 * Run: npm run bench:auth   (needs the services: bash scripts/services.sh)
 */
import 'reflect-metadata';
import { createHmac, createSecretKey } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { availableParallelism } from 'node:os';
import argon2 from 'argon2';
import jsonwebtoken from 'jsonwebtoken';
import { AccessTokens } from '../src/identity/access-tokens';
import { AppConfig } from '../src/infra/config/config';
import { hashPassword } from '../src/identity/password-hasher';
import { createTestDatabase } from '../test/support/database';
import { startApi, testConfig } from '../test/support/app';
import { flushTestRedis } from '../test/support/redis';
import { createCompany, createUser, PASSWORD } from '../test/factories/tenancy';
import prepareTemplate from '../test/setup/global-setup';
import dropTemplate from '../test/setup/global-teardown';
import { fmt, interleaved, nsPerOp, percentile, SMOKE, runBenchmark } from './lib';
// The exact function passport-jwt's Strategy calls to verify a token.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const verifyJwt = require('passport-jwt/lib/verify_jwt') as (
  token: string,
  key: unknown,
  options: object,
  callback: (error: unknown, payload: unknown) => void,
) => void;

function verification(): void {
  const config = new AppConfig(
    testConfig({ adminUrl: 'postgresql://x@127.0.0.1/x', appUrl: 'postgresql://x@127.0.0.1/x' }).env,
  );
  const tokens = new AccessTokens(config);
  const token = tokens.sign(
    {
      id: '01930000-0000-7000-8000-000000000001',
      companyId: '01930000-0000-7000-8000-000000000002',
      role: 'member',
    },
    '01930000-0000-7000-8000-000000000003',
  );
  const [header, payload] = token.split('.');
  const signingInput = `${header}.${payload}`;
  const key = createSecretKey(Buffer.from(config.env.JWT_SECRET, 'utf8'));
  const options = { algorithms: ['HS256'], issuer: config.env.JWT_ISSUER, audience: config.env.JWT_AUDIENCE };
  const iterations = SMOKE ? 2_000 : 50_000;

  const guard = () => tokens.verify(token);
  // First sight of each token: distinct tokens, so the verifier's cache never hits.
  const fresh = Array.from({ length: iterations }, (_, i) =>
    tokens.sign(
      {
        id: '01930000-0000-7000-8000-000000000001',
        companyId: '01930000-0000-7000-8000-000000000002',
        role: 'member',
      },
      `01930000-0000-7000-8000-${String(i).padStart(12, '0')}`,
    ),
  );
  let cursor = 0;
  const guardCold = () => tokens.verify(fresh[cursor++ % fresh.length]);
  const passportJwt = () => {
    let ok = false;
    verifyJwt(token, key, options, (error) => (ok = !error));
    if (!ok) throw new Error('verification failed');
  };
  const floor = () => createHmac('sha256', key).update(signingInput).digest();
  const naive = () =>
    jsonwebtoken.verify(token, config.env.JWT_SECRET, options as jsonwebtoken.VerifyOptions);

  const results = interleaved(
    {
      'bare HMAC-SHA256 (floor)': () => nsPerOp(floor, iterations),
      'guard: AccessTokens.verify': () => nsPerOp(guard, iterations),
      'guard, first sight of each token': () => nsPerOp(guardCold, iterations),
      'passport-jwt (jsonwebtoken) + KeyObject': () => nsPerOp(passportJwt, iterations),
      'jsonwebtoken + string secret': () => nsPerOp(naive, iterations / 5),
    },
    SMOKE ? 3 : 7,
  );
  const base = results['bare HMAC-SHA256 (floor)'];
  console.log('\n(a) access-token verification, median of interleaved rounds');
  console.log('case                                     µs/verify   × floor');
  for (const [name, ns] of Object.entries(results)) {
    console.log(`${name.padEnd(40)} ${fmt(ns / 1000, 3).padStart(9)}   ${fmt(ns / base).padStart(6)}`);
  }
  console.log(
    `target: guard ≤ 3 × floor → ${results['guard: AccessTokens.verify'] / base <= 3 ? 'met' : 'NOT met'}`,
  );
}

async function loginThroughput(): Promise<void> {
  await flushTestRedis();
  const db = await createTestDatabase();
  const app = await startApi(db, {
    overrides: { LOGIN_LIMIT_PER_EMAIL: '1000000', LOGIN_LIMIT_PER_IP: '1000000' },
  });
  try {
    const platform = await createCompany(db.admin, { type: 'APP' });
    const user = await createUser(db.admin, { companyId: platform.id, role: 'app_admin' });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const url = `${await app.getUrl()}/api/v1/auth/login`.replace('[::1]', '127.0.0.1');
    const hash = await hashPassword(PASSWORD);
    // Both paths at the same concurrency, enough to keep argon2's thread pool (4
    // threads) busy while some logins wait on Redis or Postgres.
    const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
    const total = SMOKE ? 16 : 200;

    const run = async (op: () => Promise<void>) => {
      let next = 0;
      const start = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next++ < total) await op();
        }),
      );
      return total / ((performance.now() - start) / 1000);
    };
    const raw = () =>
      run(async () => {
        if (!(await argon2.verify(hash, PASSWORD))) throw new Error('verify failed');
      });
    const body = JSON.stringify({ email: user.email, password: PASSWORD });
    // The client runs in this process: a load generator in its own process measured
    // lower (0.73 ×), its CPU and wake-ups competing for the same two cores.
    const login = () =>
      run(async () => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        if (response.status !== 200) throw new Error(`login answered ${response.status}`);
        await response.arrayBuffer();
      });

    const rounds = SMOKE ? 1 : 5;
    const rawRates: number[] = [];
    const loginRates: number[] = [];
    const delays: number[] = [];
    for (let round = 0; round < rounds; round++) {
      rawRates.push(await raw());
      const monitor = monitorEventLoopDelay({ resolution: 5 });
      monitor.enable();
      loginRates.push(await login());
      monitor.disable();
      delays.push(monitor.percentile(99) / 1e6);
    }
    const rawRate = rawRates.sort((a, b) => a - b)[Math.floor(rounds / 2)];
    const loginRate = loginRates.sort((a, b) => a - b)[Math.floor(rounds / 2)];
    const p99 = percentile(delays, 50);
    console.log(
      `\n(b) login throughput, ${total} per round, concurrency ${concurrency}, ${availableParallelism()} cores, median of ${rounds}`,
    );
    console.log(`raw argon2id verify        ${fmt(rawRate, 1).padStart(8)} /s`);
    console.log(
      `POST /api/v1/auth/login    ${fmt(loginRate, 1).padStart(8)} /s   ratio ${fmt(loginRate / rawRate)} ×`,
    );
    console.log(`API event-loop delay p99 during login load: ${fmt(p99, 1)} ms`);
    console.log(
      `target: ratio ≥ 0.8 and p99 < 20 ms → ${loginRate / rawRate >= 0.8 && p99 < 20 ? 'met' : 'NOT met'}`,
    );
  } finally {
    await app.close();
    await db.drop();
  }
}

async function main(): Promise<void> {
  verification();
  await prepareTemplate();
  try {
    await loginThroughput();
  } finally {
    await dropTemplate();
  }
}

runBenchmark(main);
