-- A run's log rows and events keep company_id (row-level security and per-company
-- reads use it) but no longer reference companies: the company is the run's, and
-- the run_id key (ON DELETE CASCADE) already ties each row to a run whose own key
-- holds its company. These are the hottest inserts (four events and a log row per
-- run); each company key cost a check and a KEY SHARE lock on one company row that
-- every concurrent transaction of that company shares (multixacts).

-- DropForeignKey
ALTER TABLE "llm_interaction_logs" DROP CONSTRAINT "llm_interaction_logs_company_id_fkey";

-- DropForeignKey
ALTER TABLE "run_events" DROP CONSTRAINT "run_events_company_id_fkey";

-- DropForeignKey
ALTER TABLE "tool_interaction_logs" DROP CONSTRAINT "tool_interaction_logs_company_id_fkey";
