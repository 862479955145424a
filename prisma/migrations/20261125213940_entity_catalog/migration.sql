-- CreateIndex
CREATE INDEX "hierarchical_entities_company_id_id_idx" ON "hierarchical_entities"("company_id", "id");

-- Hand-written: the shared-entity catalog under row-level security.
-- Entities of a company above the caller's (the APP company, a partner) marked
-- metadata_extensions.shared = true are readable, never writable, from below. Each
-- transaction sets the companies above the caller in app.catalog_company_ids.
CREATE FUNCTION app_catalog() RETURNS uuid[]
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$
    SELECT CASE
      WHEN coalesce(current_setting('app.catalog_company_ids', true), '') = '' THEN '{}'::uuid[]
      ELSE current_setting('app.catalog_company_ids', true)::uuid[]
    END
  $$;

DROP POLICY hierarchical_entities_scope ON hierarchical_entities;
CREATE POLICY hierarchical_entities_read ON hierarchical_entities FOR SELECT
  USING (company_id = ANY (app_scope())
         OR (company_id = ANY (app_catalog()) AND (metadata_extensions ->> 'shared') = 'true'));
CREATE POLICY hierarchical_entities_insert ON hierarchical_entities FOR INSERT
  WITH CHECK (company_id = ANY (app_scope()));
CREATE POLICY hierarchical_entities_update ON hierarchical_entities FOR UPDATE
  USING (company_id = ANY (app_scope())) WITH CHECK (company_id = ANY (app_scope()));
CREATE POLICY hierarchical_entities_delete ON hierarchical_entities FOR DELETE
  USING (company_id = ANY (app_scope()));

-- Companies strictly above `company` (its ancestors).
CREATE FUNCTION company_ancestors(company uuid) RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    WITH RECURSIVE lineage AS (
      SELECT parent_id AS id FROM companies WHERE id = company
      UNION ALL
      SELECT c.parent_id FROM companies c JOIN lineage l ON c.id = l.id
    )
    SELECT id FROM lineage WHERE id IS NOT NULL
  $$;
REVOKE ALL ON FUNCTION company_ancestors(uuid) FROM PUBLIC;

-- auth_principal also returns the caller's catalog: the companies above theirs.
DROP FUNCTION auth_principal(uuid, uuid);
CREATE FUNCTION auth_principal(p_user uuid, p_family uuid)
  RETURNS TABLE (id uuid, company_id uuid, role user_role, email text, is_active boolean,
                 suspended boolean, session_active boolean, scope uuid[], catalog uuid[])
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT u.id, u.company_id, u.role, u.email, u.is_active,
           company_lineage_suspended(u.company_id),
           EXISTS (SELECT 1 FROM refresh_tokens r
                    WHERE r.family_id = p_family AND r.user_id = u.id
                      AND r.revoked_at IS NULL AND r.family_expires_at > now()),
           CASE WHEN u.role IN ('app_admin', 'partner_admin')
                THEN ARRAY(SELECT company_subtree(u.company_id))
                ELSE ARRAY[u.company_id] END,
           ARRAY(SELECT company_ancestors(u.company_id))
      FROM users u WHERE u.id = p_user
  $$;
REVOKE ALL ON FUNCTION auth_principal(uuid, uuid) FROM PUBLIC;
