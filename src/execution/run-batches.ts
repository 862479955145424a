/**
 * The run lifecycle's writes for many runs at once, each one SQL statement whatever
 * the number of runs: rows travel as one JSON parameter, so the statement text never
 * changes (nothing for Prisma to compile, nothing for Postgres to plan anew) and a
 * batch costs one round trip. Data-modifying CTEs keep a run's row, its logs and its
 * events in that one statement. Every status change is still conditional, per run.
 *
 * RunsRepository groups the calls made together (byScopePerTurn: a POST's per turn,
 * a worker's claims and ends per callback); each batch is one ScopedDb.statement: its
 * own transaction under the scope (row-level security), one round trip with its BEGIN
 * and COMMIT.
 */
import { v7 as uuidv7 } from 'uuid';
import { ENTITY_FIELDS, entityOf, visibleTo } from '../entities/entity-rows';
import { Prisma, type ExecutionRun, type HierarchicalEntity } from '../infra/database/generated/client';
import { selectAs } from '../infra/database/select-as';
import type { ScopedDb, TenantScope } from '../infra/database/tenant-scope';
import { sourcesOf } from './run-status';

/** A root run to create (POST /entities/:id/runs). */
export interface NewRootRun {
  companyId: string;
  entityId: string;
  triggeredBy: string;
  isTest: boolean;
  inputData: unknown;
  context: object;
  traceId: string;
  spanId: string;
  idempotencyKey?: string;
  idempotencyHash?: string;
  metadata: object;
  budgetUsd: Prisma.Decimal | null;
  budgetTokens: bigint | null;
  /** The version of the entity row the request was checked against (VersionedEntity):
   *  the run is written only if the row is still that version and in the scope. */
  entityVersion?: string;
}

/** A run's final status and what is written with it. */
export interface RunEnding {
  status: 'COMPLETED' | 'SKIPPED' | 'FAILED' | 'REJECTED' | 'EXPIRED';
  completedAt: Date;
  executionTimeMs: number;
  /** Written when present (null included). */
  resultData?: unknown;
  errorCode?: string;
  errorMessage?: string;
}

/** A tool call's log row (its run's ids are added here). */
export type ToolLog = Omit<Prisma.ToolInteractionLogUncheckedCreateInput, 'companyId' | 'runId'>;

/** What identifies a run and its tree, for the rows written about it. */
export type RunRef = Pick<ExecutionRun, 'id' | 'companyId' | 'rootRunId'>;

/** A run event to append if what it reports happened: a log row written (`stepKey`)
 *  or the run's status moved (no `stepKey`). */
export interface PendingEvent {
  run: RunRef;
  type: string;
  data: object;
  stepKey?: string;
}

const RUN_COLUMNS: Record<keyof ExecutionRun, string> = {
  id: 'id::text',
  companyId: 'company_id::text',
  entityId: 'entity_id::text',
  parentRunId: 'parent_run_id::text',
  rootRunId: 'root_run_id::text',
  triggeredBy: 'triggered_by::text',
  status: 'status',
  isTest: 'is_test',
  inputData: 'input_data',
  context: 'context',
  contextState: 'context_state',
  dynamicPlan: 'dynamic_plan',
  resultData: 'result_data',
  errorCode: 'error_code',
  errorMessage: 'error_message',
  totalCostUsd: 'total_cost_usd',
  totalTokens: 'total_tokens',
  reservedUsd: 'reserved_usd',
  reservedTokens: 'reserved_tokens',
  budgetUsd: 'budget_usd',
  budgetTokens: 'budget_tokens',
  executionTimeMs: 'execution_time_ms',
  traceId: 'trace_id',
  spanId: 'span_id',
  idempotencyKey: 'idempotency_key',
  idempotencyHash: 'idempotency_hash',
  metadata: 'metadata',
  startedAt: 'started_at',
  completedAt: 'completed_at',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
};

/** Every column of run `r`, named as Prisma names its fields: a raw row selecting these
 *  is an ExecutionRun as Prisma reads it (numeric → Decimal, bigint, Date, JSON). */
const RUN_FIELDS = selectAs('r', RUN_COLUMNS);

const json = (value: unknown) => JSON.stringify(value);

/** A run row as pg reads RUN_FIELDS (numeric and bigint as text), as Prisma types it. */
type RunRow = Omit<
  ExecutionRun,
  'totalCostUsd' | 'reservedUsd' | 'budgetUsd' | 'totalTokens' | 'reservedTokens' | 'budgetTokens'
