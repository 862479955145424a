# syntax=docker/dockerfile:1
#
# HireBuddha image: one image, three roles chosen by the command (see docker-compose.yml):
#   node dist/main.api.js          the HTTP API (default CMD)
#   node dist/main.worker.js       a queue worker (health on WORKER_HTTP_PORT)
#   node scripts/db/cli.mjs migrate  one-shot migrations (plain ESM, no build step)
#
# Checked by test/infra/deployment-files.spec.ts.

# ─────────────────────────────────── build ───────────────────────────────────
FROM node:24-slim AS build
WORKDIR /app
# Prisma's CLI phones home for update checks; nothing here needs it.
ENV CHECKPOINT_DISABLE=1

# Dependencies first, so source edits reuse this layer.
# --ignore-scripts: no dependency needs its install script here. argon2 ships
# prebuilt binaries (linux x64/arm64, glibc) that node-gyp-build finds at runtime;
# swc and esbuild come as platform packages; and Prisma's engine download is not
# needed (generation runs offline, see scripts/prisma-generate.sh; migrations use
# @prisma/schema-engine-wasm). So the build never reaches binaries.prisma.sh.
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund

COPY . .
# The Prisma client is generated into src/infra/database/generated (gitignored and
# excluded by .dockerignore), so it must be generated before nest compiles src/.
RUN npm run db:generate
RUN npm run build

# Production dependencies only. This drops tsx, so `npm run db:seed` (tsx
# prisma/seed.ts) does not run in this image, by choice: the image carries no
# TypeScript sources, the first admin comes from the first-start bootstrap
# (BOOTSTRAP_ADMIN_EMAIL / BOOTSTRAP_ADMIN_PASSWORD), and seeding sample data is a
# development task run from a checkout against the database (compose publishes
# Postgres on 127.0.0.1:5432 for that).
RUN npm prune --omit=dev --no-audit --no-fund

# ────────────────────────────────── runtime ──────────────────────────────────
FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

# Files stay owned by root and read-only to the app user: the processes write
# nothing under /app (logs go to stdout).
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Migrations at runtime: scripts/db/cli.mjs reads prisma/schema.prisma and
# prisma/migrations relative to its own location (../../prisma).
COPY --from=build /app/prisma ./prisma
COPY --from=build /app/scripts/db ./scripts/db

# The unprivileged user shipped with the node images (uid 1000).
USER node

# API on PORT (3000); a worker's health endpoints on WORKER_HTTP_PORT (3001).
EXPOSE 3000 3001

# No HEALTHCHECK here: the same image runs the API, workers (another port) and the
# one-shot migrator (no port at all), so each compose service declares its own.
CMD ["node", "dist/main.api.js"]
