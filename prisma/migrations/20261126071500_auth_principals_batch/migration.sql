-- auth_principal for many sessions at once: the session checks of requests that
-- arrive together (AuthRepository) share one statement, and each company's lineage
-- (suspension, catalog, an admin's subtree) is worked out once however many of its
-- users are in the batch. Same answers as auth_principal, row for row.
CREATE FUNCTION auth_principals(p_users uuid[], p_families uuid[])
  RETURNS TABLE (key_user uuid, key_family uuid, id uuid, company_id uuid, role user_role, email text,
                 is_active boolean, suspended boolean, session_active boolean, scope uuid[], catalog uuid[])
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    WITH keys AS (
      SELECT DISTINCT k.user_id, k.family_id FROM unnest(p_users, p_families) AS k(user_id, family_id)
    ), members AS (
      SELECT u.id, u.company_id, u.role, u.email, u.is_active,
             u.role IN ('app_admin', 'partner_admin') AS wide
        FROM users u WHERE u.id IN (SELECT user_id FROM keys)
    ), lineage AS (
      SELECT c.company_id, c.wide,
             company_lineage_suspended(c.company_id) AS suspended,
             CASE WHEN c.wide THEN ARRAY(SELECT company_subtree(c.company_id))
                  ELSE ARRAY[c.company_id] END AS scope,
             ARRAY(SELECT company_ancestors(c.company_id)) AS catalog
        FROM (SELECT DISTINCT m.company_id, m.wide FROM members m) c
    )
    SELECT k.user_id, k.family_id, m.id, m.company_id, m.role, m.email, m.is_active, l.suspended,
           EXISTS (SELECT 1 FROM refresh_tokens r
                    WHERE r.family_id = k.family_id AND r.user_id = m.id
                      AND r.revoked_at IS NULL AND r.family_expires_at > now()),
           l.scope, l.catalog
      FROM keys k
      JOIN members m ON m.id = k.user_id
      JOIN lineage l ON l.company_id = m.company_id AND l.wide = m.wide
  $$;
REVOKE ALL ON FUNCTION auth_principals(uuid[], uuid[]) FROM PUBLIC;
