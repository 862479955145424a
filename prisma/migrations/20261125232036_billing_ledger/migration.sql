-- AlterTable
ALTER TABLE "execution_runs" ADD COLUMN     "budget_tokens" BIGINT,
ADD COLUMN     "budget_usd" DECIMAL(20,10),
ADD COLUMN     "reserved_tokens" BIGINT NOT NULL DEFAULT 0,
ADD COLUMN     "reserved_usd" DECIMAL(20,10) NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "usage_logs" ADD COLUMN     "entity_id" UUID;

-- CreateTable
CREATE TABLE "usage_daily" (
    "company_id" UUID NOT NULL,
    "day" DATE NOT NULL,
    "sku_id" UUID NOT NULL,
    "entity_id" UUID NOT NULL,
    "quantity" DECIMAL(24,6) NOT NULL,
    "cost_usd" DECIMAL(20,10) NOT NULL,
    "calls" INTEGER NOT NULL,

    CONSTRAINT "usage_daily_pkey" PRIMARY KEY ("company_id","day","sku_id","entity_id")
);

-- CreateTable
CREATE TABLE "company_spend" (
    "company_id" UUID NOT NULL,
    "period" DATE NOT NULL,
    "spent_usd" DECIMAL(20,10) NOT NULL DEFAULT 0,
    "reserved_usd" DECIMAL(20,10) NOT NULL DEFAULT 0,

    CONSTRAINT "company_spend_pkey" PRIMARY KEY ("company_id","period")
);

-- CreateTable
CREATE TABLE "budget_reservations" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "step_key" TEXT NOT NULL,
    "period" DATE NOT NULL,
    "amount_usd" DECIMAL(20,10) NOT NULL,
    "tokens" BIGINT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "budget_reservations_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "budget_reservations_expires_at_idx" ON "budget_reservations"("expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "budget_reservations_run_id_step_key_key" ON "budget_reservations"("run_id", "step_key");

-- CreateIndex
CREATE INDEX "usage_logs_company_id_id_idx" ON "usage_logs"("company_id", "id");

-- AddForeignKey
ALTER TABLE "usage_daily" ADD CONSTRAINT "usage_daily_company_id_fkey" FOREIGN KEY ("company_id") REFERENCES "companies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "company_spend" ADD CONSTRAINT "company_spend_company_id_fkey" FOREIGN KEY ("company_id") REFERENCES "companies"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "budget_reservations" ADD CONSTRAINT "budget_reservations_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "execution_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ───────────── Hand-written: row-level security of the billing tables ─────────────

