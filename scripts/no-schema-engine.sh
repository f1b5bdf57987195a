#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be installed here (see
# scripts/prisma-generate.mjs). Anything that actually needs the engine must fail.
echo "glidepath: Prisma's schema engine is not available; migrations are applied by 'pnpm db:migrate'" >&2
exit 1