> &
  Record<'totalCostUsd' | 'reservedUsd' | 'totalTokens' | 'reservedTokens', string> &
  Record<'budgetUsd' | 'budgetTokens', string | null>;

const RUN_FIELD_NAMES = Object.keys(RUN_COLUMNS) as (keyof RunRow)[];

/** The run of a row selecting RUN_FIELDS (other columns of the row are left out). */
function runOf(row: RunRow): ExecutionRun {
  const run: Record<string, unknown> = {};
  for (const field of RUN_FIELD_NAMES) run[field] = row[field];
  run.totalCostUsd = new Prisma.Decimal(row.totalCostUsd);
  run.reservedUsd = new Prisma.Decimal(row.reservedUsd);
  run.budgetUsd = row.budgetUsd === null ? null : new Prisma.Decimal(row.budgetUsd);
  run.totalTokens = BigInt(row.totalTokens);
  run.reservedTokens = BigInt(row.reservedTokens);
  run.budgetTokens = row.budgetTokens === null ? null : BigInt(row.budgetTokens);
  return run as unknown as ExecutionRun;
}

/** Why a root run was or was not written (insertRootRuns), besides its key. */
interface Admission {
  /** Its company, or one above it, is suspended. */
  suspended: boolean;
  /** The budget of its lineage that is spent, by name. */
  exhausted: string | null;
  /** Its entity row is no longer the version the request was checked against. */
  entityChanged: boolean;
}

/**
 * Root runs and their QUEUED events: each company admitted once (not suspended, no
 * budget on its lineage spent), its runs inserted (a taken idempotency key skips its
 * row: ON CONFLICT DO NOTHING; an entity row changed since the request read it skips
 * its run: `entityChanged`), an event per run inserted. One answer per run, in
 * order: the run (null: its key was taken or its entity changed), or why its company
 * was refused.
 */
export async function insertRootRuns(
  db: ScopedDb,
  scope: TenantScope,
  runs: NewRootRun[],
): Promise<({ run: ExecutionRun | null } & Admission)[]> {
  const input = runs.map((run, index) => ({
    ord: index,
    id: uuidv7(),
    company_id: run.companyId,
    entity_id: run.entityId,
    triggered_by: run.triggeredBy,
    is_test: run.isTest,
    input_data: run.inputData ?? null,
    context: run.context,
    trace_id: run.traceId,
    span_id: run.spanId,
    idempotency_key: run.idempotencyKey ?? null,
    idempotency_hash: run.idempotencyHash ?? null,
    metadata: run.metadata,
    budget_usd: run.budgetUsd?.toString() ?? null,
    budget_tokens: run.budgetTokens?.toString() ?? null,
    entity_version: run.entityVersion ?? null,
  }));
  const rows = await db.statement<RunRow & Admission>(
    scope,
    Prisma.sql`
    WITH input AS (
      SELECT * FROM jsonb_to_recordset(${json(input)}::jsonb) AS i(
        ord int, id uuid, company_id uuid, entity_id uuid, triggered_by uuid, is_test boolean, input_data jsonb,
        context jsonb, trace_id text, span_id text, idempotency_key text, idempotency_hash text, metadata jsonb,
        budget_usd numeric, budget_tokens bigint, entity_version text)
    ), unchanged AS (
      SELECT i.id FROM input AS i
       WHERE i.entity_version IS NULL
          OR EXISTS (SELECT FROM hierarchical_entities AS e
                      WHERE e.id = i.entity_id AND e.xmin = i.entity_version::xid AND ${visibleTo(scope)})
    ), verdict AS (
      SELECT c.company_id, company_lineage_suspended(c.company_id) AS suspended,
             (SELECT name FROM company_budget_exhausted(c.company_id) LIMIT 1) AS exhausted
        FROM (SELECT DISTINCT company_id FROM input) AS c
    ), inserted AS (
      INSERT INTO execution_runs (id, company_id, entity_id, root_run_id, triggered_by, is_test, input_data, context,
                                  trace_id, span_id, idempotency_key, idempotency_hash, metadata, budget_usd, budget_tokens)
      SELECT i.id, i.company_id, i.entity_id, i.id, i.triggered_by, i.is_test, COALESCE(i.input_data, 'null'::jsonb),
             i.context, i.trace_id, i.span_id, i.idempotency_key, i.idempotency_hash, i.metadata, i.budget_usd,
             i.budget_tokens
        FROM input AS i JOIN verdict AS v USING (company_id)
       WHERE NOT v.suspended AND v.exhausted IS NULL AND i.id IN (SELECT id FROM unchanged)
       ORDER BY i.ord
      ON CONFLICT DO NOTHING
      RETURNING *
    ), events AS (
      INSERT INTO run_events (company_id, run_id, root_run_id, type, data)
      SELECT company_id, id, id, 'run.status', jsonb_build_object('status', status) FROM inserted ORDER BY id
    )
    SELECT v.suspended, v.exhausted, i.id NOT IN (SELECT id FROM unchanged) AS "entityChanged", ${RUN_FIELDS}
      FROM input AS i JOIN verdict AS v USING (company_id) LEFT JOIN inserted AS r ON r.id = i.id
     ORDER BY i.ord`,
  );
  return rows.map((row) => ({
    run: row.id === null ? null : runOf(row),
    suspended: row.suspended,
    exhausted: row.exhausted,
    entityChanged: row.entityChanged,
  }));
}

