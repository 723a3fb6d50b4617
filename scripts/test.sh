#!/usr/bin/env bash
# `npm test`: the whole suite on real parts. Brings up the local stack (dockerd, Redis, registry)
# if it is not up, type-checks, then runs unit, integration and end-to-end tests with node:test.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
eval "$(bash scripts/stack.sh up)"

# The job page test drives Debian's Chromium headless (playwright-core, no downloaded browser).
# Only tests need it, so it is installed here rather than by scripts/stack.sh.
if [ ! -x /usr/bin/chromium ]; then
  [ "$(id -u)" = 0 ] || { echo "test: /usr/bin/chromium is missing: apt-get install -y chromium (as root)" >&2; exit 1; }
  echo "test: installing chromium (apt-get)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
fi

echo "test: type-check (tsc --noEmit)" >&2
npx tsc --noEmit

# Files run one at a time: they share one engine, and `ps -a` parity must see a quiet engine.
exec node --import tsx --test --test-concurrency=1 --test-timeout=300000 \
  test/unit/*.test.ts test/integration/*.test.ts test/e2e/*.test.ts "$@"
