// The deployment files (docker-compose.yml, Dockerfile, .dockerignore) cannot be run
// here (no Docker engine), so this spec reads them and checks them against the
// repository: the files a command runs exist, the npm scripts exist, the environment
// matches the zod schema, the image contains what the processes need. Renaming an
// entrypoint, a script or an env variable without updating them fails here.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

import { parse } from 'yaml';

import { envSchema } from '../../src/infra/config/env.schema';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const inRepo = (file: string) => existsSync(path.join(ROOT, file));

// ─────────────────────────────────── compose ───────────────────────────────────

type EnvValue = string | number | boolean | null;

interface ComposeService {
  image?: string;
  build?: string | { context?: string; dockerfile?: string; target?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, EnvValue> | string[];
  env_file?: unknown;
  ports?: (string | number | { target?: number | string; published?: number | string })[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string | string[] };
  configs?: (string | { source: string; target?: string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  container_name?: string;
  restart?: string;
  stop_grace_period?: string;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  configs?: Record<string, { content?: string; file?: string } | null>;
  volumes?: Record<string, unknown>;
}

const composeText = read('docker-compose.yml');
const compose = parse(composeText, { merge: true }) as ComposeFile;
const services = compose.services ?? {};
const APP_SERVICES = ['migrate', 'api', 'worker'] as const;

function service(name: string): ComposeService {
  const found = services[name];
  if (!found) throw new Error(`docker-compose.yml has no service "${name}"`);
  return found;
}

/**
 * Compose variable substitution with no variable set: `${X:-default}` and
 * `${X-default}` give the default, `$$` a dollar. A bare `${X}` has no value on a
 * fresh checkout, so `docker compose up` would start with it empty: rejected.
 */
function interpolate(value: string, where: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match, _braced: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (match === '$$') return '$';
      if (op === ':-' || op === '-') return arg ?? '';
      throw new Error(`${where}: ${match} has no default value`);
    },
  );
}

/** The environment a service's container gets (names → values after substitution). */
function environmentOf(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const entries: [string, EnvValue][] = Array.isArray(env)
    ? env.map((item) => {
        const eq = item.indexOf('=');
        return eq < 0 ? [item, null] : [item.slice(0, eq), item.slice(eq + 1)];
      })
    : Object.entries(env);
  return Object.fromEntries(
    entries.map(([key, value]) => {
      // `KEY:` with no value passes the host's variable through: unset on a fresh checkout.
      if (value === null) throw new Error(`${name}.environment.${key} takes its value from the host`);
      return [key, interpolate(String(value), `${name}.environment.${key}`)];
    }),
  );
}

function argv(command: string | string[] | undefined): string[] {
  if (command === undefined) return [];
  return Array.isArray(command) ? command : command.trim().split(/\s+/);
}

/** The file `node [flags] <file> …` runs; undefined for `node -e …` or another program. */
function nodeScriptOf(args: string[]): string | undefined {
  if (args.length === 0 || path.posix.basename(args[0]) !== 'node') return undefined;
  for (let i = 1; i < args.length; i++) {
    const arg = args[i];
    if (['-e', '--eval', '-p', '--print'].includes(arg)) return undefined;
    if (arg.startsWith('-')) {
      if (['-r', '--require', '--import', '--env-file'].includes(arg)) i++;
      continue;
    }
    return arg;
  }
  return undefined;
}

function dependencies(name: string): Record<string, string> {
  const deps = service(name).depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((dep) => [dep, 'service_started']));
  return Object.fromEntries(
    Object.entries(deps).map(([dep, spec]) => [dep, spec.condition ?? 'service_started']),
  );
}

interface PortMapping {
  hostIp?: string;
  published?: string;
  target: string;
}

function portsOf(name: string): PortMapping[] {
  return (service(name).ports ?? []).map((port) => {
    if (typeof port === 'number') return { target: String(port) };
    if (typeof port === 'object') {
      return {
        target: String(port.target),
        published: port.published === undefined ? undefined : String(port.published),
      };
    }
    const parts = interpolate(port, `${name}.ports`).split('/')[0].split(':');
    const target = parts.pop() as string;
    const published = parts.pop();
    return { hostIp: parts.pop(), published: published || undefined, target };
  });
}

