#!/usr/bin/env bash
# README command 1: install what is needed, build the dashboard, start Glidepath with the live
# demo. Needs PostgreSQL and Redis reachable (DATABASE_URL / REDIS_URL, defaults on 127.0.0.1).
#   ./scripts/up.sh                   Glidepath + demo, until Ctrl-C
#   ./scripts/up.sh --no-demo         Glidepath only
#   ./scripts/up.sh --exit-when-done  run the demo's releases, then stop (exit 0 when they ended as expected)
set -euo pipefail
cd "$(dirname "$0")/.."
demo=--demo
extra=()
for arg in "$@"; do
  case "$arg" in
    --no-demo) demo= ;;
    --exit-when-done) extra+=(--exit-when-done) ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
command -v pnpm >/dev/null || npm install -g pnpm@10
pnpm install --frozen-lockfile
pnpm build
if [ -n "$demo" ]; then
  missing=()
  command -v haproxy >/dev/null || missing+=(haproxy)
  command -v prometheus >/dev/null || missing+=(prometheus)
  if ((${#missing[@]})); then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    else
      echo "the demo needs Debian's ${missing[*]}: sudo apt-get install -y --no-install-recommends ${missing[*]} (or run with --no-demo)" >&2
      exit 1
    fi
  fi
fi
exec node scripts/start.mjs $demo "${extra[@]}"
