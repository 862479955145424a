// @ts-check
// Programmatic API of the db tooling (the CLI in cli.mjs is a thin wrapper):
//
//   migrate(opts)                 apply pending migrations (like `prisma migrate deploy`)
//   createMigration(name, opts)   write the next migration from migrations → schema diff
//   check(opts)                   does the migrations folder match the Prisma schema?
//   resolve(what, opts)           mark a failed migration rolled back / a migration applied
//   diffMigrationsToSchema(opts)  the raw + filtered diff used by the two above
//
// Options (all optional): adminUrl, appUrl, shadowUrl, schemaPath, migrationsDir,
// log, engineLog — see DbOptions in db.mjs. Unset URLs come from the environment
// (DATABASE_ADMIN_URL, DATABASE_URL, SHADOW_DATABASE_URL); the CLI also loads .env.

import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

import {
  databaseOf,
  ensureDatabase,
  grantAppRole,
  lockfileProblem,
  LOCKFILE_CONTENT,
  migrationTimestamp,
  prepareShadow,
  readMigrations,
  readSchemaFiles,
  redact,
  resolveConfig,
  slugifyMigrationName,
  withLockfile,
  withClient,
  withMigrateLock,
  writeLockfile,
} from './db.mjs';
import { NO_FILTER, openEngine } from './engine.mjs';
import { filterKnownHandwritten } from './handwritten.mjs';

/** @typedef {import('./db.mjs').DbOptions} DbOptions */

/** An error whose message is meant for the user as is (no stack needed). */
export class DbCommandError extends Error {}

// ─────────────────────────────────── migrate ───────────────────────────────────

/**
 * @typedef {object} MigrateResult
 * @property {string} database
 * @property {boolean} createdDatabase
 * @property {string[]} applied Migrations applied by this run (empty: nothing pending).
 * @property {number} total Migrations in the folder.
 * @property {import('./db.mjs').GrantResult} grants
 */

/**
 * Applies the pending migrations to the admin database under an advisory lock, then
 * grants the application role. Throws DbCommandError when a migration fails.
 *
 * @param {DbOptions} [opts]
 * @returns {Promise<MigrateResult>}
 */
export async function migrate(opts = {}) {
  const cfg = resolveConfig(opts);
  const list = await readMigrations(cfg.migrationsDir);
  const problem = lockfileProblem(list);
  if (problem) throw new DbCommandError(`${cfg.migrationsDir}: ${problem}`);

  const database = databaseOf(cfg.adminUrl);
  const createdDatabase = await ensureDatabase(cfg.adminUrl);
  if (createdDatabase) cfg.log(`created database ${database}`);

  return withMigrateLock(
    cfg.adminUrl,
    async () => {
      /** @type {string[]} */
      let applied = [];
      if (list.migrationDirectories.length > 0) {
        const h = await openEngine({ url: cfg.adminUrl, log: cfg.engineLog });
        try {
          const out = await h.engine.applyMigrations({ migrationsList: list, filters: NO_FILTER });
          applied = out.appliedMigrationNames;
        } catch (e) {
          const failed = await failedMigrations(cfg.adminUrl).catch(() => []);
          const which = failed.length ? `migration ${failed.join(', ')}` : 'migrate';
          const hint = failed.length
            ? `\nEach migration runs as one transaction, so a failed one left no changes (unless it has its own ` +
              `BEGIN/COMMIT). Fix it, then: node scripts/db/cli.mjs resolve --rolled-back ${failed[0]} && npm run db:migrate`
            : '';
          throw new DbCommandError(
            `${which} failed on ${redact(cfg.adminUrl)}:\n${h.explain(e).message}${hint}`,
            {
              cause: e,
            },
          );
        } finally {
          await h.close();
        }
      }
      // Inside the lock: concurrent GRANTs on the same objects can fail with
      // "tuple concurrently updated".
      const grants = await grantAppRole(cfg.adminUrl, cfg.appUrl);
      return { database, createdDatabase, applied, total: list.migrationDirectories.length, grants };
    },
    { onWait: () => cfg.log('another migrator holds the migration lock; waiting…') },
  );
}

/**
 * Names of migrations recorded as started but neither finished nor rolled back.
 * @param {string} url
 */
async function failedMigrations(url) {
  return withClient(url, async (c) => {
    const r = await c.query(
      `SELECT migration_name FROM _prisma_migrations
        WHERE finished_at IS NULL AND rolled_back_at IS NULL ORDER BY started_at`,
    );
    return r.rows.map((row) => String(row.migration_name));
  });
}

// ─────────────────────────────────── resolve ───────────────────────────────────

/**
 * `prisma migrate resolve`: mark a failed migration as rolled back (after fixing the
 * database by hand or when it left no changes), or a migration as applied without
 * running it (baselining).
 *
 * @param {{ rolledBack?: string, applied?: string }} what
 * @param {DbOptions} [opts]
 */