/** Compose durations: `15s`, `1m30s`, `500ms`. */
function durationMs(value: string): number {
  const units: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...value.matchAll(/(\d+(?:\.\d+)?)(us|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== value)
    throw new Error(`bad duration "${value}"`);
  return parts.reduce((total, [, amount, unit]) => total + Number(amount) * units[unit], 0);
}

function healthcheckArgv(name: string): string[] {
  const test = service(name).healthcheck?.test;
  if (test === undefined) return [];
  if (!Array.isArray(test)) return ['CMD-SHELL', test];
  return test;
}

// ────────────────────────────────── Dockerfile ──────────────────────────────────

interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Line-level Dockerfile parsing: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical: { text: string; line: number }[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (pending === '') start = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      return;
    }
    logical.push({ text: pending + line, line: start });
    pending = '';
  });

  const stages: Stage[] = [];
  for (const { text: instruction, line } of logical) {
    const [, keyword, args = ''] = /^(\S+)\s*(.*)$/.exec(instruction) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const words = args.split(/\s+/).filter((word) => !word.startsWith('--'));
      const asIndex = words.findIndex((word) => word.toUpperCase() === 'AS');
      stages.push({ image: words[0], name: asIndex > 0 ? words[asIndex + 1] : undefined, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${line}: ${upper} before FROM`);
    stage.instructions.push({ keyword: upper, args, line });
  }
  return stages;
}

/** Exec form `["a", "b"]` or shell form (run by /bin/sh -c). */
function execArgv(args: string): string[] {
  const trimmed = args.trim();
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[];
  return ['/bin/sh', '-c', trimmed];
}

function flagsAndWords(args: string): { flags: Record<string, string>; words: string[] } {
  const tokens = args.trim().startsWith('[') ? (JSON.parse(args) as string[]) : args.trim().split(/\s+/);
  const flags: Record<string, string> = {};
  const words: string[] = [];
  for (const token of tokens) {
    const flag = /^--([a-z-]+)(?:=(.*))?$/.exec(token);
    if (flag) flags[flag[1]] = flag[2] ?? 'true';
    else words.push(token);
  }
  return { flags, words };
}

const dockerfileText = read('Dockerfile');
const stages = parseDockerfile(dockerfileText);
const runtime = stages.at(-1) as Stage;
const buildStage = stages.find((stage) => stage.name === 'build') ?? stages[0];

function workdirOf(stage: Stage): string {
  const workdirs = stage.instructions.filter((i) => i.keyword === 'WORKDIR');
  return workdirs.at(-1)?.args.trim() ?? '/';
}

/** Paths (relative to the runtime WORKDIR) that the runtime stage copies in. */
function runtimeCopiedPaths(): string[] {
  const workdir = workdirOf(runtime);
  const out: string[] = [];
  for (const instruction of runtime.instructions) {
    if (instruction.keyword !== 'COPY' && instruction.keyword !== 'ADD') continue;
    const { words } = flagsAndWords(instruction.args);
    const dest = words.at(-1) as string;
    const sources = words.slice(0, -1);
    const destAbs = path.posix.resolve(workdir, dest);
    const intoDirectory = sources.length > 1 || dest.endsWith('/') || dest === '.';
    for (const source of sources) {
      const target = intoDirectory ? path.posix.join(destAbs, path.posix.basename(source)) : destAbs;
      out.push(path.posix.relative(workdir, target));
    }
  }
  return out;
}

const isUnder = (file: string, dir: string) => file === dir || file.startsWith(`${dir}/`);

// ──────────────────────────────────── shared ────────────────────────────────────

const packageJson = JSON.parse(read('package.json')) as {
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

const schemaKeys = Object.keys(envSchema.shape);
const requiredKeys = Object.entries(envSchema.shape)
  .filter(([, field]) => !field.safeParse(undefined).success)
  .map(([key]) => key);

function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}

/** `npm run x`, `npm run-script x`, `npm start` / `npm test` in a piece of text. */
function npmScriptsIn(text: string): string[] {
  const named = [...text.matchAll(/\bnpm\s+(?:run|run-script)\s+(?:--?[\w-]+\s+)*([^\s"'`;&|)\\]+)/g)];
  const lifecycle = [...text.matchAll(/\bnpm\s+(start|test|stop|restart)\b/g)];
  return [...named, ...lifecycle].map((match) => match[1]);
}

