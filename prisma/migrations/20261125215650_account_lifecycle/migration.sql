-- CreateEnum
CREATE TYPE "token_purpose" AS ENUM ('invitation', 'email_verification', 'password_reset');

-- CreateEnum
CREATE TYPE "mail_status" AS ENUM ('pending', 'sent', 'stored', 'failed');

-- CreateTable
CREATE TABLE "user_tokens" (
    "id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "purpose" "token_purpose" NOT NULL,
    "token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "consumed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "user_tokens_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mail_outbox" (
    "id" UUID NOT NULL,
    "to_address" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "text" TEXT NOT NULL,
    "html" TEXT NOT NULL,
    "status" "mail_status" NOT NULL DEFAULT 'pending',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sent_at" TIMESTAMPTZ(3),

    CONSTRAINT "mail_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_tokens_token_hash_key" ON "user_tokens"("token_hash");

-- CreateIndex
CREATE INDEX "user_tokens_user_id_purpose_idx" ON "user_tokens"("user_id", "purpose");

-- CreateIndex
CREATE INDEX "mail_outbox_status_created_at_idx" ON "mail_outbox"("status", "created_at");

-- CreateIndex
CREATE INDEX "mail_outbox_to_address_created_at_idx" ON "mail_outbox"("to_address", "created_at");

-- AddForeignKey
ALTER TABLE "user_tokens" ADD CONSTRAINT "user_tokens_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: login learns whether the user's company lets unverified users in
-- (companies.settings.allowUnverifiedLogin, default false).
DROP FUNCTION auth_user_by_email(text);
CREATE FUNCTION auth_user_by_email(p_email text)
  RETURNS TABLE (id uuid, company_id uuid, role user_role, password_hash text, is_active boolean,
                 is_verified boolean, suspended boolean, allow_unverified boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public
  AS $$
    SELECT u.id, u.company_id, u.role, u.password_hash, u.is_active, u.is_verified,
           company_lineage_suspended(u.company_id),
           coalesce((c.settings ->> 'allowUnverifiedLogin')::boolean, false)
      FROM users u JOIN companies c ON c.id = u.company_id
     WHERE u.email = lower(p_email)
  $$;
REVOKE ALL ON FUNCTION auth_user_by_email(text) FROM PUBLIC;

-- Spends a mailed token: one conditional update, so a token works exactly once, only
-- for its purpose and before it expires. Returns the user it belongs to (and the
-- user's company, the scope of what follows). SECURITY DEFINER: nobody is signed in.
CREATE FUNCTION consume_user_token(p_token_hash text, p_purpose token_purpose)
  RETURNS TABLE (user_id uuid, company_id uuid, email text)
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = public
  AS $$
    WITH spent AS (
      UPDATE user_tokens SET consumed_at = now()
       WHERE token_hash = p_token_hash AND purpose = p_purpose
         AND consumed_at IS NULL AND expires_at > now()
      RETURNING user_id
    )
    SELECT u.id, u.company_id, u.email FROM spent JOIN users u ON u.id = spent.user_id
  $$;
REVOKE ALL ON FUNCTION consume_user_token(text, token_purpose) FROM PUBLIC;
