-- Hand-written: usage that belongs to no run (a document's embedding batches, a
-- search's query embedding), billed into the same ledger, spend counters and daily
-- roll-up as run usage (see usage_settle). `p_key` makes it idempotent: each row's
-- key is <p_key>:<sku>, so a retried ingestion job never bills a batch twice.
CREATE FUNCTION usage_record(p_company uuid, p_key text, p_entity uuid, p_rows jsonb)
  RETURNS numeric
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $$
  DECLARE
    v_now timestamptz := now();
    v_period date := billing_period(now());
    v_companies uuid[];
    v_cost numeric := 0;
  BEGIN
    IF NOT p_company = ANY (app_scope()) THEN
      RAISE EXCEPTION 'company % is not in scope', p_company USING ERRCODE = '42501';
    END IF;
    v_companies := billing_lock_company_lineage(p_company, ARRAY[v_period]);
    WITH rows AS (
      SELECT (r ->> 'id')::uuid AS id, (r ->> 'skuId')::uuid AS sku_id, r ->> 'serviceSku' AS service_sku,
             (r ->> 'quantity')::numeric AS quantity, (r ->> 'cost')::numeric AS cost,
             coalesce(r -> 'metadata', '{}'::jsonb) AS metadata
        FROM jsonb_array_elements(p_rows) r
    ), inserted AS (
      INSERT INTO usage_logs (id, company_id, run_id, entity_id, sku_id, service_sku, timestamp,
                              raw_quantity, calculated_cost, log_metadata, idempotency_key)
      SELECT id, p_company, NULL, p_entity, sku_id, service_sku, v_now, quantity, cost, metadata,
             p_key || ':' || service_sku
        FROM rows
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING sku_id, raw_quantity, calculated_cost
    ), daily AS (
      INSERT INTO usage_daily AS d (company_id, day, sku_id, entity_id, quantity, cost_usd, calls)
      SELECT p_company, (v_now AT TIME ZONE 'UTC')::date, sku_id,
             coalesce(p_entity, '00000000-0000-0000-0000-000000000000'::uuid), raw_quantity, calculated_cost, 1
        FROM inserted
      ON CONFLICT (company_id, day, sku_id, entity_id) DO UPDATE
        SET quantity = d.quantity + excluded.quantity, cost_usd = d.cost_usd + excluded.cost_usd,
            calls = d.calls + 1
    )
    SELECT coalesce(sum(calculated_cost), 0) INTO v_cost FROM inserted;
    IF v_cost <> 0 THEN
      UPDATE company_spend SET spent_usd = spent_usd + v_cost
       WHERE company_id = ANY (v_companies) AND period = v_period;
    END IF;
    RETURN v_cost;
  END $$;
REVOKE ALL ON FUNCTION usage_record(uuid, text, uuid, jsonb) FROM PUBLIC;