/**
 * Where a command's file comes from: `dist/X.js` is compiled from `src/X.ts`
 * (tsconfig.build.json: rootDir src, outDir dist); anything else ships as is.
 */
function sourceOf(file: string): string {
  const normalized = path.posix.normalize(file.replace(/^\/app\//, ''));
  const dist = /^dist\/(.+)\.js$/.exec(normalized);
  return dist ? `src/${dist[1]}.ts` : normalized;
}

// ──────────────────────────────────── specs ────────────────────────────────────

describe('docker-compose.yml', () => {
  it('defines postgres, redis, migrate, api and worker', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'redis', 'migrate', 'api', 'worker']),
    );
  });

  it('runs Postgres with pgvector, a named volume, a password and a pg_isready healthcheck', () => {
    const postgres = service('postgres');
    expect(postgres.image).toContain('pgvector');
    expect(environmentOf('postgres').POSTGRES_PASSWORD).toBeTruthy();
    const volumes = (postgres.volumes ?? []).map((v) => (typeof v === 'string' ? v.split(':')[0] : v.source));
    expect(volumes.some((volume) => volume !== undefined && volume in (compose.volumes ?? {}))).toBe(true);
    expect(healthcheckArgv('postgres').join(' ')).toContain('pg_isready');
    expect(portsOf('postgres').map((port) => port.target)).toContain('5432');
  });

  it('runs Redis with an append-only file, noeviction, a volume and a ping healthcheck', () => {
    const redis = service('redis');
    const command = argv(redis.command).join(' ');
    expect(command).toMatch(/--appendonly\s+yes\b/);
    expect(command).toMatch(/--maxmemory-policy\s+noeviction\b/);
    expect(redis.volumes?.length).toBeGreaterThan(0);
    expect(healthcheckArgv('redis').join(' ')).toContain('redis-cli ping');
  });

  it('publishes the API on port 3000 (its PORT)', () => {
    const port = environmentOf('api').PORT ?? '3000';
    expect(portsOf('api')).toContainEqual(expect.objectContaining({ published: '3000', target: port }));
  });

  it('publishes no fixed host port for the worker and names no container, so it scales', () => {
    expect(portsOf('worker').filter((port) => port.published !== undefined)).toEqual([]);
    expect(service('worker').container_name).toBeUndefined();
  });

  it('runs migrations once, before the API and the workers start', () => {
    const migrate = service('migrate');
    expect(argv(migrate.command)).toEqual(['node', 'scripts/db/cli.mjs', 'migrate']);
    expect(migrate.restart).toBe('no');
    expect(dependencies('migrate')).toMatchObject({ postgres: 'service_healthy' });
    for (const name of ['api', 'worker']) {
      expect({ name, deps: dependencies(name) }).toMatchObject({
        name,
        deps: { migrate: 'service_completed_successfully', redis: 'service_healthy' },
      });
    }
  });

  it.each(APP_SERVICES)('runs %s from the image built by ./Dockerfile', (name) => {
    const own = service(name);
    const builder = own.build
      ? own
      : Object.values(services).find(
          (other) => other.build && other.image !== undefined && other.image === own.image,
        );
    expect(builder?.build).toBeDefined();
    const build = typeof builder?.build === 'string' ? { context: builder.build } : (builder?.build ?? {});
    expect(path.resolve(ROOT, build.context ?? '.')).toBe(ROOT);
    expect(build.dockerfile ?? 'Dockerfile').toBe('Dockerfile');
    expect(build.target ?? runtime.name).toBe(runtime.name);
  });

  it('lets the API and workers drain for longer than SHUTDOWN_GRACE_MS before SIGKILL', () => {
    for (const name of ['api', 'worker']) {
      const graceMs = Number(
        environmentOf(name).SHUTDOWN_GRACE_MS ?? envSchema.shape.SHUTDOWN_GRACE_MS.parse(undefined),
      );
      // Compose's default is 10s.
      const stopMs = durationMs(service(name).stop_grace_period ?? '10s');
      expect({ name, longer: stopMs > graceMs }).toEqual({ name, longer: true });
    }
  });

  it('probes /health/ready with node (slim images have no curl) on each process port', () => {
    const probes = {
      api: environmentOf('api').PORT ?? '3000',
      worker: environmentOf('worker').WORKER_HTTP_PORT ?? '3001',
    };
    for (const [name, port] of Object.entries(probes)) {
      const test = healthcheckArgv(name);
      expect(test[0]).toBe('CMD');
      expect(test[1]).toBe('node');
      expect(test.join(' ')).toContain(`:${port}/health/ready`);
    }
  });
});

