// @ts-check
// Loads Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm)
// and connects it to Postgres through the pg driver adapter. The native schema engine
// cannot be downloaded on our machines, so `prisma migrate` is replaced by this.
//
// The .wasm module is instantiated by hand (not `import`ed) because Node 20 cannot
// import WebAssembly as ESM; this works the same on Node 20 and 24.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import * as bg from '@prisma/schema-engine-wasm/schema_engine_bg';

/** @typedef {import('@prisma/schema-engine-wasm').SchemaEngine} SchemaEngine */
/** @typedef {import('@prisma/schema-engine-wasm').SchemaFilter} SchemaFilter */

/** The engine has no externally managed tables or enums in this project. */
/** @type {SchemaFilter} */
export const NO_FILTER = { externalTables: [], externalEnums: [] };

/** @type {Promise<void> | undefined} */
let wasmReady;

/**
 * Timers the engine started. It never clears them: e.g. every advisory-lock attempt
 * races the lock query against a 10 s timeout, which then keeps Node alive for 10 s
 * after the work is done. Closing an engine unrefs whatever is still pending.
 * @type {Set<ReturnType<typeof setTimeout>>}
 */
const engineTimers = new Set();

/** Instantiates the WebAssembly module once per process. */
function loadWasm() {
  wasmReady ??= (async () => {
    const require = createRequire(import.meta.url);
    const jsPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
    const bytes = await readFile(jsPath.replace(/\.js$/, '.wasm'));
    /** @type {Record<string, unknown>} */
    const imports = { ...bg };
    for (const name of Object.keys(bg)) {
      if (!name.startsWith('__wbg_setTimeout_')) continue;
      imports[name] = (/** @type {() => void} */ fn, /** @type {number} */ ms) => {
        const t = setTimeout(() => {
          engineTimers.delete(t);
          fn();
        }, ms >>> 0);
        engineTimers.add(t);
        return t;
      };
    }
    // (`WebAssembly` is not in the es2023 lib the project type-checks against.)
    const { instance } = await /** @type {any} */ (globalThis).WebAssembly.instantiate(bytes, {
      './schema_engine_bg.js': /** @type {any} */ (imports),
    });
    bg.__wbg_set_wasm(instance.exports);
    /** @type {any} */ (instance.exports).__wbindgen_start();
  })();
  return wasmReady;
}

/** OIDs of the Postgres types involved in the workaround below. */
const PG_CHAR_OID = 18; // "char": the one-byte catalog type (pg_constraint.contype, ...)
const PG_TEXT_OID = 25;

/**
 * @param {any} result a pg result, or an array of them for multi-statement scripts
 */
function relabelCharColumns(result) {
  for (const r of Array.isArray(result) ? result : [result]) {
    for (const f of r?.fields ?? []) if (f.dataTypeID === PG_CHAR_OID) f.dataTypeID = PG_TEXT_OID;
  }
  return result;
}

/**
 * pg.Client that reports `"char"` result columns as `text`.
 *
 * Why: the engine's Postgres describer reads catalog columns of type `"char"`
 * (`pg_constraint.contype` and others), and @prisma/adapter-pg 7.10 has no mapping
 * for OID 18, so every schema description (shadow database, `diff`) failed with
 * "Column type 'char' could not be deserialized from the database". pg already
 * returns such values as one-character strings; only the type label is changed.
 */
class CharAsTextClient extends pg.Client {
  /**
   * @override
   * @param {any} config
   * @param {any} [values]
   * @param {any} [callback]
   * @returns {any}
   */
  query(config, values, callback) {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (typeof callback === 'function') {
      return super.query(config, values, (/** @type {any} */ err, /** @type {any} */ res) =>
        callback(err, err ? res : relabelCharColumns(res)),
      );
    }
    const ret = /** @type {any} */ (super.query(config, values));
    return ret && typeof ret.then === 'function' ? ret.then(relabelCharColumns) : ret;
  }
}

/**
 * @param {string} connectionString
 * @param {string} applicationName
 * @returns {import('pg').PoolConfig}
 */
function poolConfig(connectionString, applicationName) {
  return {
    connectionString,
    application_name: applicationName,
    Client: CharAsTextClient,
  };
}

/** @typedef {Awaited<ReturnType<PrismaPg['connect']>>} PgAdapter */

/**
 * Runs a migration script the way the native engine does on Postgres: the whole
 * script as one simple-protocol query on one connection, so Postgres executes it as a
 * single implicit transaction (a failing migration leaves nothing half-applied) and
 * explicit BEGIN/COMMIT blocks (Prisma's enum rewrites) and `$$ … ; … $$` bodies work.
 *
 * Why: @prisma/adapter-pg 7.10's executeScript splits the script on every ";" and runs
 * the pieces one by one through the pool, possibly on different connections. That
 * breaks function bodies and DO blocks (RLS helpers), string literals containing ";",
 * BEGIN/COMMIT, and leaves earlier statements applied when a later one fails.
 *
 * @param {PgAdapter} adapter
 * @param {(e: unknown) => void} onFail sees the original pg error (the engine only gets a summary)
 */
function runScriptsWhole(adapter, onFail) {
  const pool = adapter.underlyingDriver();
  adapter.executeScript = async (script) => {
    try {
      await pool.query(script);
    } catch (e) {
      const pos = Number(/** @type {any} */ (e)?.position);
      if (pos > 0) /** @type {any} */ (e).scriptLine = script.slice(0, pos - 1).split('\n').length;
      onFail(e);
      /** @type {any} */ (adapter).onError(e); // throws the adapter's DriverAdapterError
    }
  };
  return adapter;
}

