#!/usr/bin/env node
// @ts-check
// Database migrations without the native Prisma schema engine (see
// shared/spec/environment.md): drives @prisma/schema-engine-wasm. Plain ESM so the
// production image's one-shot migrate container runs it with `node`, no build step.
//
//   node scripts/db/cli.mjs migrate                  apply pending migrations (npm run db:migrate)
//   node scripts/db/cli.mjs migration <name>         write the next migration (npm run db:migration -- <name>)
//   node scripts/db/cli.mjs check                    migrations == schema? (npm run db:check)
//   node scripts/db/cli.mjs resolve --rolled-back <migration>   after a failed migration

import { check, createMigration, DbCommandError, migrate, resolve } from './commands.mjs';
import { loadDotEnv, redact, REPO_ROOT, resolveConfig } from './db.mjs';

const USAGE = `Usage: node scripts/db/cli.mjs <command> [options]

Commands:
  migrate              Apply pending migrations from the migrations folder to the
                       database at DATABASE_ADMIN_URL (created if missing), under an
                       advisory lock; then grant DATABASE_URL's role DML rights.
  migration <name>     Write <migrations>/<YYYYMMDDHHMMSS>_<name>/migration.sql with the
                       SQL from the migrations folder to the Prisma schema. Prints
                       "no changes" and writes nothing when they already agree.
  check                Exit 0 when the migrations folder and the Prisma schema agree;
                       otherwise exit 1 and print the SQL a new migration would contain.
  resolve --rolled-back <migration> | --applied <migration>
                       Mark a failed migration as rolled back (after fixing it), or a
                       migration as applied without running it (prisma migrate resolve).

Options:
  --schema <path>      Prisma schema file or folder (default prisma/schema.prisma)
  --migrations <dir>   Migrations folder (default prisma/migrations)
  --empty              (migration) write an empty migration for hand-written SQL
  --verbose            Print what the check ignored and the engine's log
  -h, --help           Show this help

Environment (also read from .env in the repository root; set variables win):
  DATABASE_ADMIN_URL   owner connection (default postgresql://postgres@127.0.0.1:5432/hirebuddha)
  DATABASE_URL         application connection; its role gets SELECT/INSERT/UPDATE/DELETE
  SHADOW_DATABASE_URL  use this (wiped!) database as the shadow instead of a temporary one
`;

/**
 * @param {string[]} argv
 */
function parseArgs(argv) {
  /** @type {{ command?: string, name?: string, schema?: string, migrations?: string, rolledBack?: string, applied?: string, empty: boolean, verbose: boolean, help: boolean }} */
  const out = { empty: false, verbose: false, help: false };
  /** @type {string[]} */
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = () => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--schema':
        out.schema = value();
        break;
      case '--migrations':
        out.migrations = value();
        break;
      case '--rolled-back':
        out.rolledBack = value();
        break;
      case '--applied':
        out.applied = value();
        break;
      case '--empty':
        out.empty = true;
        break;
      case '--verbose':
        out.verbose = true;
        break;
      case '-h':
      case '--help':
        out.help = true;
        break;
      case '--name':
        positional.push(value());
        break;
      default:
        if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
        positional.push(a);
    }
  }
  [out.command, out.name] = positional;
  if (positional.length > 2) throw new UsageError(`unexpected argument ${positional[2]}`);
  return out;
}

class UsageError extends Error {}

/** @param {number} ms */
const secs = (ms) => `${(ms / 1000).toFixed(1)}s`;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.help || !args.command) {
    process.stdout.write(USAGE);
    return args.help ? 0 : 2;
  }
  loadDotEnv();

  const t0 = Date.now();
  /** @type {import('./db.mjs').DbOptions} */
  const opts = {
    schemaPath: args.schema,
    migrationsDir: args.migrations,
    log: (line) => console.log(line),
    engineLog: args.verbose ? (line) => console.error(`[engine] ${line}`) : undefined,
  };
  const cfg = resolveConfig(opts);
  const rel = (/** @type {string} */ p) =>
    p.startsWith(`${REPO_ROOT}/`) ? p.slice(REPO_ROOT.length + 1) : p;

  switch (args.command) {
    case 'migrate': {
      const r = await migrate(opts);
      if (r.applied.length === 0) {
        console.log(`${r.database}: no pending migrations (${r.total} applied) (${secs(Date.now() - t0)})`);
      } else {
        for (const name of r.applied) console.log(`applied ${name}`);
        console.log(`${r.database}: applied ${r.applied.length} migration(s) (${secs(Date.now() - t0)})`);
      }
      if (r.grants.granted) console.log(`granted DML on schema public to role ${r.grants.role}`);
      else if (r.grants.role && !/owner role/.test(r.grants.reason))
        console.warn(`warning: no grants: ${r.grants.reason}`);
      return 0;
    }

    case 'migration': {
      if (!args.name) throw new UsageError('migration needs a name: npm run db:migration -- <name>');
      const r = await createMigration(args.name, { ...opts, empty: args.empty });
      printIgnored(r.ignored, args.verbose);
      if (!r.directory) {
        console.log(
          `no changes: ${rel(cfg.migrationsDir)} already matches ${rel(cfg.schemaPath)} (${secs(Date.now() - t0)})`,
        );
        return 0;
      }
      console.log(`wrote ${rel(r.directory)}/migration.sql (${secs(Date.now() - t0)})`);
      if (args.verbose) process.stdout.write(`\n${r.sql}`);
      return 0;
    }

    case 'check': {
      const r = await check(opts);
      printIgnored(r.ignored, args.verbose);
      for (const p of r.problems) console.log(`problem: ${p}`);
      if (r.ok) {
        console.log(
          `ok: ${rel(cfg.migrationsDir)} matches ${rel(cfg.schemaPath)} (${secs(Date.now() - t0)})`,
        );
        return 0;
      }
      if (r.sql) {
        console.log(
          `drift: ${rel(cfg.schemaPath)} differs from ${rel(cfg.migrationsDir)}; ` +
            'a new migration (npm run db:migration -- <name>) would contain:\n',
        );
        process.stdout.write(r.sql);
      }
      return 1;
    }

    case 'resolve': {
      const r = await resolve({ rolledBack: args.rolledBack, applied: args.applied }, opts);
      console.log(`marked ${r.migration} as ${r.marked}`);
      return 0;
    }

    default:
      throw new UsageError(`unknown command ${JSON.stringify(args.command)}`);
  }
}

/**
 * @param {{ sql: string, why: string }[]} ignored
 * @param {boolean} verbose
 */
function printIgnored(ignored, verbose) {
  if (!verbose || ignored.length === 0) return;
  console.log(`ignored ${ignored.length} known hand-written difference(s) (scripts/db/handwritten.mjs):`);
  for (const i of ignored) console.log(`  ${i.sql}\n    -- ${i.why}`);
}

main().then(
  (code) => {
    process.exitCode = code;
    // Safety net only: everything is closed, so the process normally ends at once.
    setTimeout(() => process.exit(code), 5000).unref();
  },
  (e) => {
    if (e instanceof UsageError) {
      console.error(`error: ${e.message}\n`);
      console.error(USAGE);
      process.exitCode = 2;
      return;
    }
    const known = e instanceof DbCommandError || e?.code !== undefined;
    const hint =
      e?.code === 'ECONNREFUSED' ? ` (is Postgres running at ${redact(resolveConfig().adminUrl)}?)` : '';
    console.error(`error: ${e?.message ?? e}${hint}`);
    if (!known && process.env.DEBUG) console.error(e?.stack);
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 5000).unref();
  },
);
