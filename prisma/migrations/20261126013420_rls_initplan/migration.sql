-- Hand-written: every row-level security policy reads the scope through an InitPlan,
-- (SELECT app_scope())::uuid[], evaluated once per query instead of once per row (the
-- scope is a text setting parsed into an array each time). Same rules, same tables;
-- see bench/README.md (usage-report, api-read) for what the per-row form cost.

DROP POLICY budget_reservations_scope ON budget_reservations;
CREATE POLICY budget_reservations_scope ON budget_reservations
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY companies_delete ON companies;
CREATE POLICY companies_delete ON companies FOR DELETE
  USING (id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY companies_insert ON companies;
CREATE POLICY companies_insert ON companies FOR INSERT
  WITH CHECK (parent_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY companies_read ON companies;
CREATE POLICY companies_read ON companies FOR SELECT
  USING (id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY companies_update ON companies;
CREATE POLICY companies_update ON companies FOR UPDATE
  USING (id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY company_spend_read ON company_spend;
CREATE POLICY company_spend_read ON company_spend FOR SELECT
  USING (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY document_chunks_scope ON document_chunks;
CREATE POLICY document_chunks_scope ON document_chunks
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY documents_scope ON documents;
CREATE POLICY documents_scope ON documents
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY execution_runs_scope ON execution_runs;
CREATE POLICY execution_runs_scope ON execution_runs
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY hierarchical_entities_delete ON hierarchical_entities;
CREATE POLICY hierarchical_entities_delete ON hierarchical_entities FOR DELETE
  USING (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY hierarchical_entities_insert ON hierarchical_entities;
CREATE POLICY hierarchical_entities_insert ON hierarchical_entities FOR INSERT
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY hierarchical_entities_read ON hierarchical_entities;
CREATE POLICY hierarchical_entities_read ON hierarchical_entities FOR SELECT
  USING ((company_id = ANY ((SELECT app_scope())::uuid[])) OR ((company_id = ANY ((SELECT app_catalog())::uuid[])) AND ((metadata_extensions ->> 'shared'::text) = 'true'::text)));
DROP POLICY hierarchical_entities_update ON hierarchical_entities;
CREATE POLICY hierarchical_entities_update ON hierarchical_entities FOR UPDATE
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY human_approvals_scope ON human_approvals;
CREATE POLICY human_approvals_scope ON human_approvals
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY integration_registry_delete ON integration_registry;
CREATE POLICY integration_registry_delete ON integration_registry FOR DELETE
  USING (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY integration_registry_insert ON integration_registry;
CREATE POLICY integration_registry_insert ON integration_registry FOR INSERT
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY integration_registry_read ON integration_registry;
CREATE POLICY integration_registry_read ON integration_registry FOR SELECT
  USING ((company_id = ANY ((SELECT app_scope())::uuid[])) OR (company_id = ANY ((SELECT app_catalog())::uuid[])));
DROP POLICY integration_registry_update ON integration_registry;
CREATE POLICY integration_registry_update ON integration_registry FOR UPDATE
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY llm_interaction_logs_scope ON llm_interaction_logs;
CREATE POLICY llm_interaction_logs_scope ON llm_interaction_logs
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY run_events_scope ON run_events;
CREATE POLICY run_events_scope ON run_events
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY tool_interaction_logs_scope ON tool_interaction_logs;
CREATE POLICY tool_interaction_logs_scope ON tool_interaction_logs
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY usage_logs_scope ON usage_logs;
CREATE POLICY usage_logs_scope ON usage_logs
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
DROP POLICY users_scope ON users;
CREATE POLICY users_scope ON users
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));