describe('environment of the app services', () => {
  it.each(APP_SERVICES)('%s sets only variables the env schema knows, and no env_file', (name) => {
    expect(service(name).env_file).toBeUndefined();
    const unknown = Object.keys(environmentOf(name)).filter((key) => !schemaKeys.includes(key));
    expect(unknown).toEqual([]);
  });

  it('finds required variables in the schema', () => {
    // Guards the check below against a schema API change that would make it vacuous.
    expect(requiredKeys).toEqual(expect.arrayContaining(['DATABASE_URL', 'DATABASE_ADMIN_URL', 'REDIS_URL']));
  });

  it.each(['api', 'worker'])('%s sets every required variable, and its environment parses', (name) => {
    const env = environmentOf(name);
    expect(requiredKeys.filter((key) => !(key in env))).toEqual([]);
    const parsed = envSchema.safeParse(env);
    expect(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual(
      [],
    );
  });

  it('gives the migrator the owner URL to migrate with and the application URL to grant', () => {
    expect(Object.keys(environmentOf('migrate'))).toEqual(
      expect.arrayContaining(['DATABASE_ADMIN_URL', 'DATABASE_URL']),
    );
  });

  it.each(APP_SERVICES)('%s reaches Postgres and Redis by their compose service names', (name) => {
    const urls = Object.entries(environmentOf(name)).filter(([, value]) =>
      /^(postgres(ql)?|rediss?):\/\//.test(value),
    );
    expect(urls.map(([key]) => key)).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'DATABASE_ADMIN_URL', 'REDIS_URL']),
    );
    for (const [key, value] of urls) {
      const host = new URL(value).hostname;
      expect({ key, host, isService: host in services }).toEqual({ key, host, isService: true });
    }
  });

  it('connects the app as a non-owner role that the Postgres init script creates without BYPASSRLS', () => {
    const env = environmentOf('api');
    const app = new URL(env.DATABASE_URL);
    const owner = new URL(env.DATABASE_ADMIN_URL);
    expect(app.username).not.toBe(owner.username);

    const postgresEnv = environmentOf('postgres');
    expect(app.pathname).toBe(`/${postgresEnv.POSTGRES_DB}`);
    expect(owner.pathname).toBe(`/${postgresEnv.POSTGRES_DB}`);
    expect(owner.username).toBe(postgresEnv.POSTGRES_USER ?? 'postgres');
    expect(decodeURIComponent(owner.password)).toBe(postgresEnv.POSTGRES_PASSWORD);

    const initConfigs = (service('postgres').configs ?? [])
      .map((config) => (typeof config === 'string' ? { source: config, target: `/${config}` } : config))
      .filter((config) => config.target?.startsWith('/docker-entrypoint-initdb.d/'));
    expect(initConfigs).toHaveLength(1);
    const sql = interpolate(compose.configs?.[initConfigs[0].source]?.content ?? '', 'configs');
    const role = new RegExp(`CREATE\\s+ROLE\\s+"?${app.username}"?\\b([^;]*);`, 'i').exec(sql);
    expect(role?.[1]).toMatch(/\bLOGIN\b/i);
    expect(role?.[1]).toMatch(/\bNOBYPASSRLS\b/i);
    expect(role?.[1]).not.toMatch(/(^|\s)(SUPERUSER|BYPASSRLS)\b/i);
    expect(role?.[1]).toContain(`PASSWORD '${decodeURIComponent(app.password)}'`);
    expect(sql).toMatch(/CREATE\s+EXTENSION\s+IF\s+NOT\s+EXISTS\s+vector/i);
  });
});

