-- DropIndex
DROP INDEX "human_approvals_run_id_idx";

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" UUID NOT NULL,
    "company_id" UUID NOT NULL,
    "approval_id" UUID NOT NULL,
    "event" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_status_code" INTEGER,
    "last_error" TEXT,
    "delivered_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "webhook_deliveries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "webhook_deliveries_company_id_created_at_idx" ON "webhook_deliveries"("company_id", "created_at");

-- CreateIndex
CREATE INDEX "webhook_deliveries_approval_id_idx" ON "webhook_deliveries"("approval_id");

-- CreateIndex
CREATE INDEX "human_approvals_status_expires_at_idx" ON "human_approvals"("status", "expires_at");

-- CreateIndex
CREATE UNIQUE INDEX "human_approvals_run_id_step_key_key" ON "human_approvals"("run_id", "step_key");

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_company_id_fkey" FOREIGN KEY ("company_id") REFERENCES "companies"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "webhook_deliveries" ADD CONSTRAINT "webhook_deliveries_approval_id_fkey" FOREIGN KEY ("approval_id") REFERENCES "human_approvals"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- ───────────── Hand-written ─────────────
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_scope ON webhook_deliveries
  USING (company_id = ANY ((SELECT app_scope())::uuid[]))
  WITH CHECK (company_id = ANY ((SELECT app_scope())::uuid[]));

-- Pending approvals past their deadline, across companies, for the reconciler: their
-- delayed timeout job may have been lost with Redis. Ids only; each is then handled
-- in its own company's scope.
CREATE FUNCTION approvals_overdue(max_rows integer)
  RETURNS TABLE (id uuid, company_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT a.id, a.company_id FROM human_approvals a
     WHERE a.status = 'PENDING' AND a.expires_at < now()
     ORDER BY a.expires_at LIMIT max_rows
  $$;
REVOKE ALL ON FUNCTION approvals_overdue(integer) FROM PUBLIC;

-- Webhook deliveries written but never attempted a while after they were recorded:
-- their job was lost (a crash between the commit and the enqueue, or Redis lost it).
-- The reconciler queues them again; the job id makes a repeat a no-op.
CREATE FUNCTION webhook_deliveries_unsent(older_than interval, max_rows integer)
  RETURNS TABLE (id uuid, company_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT d.id, d.company_id FROM webhook_deliveries d
     WHERE d.status = 'pending' AND d.attempts = 0 AND d.created_at < now() - older_than
     ORDER BY d.created_at LIMIT max_rows
  $$;
REVOKE ALL ON FUNCTION webhook_deliveries_unsent(interval, integer) FROM PUBLIC;
