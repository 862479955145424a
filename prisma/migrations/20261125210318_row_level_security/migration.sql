-- Row-level security: the second lock behind the service layer's scope filters.
-- Hand-written: Prisma cannot express policies (and the engine's diff ignores them).
--
-- Every transaction of the application sets its scope with
--   SELECT set_config('app.company_ids', '{<uuid>,<uuid>}', true)
-- and every tenant-owned row is visible only when its company is in that set. When
-- nothing is set the set is empty, so a forgotten scope denies instead of leaking.
-- The application role owns no table and has no BYPASSRLS; FORCE makes the policies
-- bind the table owner too, except superusers (migrations, the bootstrap).

CREATE FUNCTION app_scope() RETURNS uuid[]
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
    SELECT CASE
      WHEN coalesce(current_setting('app.company_ids', true), '') = '' THEN '{}'::uuid[]
      ELSE current_setting('app.company_ids', true)::uuid[]
    END
  $$;

-- Companies: a row is its own tenant key. A new company may only be inserted under
-- a parent in scope (the creating transaction adds the new id to its scope so that
-- INSERT ... RETURNING can read the row back).
ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE companies FORCE ROW LEVEL SECURITY;
CREATE POLICY companies_read ON companies FOR SELECT USING (id = ANY (app_scope()));
CREATE POLICY companies_insert ON companies FOR INSERT WITH CHECK (parent_id = ANY (app_scope()));
CREATE POLICY companies_update ON companies FOR UPDATE
  USING (id = ANY (app_scope())) WITH CHECK (id = ANY (app_scope()));
CREATE POLICY companies_delete ON companies FOR DELETE USING (id = ANY (app_scope()));

-- Every other tenant-owned table is keyed by company_id.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY[
    'users', 'integration_registry', 'hierarchical_entities', 'execution_runs',
    'llm_interaction_logs', 'tool_interaction_logs', 'human_approvals', 'usage_logs',
    'documents', 'document_chunks', 'run_events'
  ] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format(
      'CREATE POLICY %I ON %I USING (company_id = ANY (app_scope())) WITH CHECK (company_id = ANY (app_scope()))',
      t || '_scope', t);
  END LOOP;
END $$;

-- Authentication has to read a user before anyone's scope is known. These functions
-- run as their owner (SECURITY DEFINER, past RLS) and return only what
-- authentication needs; the application role may execute nothing else past RLS.

-- Companies from `root` down (root included).
CREATE FUNCTION company_subtree(root uuid) RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    WITH RECURSIVE tree AS (
      SELECT id FROM companies WHERE id = root
      UNION ALL
      SELECT c.id FROM companies c JOIN tree ON c.parent_id = tree.id
    )
    SELECT id FROM tree
  $$;

-- True when the company or any ancestor is suspended.
CREATE FUNCTION company_lineage_suspended(company uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    WITH RECURSIVE lineage AS (
      SELECT id, parent_id, status FROM companies WHERE id = company
      UNION ALL
      SELECT c.id, c.parent_id, c.status FROM companies c JOIN lineage l ON c.id = l.parent_id
    )
    SELECT coalesce(bool_or(status = 'suspended'), false) FROM lineage
  $$;

-- The login lookup: one user by (lower-cased) email.
CREATE FUNCTION auth_user_by_email(p_email text)
  RETURNS TABLE (id uuid, company_id uuid, role user_role, password_hash text, is_active boolean,
                 is_verified boolean, suspended boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT u.id, u.company_id, u.role, u.password_hash, u.is_active, u.is_verified,
           company_lineage_suspended(u.company_id)
      FROM users u WHERE u.email = lower(p_email)
  $$;

-- The caller behind an access token: whether the user may still act, whether the
-- session (refresh family) is still open, and the company scope of their role.
CREATE FUNCTION auth_principal(p_user uuid, p_family uuid)
  RETURNS TABLE (id uuid, company_id uuid, role user_role, email text, is_active boolean,
                 suspended boolean, session_active boolean, scope uuid[])
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT u.id, u.company_id, u.role, u.email, u.is_active,
           company_lineage_suspended(u.company_id),
           EXISTS (SELECT 1 FROM refresh_tokens r
                    WHERE r.family_id = p_family AND r.user_id = u.id
                      AND r.revoked_at IS NULL AND r.family_expires_at > now()),
           CASE WHEN u.role IN ('app_admin', 'partner_admin')
                THEN ARRAY(SELECT company_subtree(u.company_id))
                ELSE ARRAY[u.company_id] END
      FROM users u WHERE u.id = p_user
  $$;

REVOKE ALL ON FUNCTION company_subtree(uuid), company_lineage_suspended(uuid),
  auth_user_by_email(text), auth_principal(uuid, uuid) FROM PUBLIC;