/** A run as a worker found it (claimRuns). */
export interface ClaimedRun {
  run: ExecutionRun;
  /** Its entity as the scope sees it (null when no longer visible). */
  entity: HierarchicalEntity | null;
  /** This statement moved it QUEUED → RUNNING. */
  started: boolean;
  /** Its company, or one above it, is suspended: the run was not started. */
  suspended: boolean;
}

/**
 * The runs with these ids (as they were) with their entities as the scope sees them
 * (its own, or shared by a company of its catalog), whether their companies' lineage
 * is suspended, and QUEUED → RUNNING with its event for each run still QUEUED whose
 * company is not suspended (a conditional update: a run another worker or a cancel
 * moved first is not started). A run started before (resumed after an approval)
 * keeps its first start time. An entity's columns come once per batch, on its first
 * run's row (the runs of a batch mostly share one entity: parsing its JSON blocks for
 * every run was three quarters of a worker's row parsing); its runs share the one
 * object, which nothing mutates.
 */
export async function claimRuns(db: ScopedDb, scope: TenantScope, ids: string[]): Promise<ClaimedRun[]> {
  const rows = await db.statement<RunRow & { started: boolean; suspended: boolean; firstOfEntity: boolean }>(
    scope,
    Prisma.sql`
    WITH found AS (
      SELECT *, row_number() OVER (PARTITION BY entity_id ORDER BY id) = 1 AS first_of_entity FROM execution_runs
       WHERE id = ANY (${ids}::uuid[]) AND company_id = ANY (${[...scope.companyIds]}::uuid[])
    ), lineage AS (
      SELECT c.company_id, company_lineage_suspended(c.company_id) AS suspended
        FROM (SELECT DISTINCT company_id FROM found) AS c
    ), started AS (
      UPDATE execution_runs AS u
         SET status = 'RUNNING', started_at = COALESCE(u.started_at, now()), updated_at = now()
       WHERE u.id = ANY (${ids}::uuid[]) AND u.status = 'QUEUED'
         AND u.id IN (SELECT f.id FROM found AS f JOIN lineage AS l USING (company_id) WHERE NOT l.suspended)
      RETURNING u.id, u.company_id, COALESCE(u.root_run_id, u.id) AS root_run_id
    ), events AS (
      INSERT INTO run_events (company_id, run_id, root_run_id, type, data)
      SELECT company_id, id, root_run_id, 'run.status', '{"status":"RUNNING"}'::jsonb FROM started ORDER BY id
    )
    SELECT ${RUN_FIELDS}, r.id IN (SELECT id FROM started) AS started, l.suspended,
           r.first_of_entity AS "firstOfEntity", ${ENTITY_FIELDS}
      FROM found AS r JOIN lineage AS l USING (company_id)
      LEFT JOIN hierarchical_entities AS e ON r.first_of_entity AND e.id = r.entity_id AND ${visibleTo(scope)}`,
  );
  const entities = new Map<string, HierarchicalEntity | null>();
  for (const row of rows) if (row.firstOfEntity) entities.set(row.entityId, entityOf(row));
  return rows.map((row) => ({
    run: runOf(row),
    entity: entities.get(row.entityId) ?? null,
    started: row.started,
    suspended: row.suspended,
  }));
}

