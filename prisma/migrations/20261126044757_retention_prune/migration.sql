-- Hand-written: retention pruning across every company, as functions.
--
-- The pruning job has no company scope, like the reconciler; SECURITY DEFINER lets it
-- run as the application role instead of holding an owner connection that bypasses
-- row-level security. Each call deletes at most `max_rows` rows (short statements,
-- short locks; the caller loops until a call comes back short) and returns how many
-- it deleted. Each company's old rows are found through its (company_id, created_at)
-- index. `terminal` is the caller's list of final run statuses (src/execution/run-status.ts).

-- Run events of finished run trees: the event's run and its root are final and the root
-- ended before the cutoff (an SSE stream of a tree still running never loses events).
CREATE FUNCTION retention_prune_run_events(cutoff timestamptz, max_rows integer, terminal run_status[])
  RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $$
DECLARE
  pruned integer;
BEGIN
  DELETE FROM run_events WHERE id IN (
    SELECT doomed.id FROM companies c CROSS JOIN LATERAL (
      SELECT e.id FROM run_events e
        JOIN execution_runs r ON r.id = e.run_id
        JOIN execution_runs root ON root.id = e.root_run_id
       WHERE e.company_id = c.id AND e.created_at < cutoff
         AND r.status = ANY (terminal)
         AND root.status = ANY (terminal)
         AND coalesce(root.completed_at, root.updated_at) < cutoff
       LIMIT max_rows) doomed
    LIMIT max_rows);
  GET DIAGNOSTICS pruned = ROW_COUNT;
  RETURN pruned;
END
$$;

-- LLM or tool interaction logs written before the cutoff, of runs whose whole tree has
-- ended: an unfinished run replays its logged steps from these rows.
CREATE FUNCTION retention_prune_interaction_logs(
  log_table text, cutoff timestamptz, max_rows integer, terminal run_status[]
) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public
  AS $$
DECLARE
  pruned integer;
BEGIN
  IF log_table NOT IN ('llm_interaction_logs', 'tool_interaction_logs') THEN
    RAISE EXCEPTION 'not an interaction log table: %', log_table;
  END IF;
  EXECUTE format($q$
    DELETE FROM %1$I WHERE id IN (
      SELECT doomed.id FROM companies c CROSS JOIN LATERAL (
        SELECT l.id FROM %1$I l
          JOIN execution_runs r ON r.id = l.run_id
          JOIN execution_runs root ON root.id = coalesce(r.root_run_id, r.id)
         WHERE l.company_id = c.id AND l.created_at < $1
           AND r.status = ANY ($3)
           AND root.status = ANY ($3)
         LIMIT $2) doomed
      LIMIT $2)$q$, log_table)
    USING cutoff, max_rows, terminal;
  GET DIAGNOSTICS pruned = ROW_COUNT;
  RETURN pruned;
END
$$;

REVOKE ALL ON FUNCTION retention_prune_run_events(timestamptz, integer, run_status[]),
  retention_prune_interaction_logs(text, timestamptz, integer, run_status[]) FROM PUBLIC;
