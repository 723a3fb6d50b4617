#!/usr/bin/env bash
# `npm start`: the single-machine default. Installs what is missing, brings up the local stack
# (dockerd, Redis, a registry), makes an API token if none is configured, and runs
# `dockops start` (the doors and a worker in one process) in the foreground.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -d node_modules ] || npm ci --no-audit --no-fund
[ -f .env ] && { set -a; . ./.env; set +a; }
eval "$(bash scripts/stack.sh up)"

if [ -z "${DOCKOPS_API_TOKENS:-}" ]; then
  TOKEN_FILE="${DOCKOPS_TOKEN_FILE:-${XDG_CONFIG_HOME:-$HOME/.config}/dockops/token}"
  if [ ! -s "$TOKEN_FILE" ]; then
    mkdir -p "$(dirname "$TOKEN_FILE")"
    (umask 077; node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))' >"$TOKEN_FILE")
    echo "start: made an API token in $TOKEN_FILE (the CLI reads it from there)" >&2
  fi
  export DOCKOPS_API_TOKENS="local:$(cat "$TOKEN_FILE")"
fi

echo "start: dockops on http://${DOCKOPS_BIND:-127.0.0.1}:${DOCKOPS_PORT:-8080}; try: bin/dockops docker ps -a" >&2
exec bin/dockops start