export async function resolve(what, opts = {}) {
  const cfg = resolveConfig(opts);
  const name = what.rolledBack ?? what.applied;
  if (!name || (what.rolledBack && what.applied)) {
    throw new DbCommandError(
      'resolve needs exactly one of --rolled-back <migration> or --applied <migration>',
    );
  }
  const list = await readMigrations(cfg.migrationsDir);
  return withMigrateLock(cfg.adminUrl, async () => {
    const h = await openEngine({ url: cfg.adminUrl, log: cfg.engineLog });
    try {
      if (what.rolledBack) await h.engine.markMigrationRolledBack({ migrationName: name });
      else await h.engine.markMigrationApplied({ migrationName: name, migrationsList: list });
    } catch (e) {
      throw new DbCommandError(h.explain(e).message, { cause: e });
    } finally {
      await h.close();
    }
    return { migration: name, marked: what.rolledBack ? 'rolled-back' : 'applied' };
  });
}

// ──────────────────────────────────── diff ────────────────────────────────────

/**
 * @typedef {object} DiffResult
 * @property {string} raw The engine's script (migrations folder → Prisma schema).
 * @property {string} sql The same without the known hand-written differences; '' = in sync.
 * @property {{ sql: string, why: string }[]} ignored
 */

/**
 * Applies the migrations folder to a temporary shadow database and diffs it against
 * the Prisma schema.
 *
 * @param {DbOptions} [opts]
 * @returns {Promise<DiffResult>}
 */
export async function diffMigrationsToSchema(opts = {}) {
  const cfg = resolveConfig(opts);
  const [files, list] = await Promise.all([
    readSchemaFiles(cfg.schemaPath),
    readMigrations(cfg.migrationsDir),
  ]);
  const shadow = await prepareShadow(cfg);
  try {
    const h = await openEngine({
      url: shadow.maintenanceUrl,
      shadowUrl: shadow.url,
      schemaFiles: files,
      log: cfg.engineLog,
    });
    try {
      const out = await h.engine.diff({
        from: { tag: 'migrations', ...withLockfile(list) },
        to: { tag: 'schemaDatamodel', files },
        script: true,
        exitCode: true,
        filters: NO_FILTER,
      });
      const raw = out.stdout ?? '';
      return { raw, ...filterKnownHandwritten(raw) };
    } catch (e) {
      throw new DbCommandError(h.explain(e).message, { cause: e });
    } finally {
      await h.close();
    }
  } finally {
    await shadow.dispose();
  }
}

// ───────────────────────────────── new migration ─────────────────────────────────

/**
 * @typedef {object} CreateMigrationResult
 * @property {string | null} directory The new migration folder, or null: no changes.
 * @property {string} sql What was written.
 * @property {{ sql: string, why: string }[]} ignored
 */

/**
 * Writes `<migrations>/<YYYYMMDDHHMMSS>_<name>/migration.sql` with the SQL that brings
 * the migrations folder to the Prisma schema. Nothing is written when there is no
 * difference, unless `empty` asks for an empty migration to fill in by hand (for SQL
 * Prisma cannot express, e.g. row-level security policies).
 *
 * @param {string} name
 * @param {DbOptions & { empty?: boolean }} [opts]
 * @returns {Promise<CreateMigrationResult>}
 */
export async function createMigration(name, opts = {}) {
  const cfg = resolveConfig(opts);
  const slug = slugifyMigrationName(name ?? '');
  if (!slug)
    throw new DbCommandError('a migration name is required, e.g. `npm run db:migration -- add_user_avatar`');

  /** @type {DiffResult} */
  let diff = { raw: '', sql: '', ignored: [] };
  if (!opts.empty) {
    diff = await diffMigrationsToSchema(cfg);
    if (!diff.sql) return { directory: null, sql: '', ignored: diff.ignored };
  }

  const dirName = `${migrationTimestamp()}_${slug}`;
  const directory = path.join(cfg.migrationsDir, dirName);
  if (existsSync(directory)) throw new DbCommandError(`the migration folder already exists: ${directory}`);
  await mkdir(directory, { recursive: true });
  const sql = opts.empty
    ? '-- Hand-written migration: SQL the Prisma schema cannot express.\n-- Say above each statement why it is hand-written.\n'
    : diff.sql;
  await writeFile(path.join(directory, 'migration.sql'), sql, 'utf8');
  const list = await readMigrations(cfg.migrationsDir);
  if (list.lockfile.content !== LOCKFILE_CONTENT) await writeLockfile(cfg.migrationsDir);
  return { directory, sql, ignored: diff.ignored };
}

// ──────────────────────────────────── check ────────────────────────────────────

/**
 * @typedef {object} CheckResult
 * @property {boolean} ok
 * @property {string} sql SQL a new migration would contain ('' when ok).
 * @property {string[]} problems Other problems (migration_lock.toml).
 * @property {{ sql: string, why: string }[]} ignored Known hand-written differences that were not counted.
 */

/**
 * @param {DbOptions} [opts]
 * @returns {Promise<CheckResult>}
 */
export async function check(opts = {}) {
  const cfg = resolveConfig(opts);
  const list = await readMigrations(cfg.migrationsDir);
  const problem = lockfileProblem(list);
  const diff = await diffMigrationsToSchema(cfg);
  const problems = problem ? [`${cfg.migrationsDir}: ${problem}`] : [];
  return { ok: !diff.sql && problems.length === 0, sql: diff.sql, problems, ignored: diff.ignored };
}
