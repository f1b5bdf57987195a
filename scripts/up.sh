#!/usr/bin/env bash
# README command 1: install what is needed, build the dashboard, start Glidepath.
# Needs PostgreSQL and Redis reachable (DATABASE_URL / REDIS_URL, defaults on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pnpm >/dev/null || npm install -g pnpm@10
pnpm install --frozen-lockfile
pnpm build
exec node scripts/start.mjs
