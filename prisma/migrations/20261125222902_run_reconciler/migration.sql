-- The reconciler looks across every company (hand-written: a function). Runs that
-- are unfinished and have not moved for `stale_after` are candidates: their job may be
-- lost (Redis flushed or failed over) or they may have outlived their
-- governance.budget.maxDurationMs. SECURITY DEFINER: a worker has no company scope
-- while it sweeps; it returns ids only, and each run is then handled in its own scope.
CREATE FUNCTION runs_needing_attention(stale_after interval, max_rows integer)
  RETURNS TABLE (id uuid, company_id uuid, status run_status, overdue boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT r.id, r.company_id, r.status,
           coalesce(r.started_at + make_interval(secs => (e.governance #>> '{budget,maxDurationMs}')::numeric / 1000) < now(), false)
      FROM execution_runs r JOIN hierarchical_entities e ON e.id = r.entity_id
     WHERE r.status IN ('QUEUED', 'RUNNING', 'WAITING_CHILDREN')
       AND (r.updated_at < now() - stale_after
            OR r.started_at + make_interval(secs => (e.governance #>> '{budget,maxDurationMs}')::numeric / 1000) < now())
     ORDER BY r.updated_at
     LIMIT max_rows
  $$;
REVOKE ALL ON FUNCTION runs_needing_attention(interval, integer) FROM PUBLIC;