describe('commands and scripts', () => {
  const runtimePaths = runtimeCopiedPaths();
  const commands: { where: string; args: string[] }[] = [
    ...Object.entries(services).flatMap(([name, svc]) => [
      { where: `${name}.command`, args: argv(svc.command) },
      { where: `${name}.entrypoint`, args: argv(svc.entrypoint) },
    ]),
    ...runtime.instructions
      .filter((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT')
      .map((i) => ({ where: `Dockerfile:${i.line} ${i.keyword}`, args: execArgv(i.args) })),
  ];
  const nodeScripts = commands
    .map(({ where, args }) => ({ where, file: nodeScriptOf(args) }))
    .filter((entry): entry is { where: string; file: string } => entry.file !== undefined);

  it('finds the node entrypoints (API, worker, migrator)', () => {
    expect(nodeScripts.map((entry) => entry.file)).toEqual(
      expect.arrayContaining(['dist/main.api.js', 'dist/main.worker.js', 'scripts/db/cli.mjs']),
    );
  });

  it('runs only files the build produces from a real source, or that exist in the repository', () => {
    const missing = nodeScripts.filter(({ file }) => !inRepo(sourceOf(file)));
    expect(missing).toEqual([]);
  });

  it('runs only files the runtime image contains', () => {
    const absent = nodeScripts.filter(
      ({ file }) => !runtimePaths.some((dir) => isUnder(path.posix.normalize(file), dir)),
    );
    expect(absent).toEqual([]);
  });

  it('uses only npm scripts that package.json defines', () => {
    const referenced = [
      ...allStrings(compose).flatMap((text) =>
        npmScriptsIn(text).map((script) => ({ where: 'compose', script })),
      ),
      ...stages.flatMap((stage) =>
        stage.instructions.flatMap((i) =>
          npmScriptsIn(i.args).map((script) => ({ where: `Dockerfile:${i.line}`, script })),
        ),
      ),
    ];
    expect(referenced.map((ref) => ref.script)).toEqual(expect.arrayContaining(['db:generate', 'build']));
    expect(referenced.filter(({ script }) => !(script in packageJson.scripts))).toEqual([]);
  });

  it('keeps the migrator runnable in the pruned image: scripts/db imports only builtins, itself and dependencies', () => {
    const dir = path.join(ROOT, 'scripts', 'db');
    const problems: string[] = [];
    const packages = new Set<string>();
    for (const file of readdirSync(dir).filter((name) => /\.(mjs|cjs|js)$/.test(name))) {
      const code = readFileSync(path.join(dir, file), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/^\s*\/\/.*$/gm, '');
      const specifiers = [
        ...code.matchAll(
          /\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm,
        ),
        ...code.matchAll(/\brequire(?:\.resolve)?\(\s*['"]([^'"]+)['"]/g),
      ].map((match) => match.slice(1).find((group) => group !== undefined) as string);
      for (const specifier of specifiers) {
        if (specifier.startsWith('.')) {
          const target = path.resolve(dir, specifier);
          if (!isUnder(target, dir) || !existsSync(target)) problems.push(`${file}: ${specifier}`);
          continue;
        }
        if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
        const pkg = specifier.startsWith('@')
          ? specifier.split('/').slice(0, 2).join('/')
          : specifier.split('/')[0];
        packages.add(pkg);
        if (!(pkg in packageJson.dependencies))
          problems.push(`${file}: ${specifier} is not a production dependency`);
      }
    }
    // Guards against a parser change that would make this check vacuous.
    expect([...packages]).toEqual(expect.arrayContaining(['pg', '@prisma/schema-engine-wasm']));
    expect(problems).toEqual([]);
  });
});

describe('Dockerfile', () => {
  it('builds and runs on node:24-slim', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    expect(stages.map((stage) => stage.image)).toEqual(stages.map(() => 'node:24-slim'));
    expect(runtime.image).toBe('node:24-slim');
  });

  it('installs, generates the Prisma client, compiles, then drops dev dependencies, in that order', () => {
    const runs = buildStage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
    const step = (pattern: RegExp) => runs.findIndex((run) => pattern.test(run));
    const order = [
      step(/\bnpm ci\b/),
      step(/\bnpm run db:generate\b/),
      step(/\bnpm run build\b/),
      step(/\bnpm prune\b.*--omit=dev/),
    ];
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('runs as a non-root user with NODE_ENV=production', () => {
    const users = runtime.instructions
      .filter((i) => i.keyword === 'USER')
      .map((i) => i.args.split(':')[0].trim());
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
    const env = runtime.instructions
      .filter((i) => i.keyword === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).toMatch(/\bNODE_ENV[= ]"?production\b/);
  });

  it('copies dist, production node_modules, package.json, prisma/ and scripts/db from the build stage', () => {
    expect(runtimeCopiedPaths()).toEqual(
      expect.arrayContaining(['dist', 'node_modules', 'package.json', 'prisma', 'scripts/db']),
    );
    const copies = runtime.instructions
      .filter((i) => i.keyword === 'COPY')
      .map((i) => flagsAndWords(i.args).flags);
    expect(copies.every((flags) => flags.from === buildStage.name)).toBe(true);
  });

  it('exposes the API and worker health ports and starts the API by default', () => {
    const exposed = runtime.instructions
      .filter((i) => i.keyword === 'EXPOSE')
      .flatMap((i) => i.args.split(/\s+/).map((port) => port.split('/')[0]));
    expect(exposed).toEqual(expect.arrayContaining(['3000', '3001']));
    const cmd = runtime.instructions.filter((i) => i.keyword === 'CMD').at(-1);
    expect(cmd && execArgv(cmd.args)).toEqual(['node', 'dist/main.api.js']);
  });
});

describe('.dockerignore', () => {
  /** Docker's rules, simplified: globs on the context-relative path; a match on a
   *  directory covers what is inside; the last matching line (or `!` line) wins. */
  const rules = read('.dockerignore')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const negate = line.startsWith('!');
      const pattern = path.posix
        .normalize((negate ? line.slice(1) : line).replace(/^\/+/, ''))
        .replace(/\/+$/, '');
      const source = pattern
        .split(/(\*\*\/?|\*|\?)/)
        .map((part) => {
          if (part === '**/' || part === '**') return '(?:.*/)?';
          if (part === '*') return '[^/]*';
          if (part === '?') return '[^/]';
          return part.replace(/[.+^${}()|[\]\\]/g, '\\$&');
        })
        .join('');
      return { negate, regex: new RegExp(`^${source}$`) };
    });

  const ignored = (file: string): boolean => {
    const segments = file.split('/');
    const candidates = segments.map((_, i) => segments.slice(0, i + 1).join('/'));
    let result = false;
    for (const rule of rules) {
      if (candidates.some((candidate) => rule.regex.test(candidate))) result = !rule.negate;
    }
    return result;
  };

  it('keeps installed, built and secret files out of the build context', () => {
    const mustIgnore = [
      'node_modules',
      'dist',
      '.git',
      '.env',
      'coverage',
      'src/infra/database/generated/client.ts',
    ];
    expect(mustIgnore.filter((file) => !ignored(file))).toEqual([]);
  });

  it('keeps everything the build stage reads', () => {
    const contextCopies = buildStage.instructions
      .filter((i) => i.keyword === 'COPY' && !flagsAndWords(i.args).flags.from)
      .flatMap((i) => flagsAndWords(i.args).words.slice(0, -1))
      .filter((source) => source !== '.');
    const needed = [
      ...contextCopies,
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'nest-cli.json',
      'prisma.config.ts',
      'prisma/schema.prisma',
      'prisma/migrations/migration_lock.toml',
      'scripts/prisma-generate.sh',
      'scripts/node-env.sh',
      'scripts/db/cli.mjs',
      'src/main.api.ts',
      'src/main.worker.ts',
    ];
    expect(needed.filter((file) => !inRepo(file))).toEqual([]);
    expect(needed.filter(ignored)).toEqual([]);
  });
});