/**
 * Runs' final statuses with their last tool logs and events: each log row once per
 * (run, step key) (a replayed step's row is skipped), each run moved to its final
 * status only from a status that may lead there (one ending per run), and of
 * `events`, in order, those whose log was written or whose run moved. Returns the ids
 * of the runs it moved.
 */
export async function endRuns(
  db: ScopedDb,
  scope: TenantScope,
  endings: { run: RunRef; ending: RunEnding }[],
  logs: { run: RunRef; log: ToolLog }[],
  events: PendingEvent[],
): Promise<string[]> {
  const logRows = logs.map(({ run, log }) => ({
    id: log.id ?? uuidv7(),
    company_id: run.companyId,
    run_id: run.id,
    step_key: log.stepKey,
    tool_name: log.toolName,
    tool_kind: log.toolKind,
    child_run_id: log.childRunId ?? null,
    input_payload: log.inputPayload ?? null,
    output_payload: log.outputPayload ?? null,
    status: log.status ?? 'success',
    error_message: log.errorMessage ?? null,
    latency_ms: log.latencyMs ?? 0,
    cost_usd: log.costUsd ?? 0,
  }));
  const endRows = endings.map(({ run, ending }) => ({
    id: run.id,
    status: ending.status,
    sources: sourcesOf(ending.status),
    completed_at: ending.completedAt.toISOString(),
    execution_time_ms: ending.executionTimeMs,
    sets_result: 'resultData' in ending,
    result_data: ending.resultData ?? null,
    sets_error: ending.errorCode !== undefined,
    error_code: ending.errorCode ?? null,
    error_message: ending.errorMessage ?? null,
  }));
  const eventRows = events.map(({ run, type, data, stepKey }, ord) => ({
    ord,
    company_id: run.companyId,
    run_id: run.id,
    root_run_id: run.rootRunId ?? run.id,
    type,
    data,
    step_key: stepKey ?? null,
  }));
  const rows = await db.statement<{ id: string }>(
    scope,
    Prisma.sql`
    WITH logged AS (
      INSERT INTO tool_interaction_logs (id, company_id, run_id, step_key, tool_name, tool_kind, child_run_id,
                                         input_payload, output_payload, status, error_message, latency_ms, cost_usd)
      SELECT * FROM jsonb_to_recordset(${json(logRows)}::jsonb)
        AS l(id uuid, company_id uuid, run_id uuid, step_key text, tool_name text, tool_kind text, child_run_id uuid,
             input_payload jsonb, output_payload jsonb, status text, error_message text, latency_ms int,
             cost_usd numeric)
      ON CONFLICT (run_id, step_key) DO NOTHING
      RETURNING run_id, step_key
    ), ended AS (
      UPDATE execution_runs AS r
         SET status = e.status::run_status,
             completed_at = e.completed_at,
             execution_time_ms = e.execution_time_ms,
             result_data = CASE WHEN e.sets_result THEN e.result_data ELSE r.result_data END,
             error_code = CASE WHEN e.sets_error THEN e.error_code ELSE r.error_code END,
             error_message = CASE WHEN e.sets_error THEN e.error_message ELSE r.error_message END,
             updated_at = now()
        FROM jsonb_to_recordset(${json(endRows)}::jsonb) AS e(
               id uuid, status text, sources text[], completed_at timestamptz, execution_time_ms int,
               sets_result boolean, result_data jsonb, sets_error boolean, error_code text, error_message text)
       WHERE r.id = ANY (${endRows.map((row) => row.id)}::uuid[]) -- the index, whatever the planner guesses of e
         AND r.id = e.id AND r.status::text = ANY (e.sources)
      RETURNING r.id
    ), appended AS (
      INSERT INTO run_events (company_id, run_id, root_run_id, type, data)
      SELECT v.company_id, v.run_id, v.root_run_id, v.type, v.data
        FROM jsonb_to_recordset(${json(eventRows)}::jsonb)
          AS v(ord int, company_id uuid, run_id uuid, root_run_id uuid, type text, data jsonb, step_key text)
       WHERE CASE WHEN v.step_key IS NULL THEN v.run_id IN (SELECT id FROM ended)
                  ELSE (v.run_id, v.step_key) IN (SELECT run_id, step_key FROM logged) END
       ORDER BY v.ord
    )
    SELECT id::text AS id FROM ended`,
  );
  return rows.map((row) => row.id);
}
