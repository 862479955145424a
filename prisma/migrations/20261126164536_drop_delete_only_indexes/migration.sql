-- Indexes whose only use was the foreign-key check of a physical delete the platform
-- never makes: entities are archived and users deactivated, never deleted, and runs
-- are kept (retention prunes their events and logs, not them). Every run paid for
-- them: three insertions into each run index (its insert and two status updates)
-- and one per event. A manual delete of such a row now scans the referencing table.
-- The events of a subtree are read through the tree's (root_run_id, id) index.

-- DropIndex
DROP INDEX "execution_runs_entity_id_idx";

-- DropIndex
DROP INDEX "execution_runs_triggered_by_idx";

-- DropIndex
DROP INDEX "run_events_run_id_idx";
