#!/usr/bin/env bash
# `npm test`: the whole suite on real parts. Brings up the local stack (dockerd, Redis, registry)
# if it is not up, type-checks, then runs unit, integration and end-to-end tests with node:test.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
eval "$(bash scripts/stack.sh up)"

echo "test: type-check (tsc --noEmit)" >&2
npx tsc --noEmit

# Files run one at a time: they share one engine, and `ps -a` parity must see a quiet engine.
exec node --import tsx --test --test-concurrency=1 --test-timeout=300000 \
  test/unit/*.test.ts test/integration/*.test.ts test/e2e/*.test.ts "$@"
