-- The lookups every request and every job makes (session checks, company lineage,
-- admission) move from LANGUAGE sql to plpgsql, with the same queries and answers.
-- Postgres 15 plans the queries of a SQL function that cannot be inlined (these are
-- SECURITY DEFINER) again on every call; plpgsql keeps each statement's plan for the
-- life of the connection. auth_principals for one session: 0.77 ms → 0.25 ms.

CREATE OR REPLACE FUNCTION company_subtree(root uuid) RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
  AS $$
  BEGIN
    RETURN QUERY
    WITH RECURSIVE tree AS (
      SELECT c.id FROM companies c WHERE c.id = root
      UNION ALL
      SELECT c.id FROM companies c JOIN tree ON c.parent_id = tree.id
    )
    SELECT tree.id FROM tree;
  END $$;

CREATE OR REPLACE FUNCTION company_lineage_suspended(company uuid) RETURNS boolean
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
  AS $$
  BEGIN
    RETURN (
      WITH RECURSIVE lineage AS (
        SELECT c.id, c.parent_id, c.status FROM companies c WHERE c.id = company
        UNION ALL
        SELECT c.id, c.parent_id, c.status FROM companies c JOIN lineage l ON c.id = l.parent_id
      )
      SELECT coalesce(bool_or(lineage.status = 'suspended'), false) FROM lineage
    );
  END $$;

CREATE OR REPLACE FUNCTION company_ancestors(company uuid) RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
  AS $$
  BEGIN
    RETURN QUERY
    WITH RECURSIVE lineage AS (
      SELECT c.parent_id AS id FROM companies c WHERE c.id = company
      UNION ALL
      SELECT c.parent_id FROM companies c JOIN lineage l ON c.id = l.id
    )
    SELECT lineage.id FROM lineage WHERE lineage.id IS NOT NULL;
  END $$;

CREATE OR REPLACE FUNCTION company_budget_exhausted(p_company uuid) RETURNS TABLE (id uuid, name text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
  AS $$
  #variable_conflict use_column
  BEGIN
    RETURN QUERY
    SELECT c.id, c.name FROM companies c
      JOIN company_spend s ON s.company_id = c.id AND s.period = billing_period(now())
     WHERE p_company = ANY (app_scope())
       AND c.id IN (SELECT company_ancestors(p_company) UNION ALL SELECT p_company)
       AND c.settings ->> 'monthlyBudgetUsd' IS NOT NULL
       AND s.spent_usd >= (c.settings ->> 'monthlyBudgetUsd')::numeric
     ORDER BY c.id LIMIT 1;
  END $$;

CREATE OR REPLACE FUNCTION auth_principals(p_users uuid[], p_families uuid[])
  RETURNS TABLE (key_user uuid, key_family uuid, id uuid, company_id uuid, role user_role, email text,
                 is_active boolean, suspended boolean, session_active boolean, scope uuid[], catalog uuid[])
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public
  AS $$
  #variable_conflict use_column
  BEGIN
    RETURN QUERY
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
      JOIN lineage l ON l.company_id = m.company_id AND l.wide = m.wide;
  END $$;