/**
 * PrismaPg whose shadow database is one we created (named, with the vector
 * extension) instead of the adapter's own `prisma_migrate_shadow_db_<uuid>`, whose
 * scripts run whole (runScriptsWhole), and which remembers every pool it opened so
 * that `close()` ends them all (otherwise idle pg pools keep the process alive 10 s).
 */
class TrackedPrismaPg extends PrismaPg {
  /** @type {import('pg').Pool[]} */
  #pools = [];
  /** @type {string | undefined} */
  #shadowUrl;
  /** The last error of a migration script, as Postgres reported it. @type {any} */
  lastScriptError = undefined;
  /** @param {unknown} e */
  #onScriptError = (e) => {
    this.lastScriptError = e;
  };

  /**
   * @param {string} url
   * @param {string | undefined} shadowUrl
   */
  constructor(url, shadowUrl) {
    super(poolConfig(url, 'hirebuddha-db'));
    this.#shadowUrl = shadowUrl;
  }

  /** @override */
  async connect() {
    const adapter = await super.connect();
    this.#pools.push(adapter.underlyingDriver());
    return runScriptsWhole(adapter, this.#onScriptError);
  }

  /** @override */
  async connectToShadowDb() {
    if (!this.#shadowUrl) {
      throw new Error('internal: the engine asked for a shadow database but none was prepared');
    }
    const adapter = await new PrismaPg(poolConfig(this.#shadowUrl, 'hirebuddha-db-shadow')).connect();
    this.#pools.push(adapter.underlyingDriver());
    return runScriptsWhole(adapter, this.#onScriptError);
  }

  async close() {
    const pools = this.#pools.splice(0);
    await Promise.all(pools.map((p) => (p.ended ? undefined : p.end().catch(() => undefined))));
  }
}

/**
 * @typedef {object} EngineHandle
 * @property {SchemaEngine} engine
 * @property {(e: unknown) => Error} explain Maps an engine/driver error to a readable Error.
 * @property {() => Promise<void>} close Frees the engine and ends every pg pool.
 */

/**
 * Starts a schema engine connected to `url` (the main database). `shadowUrl` is
 * only needed for operations whose source or target is the migrations folder.
 *
 * @param {{ url: string, shadowUrl?: string, schemaFiles?: { path: string, content: string }[], log?: (line: string) => void }} opts
 * @returns {Promise<EngineHandle>}
 */
export async function openEngine({ url, shadowUrl, schemaFiles, log }) {
  await loadWasm();
  const factory = new TrackedPrismaPg(url, shadowUrl);
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  /** @param {unknown} e */
  const explain = (e) => {
    const err = explainError(e, /** @type {any} */ (bound).errorRegistry);
    const pgErr = factory.lastScriptError;
    factory.lastScriptError = undefined;
    if (pgErr?.message && !err.message.includes(pgErr.message)) {
      const where = pgErr.scriptLine ? ` (line ${pgErr.scriptLine} of the migration)` : '';
      err.message += `\nPostgres: ${pgErr.message}${pgErr.code ? ` (SQLSTATE ${pgErr.code})` : ''}${where}`;
    }
    return err;
  };
  /** @type {SchemaEngine} */
  let engine;
  try {
    engine = await bg.SchemaEngine.new(
      // `datamodels` must be undefined or non-empty (as in the Prisma CLI).
      {
        datamodels: schemaFiles?.length
          ? schemaFiles.map((f) => /** @type {[string, string]} */ ([f.path, f.content]))
          : undefined,
      },
      (/** @type {string} */ line) => log?.(line),
      bound,
    );
  } catch (e) {
    await factory.close();
    throw explain(e);
  }
  return {
    engine,
    explain,
    close: async () => {
      try {
        engine.free();
      } finally {
        for (const t of engineTimers) t.unref();
        await factory.close();
      }
    },
  };
}

/**
 * Errors from the engine are user-facing engine errors (`SchemaConnectorError` with
 * `code`, e.g. P3018 for a failed migration, P1012 for an invalid schema) whose
 * message ends with a Rust span trace, or JS errors thrown inside the driver adapter,
 * which the engine only knows by their id in the adapter's error registry.
 *
 * @param {unknown} e
 * @param {{ consumeError?(id: number): { error: unknown } | undefined }} registry
 * @returns {Error}
 */
function explainError(e, registry) {
  const any = /** @type {any} */ (e);
  if (!any || typeof any !== 'object' || typeof any.message !== 'string') return new Error(String(e));
  let message = stripSpanTrace(any.message);
  const id = /GenericJs\b[^0-9]*(\d+)/.exec(message)?.[1];
  const original = id !== undefined ? registry.consumeError?.(Number(id))?.error : undefined;
  if (original instanceof Error) message = `${message}\n${original.message}`;
  return new Error(any.code ? `${any.code}: ${message}` : message, { cause: e });
}

/**
 * Drops the `   0: schema_engine_wasm::…\n      at …` trace the engine appends.
 * @param {string} message
 */
function stripSpanTrace(message) {
  const lines = message.split('\n');
  const i = lines.findIndex((l) => /^\s*\d+: [a-z_]+::/.test(l));
  return (i === -1 ? lines : lines.slice(0, i)).join('\n').trimEnd();
}

/** Version string of the wasm engine (the prisma-engines commit). */
export async function engineVersion() {
  await loadWasm();
  return bg.version();
}
