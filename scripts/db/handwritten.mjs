// @ts-check
// The allow-list of differences that are *expected* between the migrations folder and
// prisma/schema.prisma, because the migrations contain hand-written SQL for objects
// the Prisma schema language cannot express.
//
// The schema engine's diff (migrations → schema) reports these, and without this list
// `db:check` would call them drift and `db:migration` would write a migration that
// drops them again. Each entry matches exactly one known statement (or one clause of
// an ALTER TABLE) by object name; anything else the engine reports — a new column, a
// new model, a changed type, also on document_chunks — is still reported.
//
// What the engine (schema-engine-wasm 8.1.0-2.59be4fda) reports for our objects, from
// a shadow database with all migrations applied towards the Prisma schema:
//
//   DROP INDEX "document_chunks_content_tsv_idx";
//   DROP INDEX "document_chunks_embedding_hnsw_idx";
//   ALTER TABLE "document_chunks" ALTER COLUMN "content_tsv" DROP DEFAULT;
//     (it reads the generated column's expression as a column default; when the same
//      diff also changes other columns of document_chunks this is one clause of a
//      combined ALTER TABLE, so clauses are filtered individually)
//
// Not reported, so not listed: `CREATE EXTENSION vector` (extensions are not managed
// without the postgresqlExtensions preview feature), row-level security
// (`ALTER TABLE … ENABLE/FORCE ROW LEVEL SECURITY`, `CREATE POLICY`) and SQL functions.
// The engine ignores those entirely, so RLS migrations need no entry here.
//
// Adding a hand-written object Prisma cannot express (e.g. a partial or expression
// index): write it in a migration, run `npm run db:check`, and add one entry below
// for exactly what the check then prints, with the reason.

/**
 * @typedef {object} KnownStatement
 * @property {'statement'} kind A whole step of the diff, e.g. a DROP INDEX.
 * @property {RegExp} pattern Matched against the statement, whitespace-normalised.
 * @property {string} why
 *
 * @typedef {object} KnownAlterClause
 * @property {'alterClause'} kind One clause of `ALTER TABLE "<table>" …, …;`.
 * @property {string} table
 * @property {RegExp} pattern Matched against the clause, whitespace-normalised.
 * @property {string} why
 *
 * @typedef {KnownStatement | KnownAlterClause} KnownDifference
 */

/** Optional `"public".` qualifier in front of an identifier. */
const SCHEMA = String.raw`(?:"public"\.)?`;

/** @type {readonly KnownDifference[]} */
export const KNOWN_HANDWRITTEN = Object.freeze([
  {
    kind: 'statement',
    pattern: new RegExp(`^DROP INDEX ${SCHEMA}"document_chunks_embedding_hnsw_idx";$`),
    why: 'HNSW index (pgvector, vector_cosine_ops) on document_chunks.embedding: Prisma cannot index an Unsupported("vector") field',
  },
  {
    kind: 'statement',
    pattern: new RegExp(`^DROP INDEX ${SCHEMA}"document_chunks_content_tsv_idx";$`),
    why: 'GIN index on the generated tsvector column document_chunks.content_tsv (Unsupported("tsvector") in Prisma)',
  },
  {
    kind: 'alterClause',
    table: 'document_chunks',
    pattern: /^ALTER COLUMN "content_tsv" DROP DEFAULT$/,
    why: 'document_chunks.content_tsv is GENERATED ALWAYS AS (to_tsvector(...)) STORED; the engine sees the expression as a default',
  },
]);

/**
 * @typedef {object} FilterResult
 * @property {string} sql The diff without the known hand-written differences ('' if none remain).
 * @property {{ sql: string, why: string }[]} ignored What was removed, and why.
 */

/**
 * Removes the known hand-written differences from a diff script produced by the
 * engine (`diff` with `script: true`): steps of the form `-- Header\n<sql>` separated
 * by blank lines.
 *
 * @param {string | null | undefined} script
 * @param {readonly KnownDifference[]} [known]
 * @returns {FilterResult}
 */
export function filterKnownHandwritten(script, known = KNOWN_HANDWRITTEN) {
  /** @type {FilterResult['ignored']} */
  const ignored = [];
  const kept = [];
  for (const step of splitSteps(script ?? '')) {
    const filtered = filterStep(step, known, ignored);
    if (filtered !== null) kept.push(filtered);
  }
  return { sql: kept.length ? `${kept.join('\n\n')}\n` : '', ignored };
}

/**
 * Steps start with a `-- Name` comment line after a blank line. (A blank line inside
 * CREATE TABLE is followed by indented constraints, never by `-- `.)
 *
 * @param {string} script
 */
export function splitSteps(script) {
  return script
    .replace(/\r\n/g, '\n')
    .split(/\n\s*\n(?=-- )/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * @param {string} step
 * @param {readonly KnownDifference[]} known
 * @param {FilterResult['ignored']} ignored
 * @returns {string | null} the step to keep (possibly with clauses removed), or null
 */
function filterStep(step, known, ignored) {
  const lines = step.split('\n');
  const header = lines[0].startsWith('-- ') ? lines[0] : null;
  const body = (header ? lines.slice(1) : lines).join('\n').trim();
  const normalised = normalise(body);

  for (const k of known) {
    if (k.kind === 'statement' && k.pattern.test(normalised)) {
      ignored.push({ sql: body, why: k.why });
      return null;
    }
  }

  // ALTER TABLE "t" clause,\nclause,\nclause;  — a single statement only; anything
  // more complex is kept whole (reported rather than silently dropped).
  const m = /^ALTER TABLE ((?:"[^"]+"\.)?"([^"]+)") ([\s\S]*);$/.exec(body);
  if (!m || m[3].includes(';')) return step;
  const [, qualified, table, clauseText] = m;
  const rules = known.filter(
    /** @returns {k is KnownAlterClause} */ (k) => k.kind === 'alterClause' && k.table === table,
  );
  if (rules.length === 0) return step;

  const clauses = clauseText.split(/,\n/);
  const keep = [];
  for (const clause of clauses) {
    const rule = rules.find((r) => r.pattern.test(normalise(clause)));
    if (rule) ignored.push({ sql: `ALTER TABLE ${qualified} ${clause.trim()};`, why: rule.why });
    else keep.push(clause);
  }
  if (keep.length === clauses.length) return step;
  if (keep.length === 0) return null;
  return `${header ? `${header}\n` : ''}ALTER TABLE ${qualified} ${keep.join(',\n')};`;
}

/** @param {string} sql */
function normalise(sql) {
  return sql.replace(/\s+/g, ' ').trim();
}