-- The registry's catalog: rows of the companies above the caller's (the platform's
-- SKUs, a partner's own keys) are readable from below, never writable. Keys stay
-- encrypted either way; the API never returns them.
DROP POLICY integration_registry_scope ON integration_registry;
CREATE POLICY integration_registry_read ON integration_registry FOR SELECT
  USING (company_id = ANY (app_scope()) OR company_id = ANY (app_catalog()));
CREATE POLICY integration_registry_insert ON integration_registry FOR INSERT
  WITH CHECK (company_id = ANY (app_scope()));
CREATE POLICY integration_registry_update ON integration_registry FOR UPDATE
  USING (company_id = ANY (app_scope())) WITH CHECK (company_id = ANY (app_scope()));
CREATE POLICY integration_registry_delete ON integration_registry FOR DELETE
  USING (company_id = ANY (app_scope()));

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['usage_daily', 'budget_reservations', 'company_spend'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
  END LOOP;
END $$;
-- (SELECT app_scope()) is an InitPlan: the scope is parsed once per query, not once
-- per row, which is what a report scanning thousands of roll-up rows needs.
CREATE POLICY usage_daily_scope ON usage_daily
  USING (company_id = ANY ((SELECT app_scope())::uuid[])) WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
CREATE POLICY budget_reservations_scope ON budget_reservations
  USING (company_id = ANY (app_scope())) WITH CHECK (company_id = ANY (app_scope()));
-- Spend counters are read in scope and written only by the functions below: a
-- tenant's call moves its partner's counter, which the tenant may not touch directly.
CREATE POLICY company_spend_read ON company_spend FOR SELECT USING (company_id = ANY (app_scope()));

-- ───────────── Hand-written: budgets and the usage ledger ─────────────
-- A call's worst case is reserved before it is made, against every budget that
-- covers it: the run's and each ancestor run's governance.budget (a run's totals
-- include its descendants) and the monthly budget of the run's company and of every
-- company above it. Rows are locked in one order (runs by id, then counters by
-- company id), so concurrent calls queue instead of both passing a check that only
-- one of them fits. SECURITY DEFINER because counters of companies above the caller
-- are out of its scope; each function first checks that the run is in scope.

-- The UTC month a spend belongs to.
CREATE FUNCTION billing_period(at timestamptz) RETURNS date
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT date_trunc('month', at AT TIME ZONE 'UTC')::date $$;

-- The run and its ancestor runs, locked in id order.
CREATE FUNCTION billing_lock_run_lineage(p_run uuid) RETURNS uuid[]
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $$
  DECLARE v_ids uuid[];
  BEGIN
    WITH RECURSIVE up AS (
      SELECT id, parent_run_id FROM execution_runs WHERE id = p_run
      UNION ALL
      SELECT r.id, r.parent_run_id FROM execution_runs r JOIN up ON r.id = up.parent_run_id
    )
    SELECT array_agg(id) INTO v_ids FROM up;
    PERFORM 1 FROM execution_runs WHERE id = ANY (v_ids) ORDER BY id FOR UPDATE;
    RETURN v_ids;
  END $$;

-- The company and the companies above it, their counters for `p_periods` created if
-- missing and locked in id order.
CREATE FUNCTION billing_lock_company_lineage(p_company uuid, p_periods date[]) RETURNS uuid[]
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $$
  DECLARE v_ids uuid[] := ARRAY(SELECT company_ancestors(p_company)) || p_company;
  BEGIN
    -- Sorted, like the locks below: two lineages creating a month's rows at once must
    -- not each wait on the other's uncommitted insert.
    INSERT INTO company_spend (company_id, period)
      SELECT c, p FROM unnest(v_ids) c CROSS JOIN unnest(p_periods) p
      ORDER BY c, p
      ON CONFLICT DO NOTHING;
    PERFORM 1 FROM company_spend WHERE company_id = ANY (v_ids) AND period = ANY (p_periods)
      ORDER BY company_id, period FOR UPDATE;
    RETURN v_ids;
  END $$;

CREATE FUNCTION billing_run_company(p_run uuid) RETURNS uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
  AS $$
  DECLARE v_company uuid;
  BEGIN
    SELECT company_id INTO v_company FROM execution_runs WHERE id = p_run;
    IF v_company IS NULL OR NOT v_company = ANY (app_scope()) THEN
      RAISE EXCEPTION 'run % is not in scope', p_run USING ERRCODE = '42501';
    END IF;
    RETURN v_company;
  END $$;

-- Reserves `p_usd` and `p_tokens` for the call `p_step` of `p_run`. Returns NULL when
-- reserved (or already reserved by an earlier attempt of the same step), else which
-- budget would be exceeded: 'run:<id>' or 'company:<id>'.
CREATE FUNCTION budget_reserve(p_run uuid, p_step text, p_usd numeric, p_tokens bigint, p_ttl_ms integer)
  RETURNS text
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $$
  DECLARE
    v_company uuid := billing_run_company(p_run);
    v_period date := billing_period(now());
    v_runs uuid[];
    v_companies uuid[];
    v_blocker text;
  BEGIN
    v_runs := billing_lock_run_lineage(p_run);
    IF EXISTS (SELECT 1 FROM budget_reservations WHERE run_id = p_run AND step_key = p_step) THEN
      RETURN NULL;
    END IF;
    SELECT 'run:' || id INTO v_blocker FROM execution_runs
     WHERE id = ANY (v_runs)
       AND ((budget_usd IS NOT NULL AND total_cost_usd + reserved_usd + p_usd > budget_usd)
         OR (budget_tokens IS NOT NULL AND total_tokens + reserved_tokens + p_tokens > budget_tokens))
     ORDER BY id LIMIT 1;
    IF v_blocker IS NOT NULL THEN RETURN v_blocker; END IF;

    v_companies := billing_lock_company_lineage(v_company, ARRAY[v_period]);
    SELECT 'company:' || s.company_id INTO v_blocker
      FROM company_spend s JOIN companies c ON c.id = s.company_id
     WHERE s.company_id = ANY (v_companies) AND s.period = v_period
       AND c.settings ->> 'monthlyBudgetUsd' IS NOT NULL
       AND s.spent_usd + s.reserved_usd + p_usd > (c.settings ->> 'monthlyBudgetUsd')::numeric
     ORDER BY s.company_id LIMIT 1;
    IF v_blocker IS NOT NULL THEN RETURN v_blocker; END IF;

    UPDATE execution_runs
       SET reserved_usd = reserved_usd + p_usd, reserved_tokens = reserved_tokens + p_tokens
     WHERE id = ANY (v_runs);
    UPDATE company_spend SET reserved_usd = reserved_usd + p_usd
     WHERE company_id = ANY (v_companies) AND period = v_period;
    INSERT INTO budget_reservations (id, company_id, run_id, step_key, period, amount_usd, tokens, expires_at)
      VALUES (gen_random_uuid(), v_company, p_run, p_step, v_period, p_usd, p_tokens,
              now() + make_interval(secs => p_ttl_ms / 1000.0));
    RETURN NULL;
  END $$;

-- Records what the call `p_step` of `p_run` really cost and releases its
-- reservation, in the caller's transaction (with the interaction log row). `p_rows`:
-- [{id, skuId, serviceSku, quantity, cost, metadata}]; a row whose idempotency key
-- (<run>:<step>:<sku>) exists already is skipped, so a replayed or retried step never
-- bills twice. `p_tokens` moves the token totals (the caller passes 0 on a replay).
-- Returns the cost newly billed.
CREATE FUNCTION usage_settle(p_run uuid, p_step text, p_tokens bigint, p_rows jsonb)
  RETURNS numeric
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $$
  DECLARE
    v_company uuid := billing_run_company(p_run);
    v_entity uuid;
    v_now timestamptz := now();
    v_period date := billing_period(now());
    v_runs uuid[];
    v_companies uuid[];
    v_cost numeric := 0;
    v_held_usd numeric := 0;
    v_held_tokens bigint := 0;
    v_held_period date;
  BEGIN
    v_runs := billing_lock_run_lineage(p_run);
    SELECT period INTO v_held_period FROM budget_reservations WHERE run_id = p_run AND step_key = p_step;
    v_companies := billing_lock_company_lineage(
      v_company, CASE WHEN v_held_period IS NULL THEN ARRAY[v_period] ELSE ARRAY[v_period, v_held_period] END);
    SELECT entity_id INTO v_entity FROM execution_runs WHERE id = p_run;

    WITH rows AS (
      SELECT (r ->> 'id')::uuid AS id, (r ->> 'skuId')::uuid AS sku_id, r ->> 'serviceSku' AS service_sku,
             (r ->> 'quantity')::numeric AS quantity, (r ->> 'cost')::numeric AS cost,
             coalesce(r -> 'metadata', '{}'::jsonb) AS metadata
        FROM jsonb_array_elements(p_rows) r
    ), inserted AS (
      INSERT INTO usage_logs (id, company_id, run_id, entity_id, sku_id, service_sku, timestamp,
                              raw_quantity, calculated_cost, log_metadata, idempotency_key)
      SELECT id, v_company, p_run, v_entity, sku_id, service_sku, v_now, quantity, cost, metadata,
             p_run || ':' || p_step || ':' || service_sku
        FROM rows
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING sku_id, raw_quantity, calculated_cost
    ), daily AS (
      INSERT INTO usage_daily AS d (company_id, day, sku_id, entity_id, quantity, cost_usd, calls)
      SELECT v_company, (v_now AT TIME ZONE 'UTC')::date, sku_id,
             coalesce(v_entity, '00000000-0000-0000-0000-000000000000'::uuid),
             raw_quantity, calculated_cost, 1
        FROM inserted
      ON CONFLICT (company_id, day, sku_id, entity_id) DO UPDATE
        SET quantity = d.quantity + excluded.quantity, cost_usd = d.cost_usd + excluded.cost_usd,
            calls = d.calls + 1
    )
    SELECT coalesce(sum(calculated_cost), 0) INTO v_cost FROM inserted;

    DELETE FROM budget_reservations WHERE run_id = p_run AND step_key = p_step
      RETURNING amount_usd, tokens INTO v_held_usd, v_held_tokens;
    v_held_usd := coalesce(v_held_usd, 0);
    v_held_tokens := coalesce(v_held_tokens, 0);

    IF v_cost <> 0 OR p_tokens <> 0 OR v_held_usd <> 0 OR v_held_tokens <> 0 THEN
      UPDATE execution_runs
         SET total_cost_usd = total_cost_usd + v_cost, total_tokens = total_tokens + p_tokens,
             reserved_usd = reserved_usd - v_held_usd, reserved_tokens = reserved_tokens - v_held_tokens
       WHERE id = ANY (v_runs);
    END IF;
    IF v_cost <> 0 THEN
      UPDATE company_spend SET spent_usd = spent_usd + v_cost
       WHERE company_id = ANY (v_companies) AND period = v_period;
    END IF;
    IF v_held_usd <> 0 THEN
      UPDATE company_spend SET reserved_usd = reserved_usd - v_held_usd
       WHERE company_id = ANY (v_companies) AND period = v_held_period;
    END IF;
    RETURN v_cost;
  END $$;

-- A reservation whose worker died before settling (the call's timeout and retries are
-- long over), released by the reconciler: the oldest expired one, in the same lock
-- order as a settle. One per call (and per transaction), so no lock is held while
-- the next lineage is taken. Returns the number released (0 or 1).
CREATE FUNCTION budget_release_expired() RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $$
  DECLARE
    r record;
    v_runs uuid[];
    v_companies uuid[];
    v_amount numeric;
    v_tokens bigint;
  BEGIN
    SELECT id, run_id, company_id, period INTO r FROM budget_reservations
     WHERE expires_at < now() ORDER BY expires_at LIMIT 1;
    IF NOT FOUND THEN RETURN 0; END IF;
    v_runs := billing_lock_run_lineage(r.run_id);
    v_companies := billing_lock_company_lineage(r.company_id, ARRAY[r.period]);
    DELETE FROM budget_reservations WHERE id = r.id RETURNING amount_usd, tokens INTO v_amount, v_tokens;
    IF NOT FOUND THEN RETURN 0; END IF;
    UPDATE execution_runs SET reserved_usd = reserved_usd - v_amount, reserved_tokens = reserved_tokens - v_tokens
     WHERE id = ANY (v_runs);
    UPDATE company_spend SET reserved_usd = reserved_usd - v_amount
     WHERE company_id = ANY (v_companies) AND period = r.period;
    RETURN 1;
  END $$;

-- Which company of the lineage (the company or one above it) has spent its monthly
-- budget this month; NULL when none has. Run creation answers 402 on a name.
CREATE FUNCTION company_budget_exhausted(p_company uuid) RETURNS TABLE (id uuid, name text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT c.id, c.name FROM companies c
      JOIN company_spend s ON s.company_id = c.id AND s.period = billing_period(now())
     WHERE p_company = ANY (app_scope())
       AND c.id IN (SELECT company_ancestors(p_company) UNION ALL SELECT p_company)
       AND c.settings ->> 'monthlyBudgetUsd' IS NOT NULL
       AND s.spent_usd >= (c.settings ->> 'monthlyBudgetUsd')::numeric
     ORDER BY c.id LIMIT 1
  $$;

REVOKE ALL ON FUNCTION billing_lock_run_lineage(uuid), billing_lock_company_lineage(uuid, date[]),
  billing_run_company(uuid), budget_reserve(uuid, text, numeric, bigint, integer),
  usage_settle(uuid, text, bigint, jsonb), budget_release_expired(),
  company_budget_exhausted(uuid) FROM PUBLIC;
