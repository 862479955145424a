#!/usr/bin/env bash
# One command from a fresh clone to a running platform: Node 24, dependencies,
# Postgres with pgvector, Redis, migrations, demo data, then the API and one worker
# in the background. Safe to run again (it restarts the processes).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-env.sh

step() { printf '» %s\n' "$*" >&2; }

[ -f .env ] || { step "creating .env from .env.example"; cp .env.example .env; }
set -a; source .env; set +a

if [ ! -f node_modules/.package-lock.json ] || ! cmp -s <(sha256sum package-lock.json) node_modules/.hb-lock-hash 2>/dev/null; then
  step "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  sha256sum package-lock.json > node_modules/.hb-lock-hash
fi

bash scripts/services.sh
step "generating the Prisma client"; npm run --silent db:generate >/dev/null
step "applying migrations"; npm run --silent db:migrate
step "building"; npm run --silent build
step "seeding demo data"; seed_output=$(npm run --silent db:seed)

bash scripts/stop.sh >/dev/null 2>&1 || true
mkdir -p .cache/run
llm_note="LLM calls go to Anthropic with ANTHROPIC_API_KEY."
if [ -z "${ANTHROPIC_API_KEY:-}" ]; then
  # No key: the demo's LLM calls go to the local fake Messages API (tools/), which
  # answers with a fixed sentence. Set ANTHROPIC_API_KEY in .env for real answers.
  step "no ANTHROPIC_API_KEY: starting the local fake Anthropic API on :4010"
  SWCRC=true nohup node -r @swc-node/register tools/fake-anthropic.ts 4010 > .cache/run/fake-anthropic.log 2>&1 &
  echo $! > .cache/run/fake-anthropic.pid
  export ANTHROPIC_API_KEY=fake-local-key ANTHROPIC_BASE_URL=http://127.0.0.1:4010
  llm_note="No ANTHROPIC_API_KEY: LLM calls go to the local fake Anthropic API (http://127.0.0.1:4010)."
fi
step "starting the API and a worker (logs in .cache/run/)"
nohup node dist/main.api.js > .cache/run/api.log 2>&1 & echo $! > .cache/run/api.pid
nohup node dist/main.worker.js > .cache/run/worker.log 2>&1 & echo $! > .cache/run/worker.pid

base="http://127.0.0.1:${PORT:-3000}"
for _ in $(seq 1 60); do
  if curl -fsS "$base/health/ready" >/dev/null 2>&1; then break; fi
  sleep 0.5
done
if ! curl -fsS "$base/health/ready" >/dev/null; then
  echo "The API did not become ready; see .cache/run/api.log" >&2
  tail -n 20 .cache/run/api.log >&2
  exit 1
fi

# An invitation, to show the mail flow offline: without SMTP_URL the worker keeps the
# mail in the mail_outbox table, and its link works against this API.
invite_link=$(node scripts/demo-invitation.mjs "$base" 2>/dev/null || echo "(could not create the demo invitation; see .cache/run/api.log)")

cat <<MSG

HireBuddha is running.
  API         $base/api/v1
  API docs    $base/docs   (OpenAPI: $base/api/v1/openapi.json)
  Readiness   $base/health/ready
  Worker      http://127.0.0.1:${WORKER_HTTP_PORT:-3001}/health/ready
  $llm_note

$seed_output

Demo invitation for invitee@demo.local (mail kept in the outbox; accept it with
POST /api/v1/auth/accept-invitation {token, password}):
  $invite_link

Logs: .cache/run/api.log, .cache/run/worker.log   Stop: bash scripts/stop.sh
MSG
