import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_ENCRYPTION_KEYS, TEST_JWT_SECRET } from './app';
import type { TestDatabase } from './database';
import { ROOT } from './env';
import { testRedisUrl } from './redis';

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or the signal name) once the process ends. */
  exited: Promise<number | string>;
}

/**
 * Starts an entrypoint from source as its own process (the way `npm run dev` does),
 * with exactly the given environment: it runs in an empty folder, so no `.env`
 * fills in what a test leaves out.
 */
export function spawnEntrypoint(entry: 'main.api' | 'main.worker', env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', join(ROOT, 'src', `${entry}.ts`)], {
    cwd: mkdtempSync(join(tmpdir(), 'hb-proc-')),
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(ROOT, 'node_modules'),
      SWCRC: 'true',
      SWC_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return { child, output: () => output, exited };
}

/** What an entrypoint process needs to run against a test file's database clone and
 *  the test Redis, as production runs it; `extra` adds or overrides variables. */
export function processEnv(
  db: Pick<TestDatabase, 'appUrl' | 'adminUrl'>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: db.appUrl,
    DATABASE_ADMIN_URL: db.adminUrl,
    REDIS_URL: testRedisUrl(),
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    ENCRYPTION_KEYS: TEST_ENCRYPTION_KEYS,
    ...extra,
  };
}

/** Polls a URL until it answers `status`, or fails after `timeoutMs`. */
export async function waitForHttp(url: string, status = 200, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url);
      if (response.status === status) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${url} did not answer ${status} within ${timeoutMs} ms (last: ${last})`);
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
