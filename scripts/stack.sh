#!/usr/bin/env bash
# The local stack dockops runs on: a Docker engine of its own, Redis and a registry on loopback,
# plus a second engine ("engine b", no networking of its own) for tests of several Docker hosts.
# Idempotent: `up` installs what is missing (as root on Debian), starts what is not running and
# leaves alone what already answers. `env` prints the variables to use; `status` says what runs.
# Facts behind every line: ../shared/STACK.md (Debian's docker.io, redis-server, docker-registry).
set -euo pipefail

STATE_DIR="${DOCKOPS_STATE_DIR:-/var/lib/dockops}"
RUN_DIR="${DOCKOPS_RUN_DIR:-/run/dockops}"
LOG_DIR="${DOCKOPS_LOG_DIR:-/var/log/dockops}"
SOCK="$RUN_DIR/docker.sock"
STACK_DOCKER_HOST="unix://$SOCK"
# Engine b: its own socket, data root, exec root (so its own containerd) and pid file; its own bridge
# (dockops-b0, 10.199.0.0/24; dockerd with --bridge=none would delete the first engine's docker0),
# no iptables rules and no masquerading, so it never touches the first engine's network.
BRIDGE_B="${DOCKOPS_BRIDGE_B:-dockops-b0}"
BRIDGE_B_CIDR="${DOCKOPS_BRIDGE_B_CIDR:-10.199.0.1/24}"
SOCK_B="$RUN_DIR/docker-b.sock"
STACK_DOCKER_HOST_B="unix://$SOCK_B"
PIDFILE_B="$RUN_DIR/docker-b.pid"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
REGISTRY_ADDR="${DOCKOPS_REGISTRY_ADDR:-127.0.0.1:5000}"
# Debian's client talks to the engine Debian ships; any newer client on PATH works as well.
DOCKER_BIN="$(command -v docker || echo /usr/bin/docker)"

say() { echo "stack: $*" >&2; }
die() { echo "stack: error: $*" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "$1 needs root (run as root, or install/start it yourself: see README 'Local stack')"
}

install_missing() {
  local pkgs=()
  command -v dockerd >/dev/null || pkgs+=(docker.io)
  command -v redis-server >/dev/null || pkgs+=(redis-server)
  command -v docker-registry >/dev/null || pkgs+=(docker-registry)
  [ -x /bin/busybox ] || [ -x /usr/bin/busybox ] || pkgs+=(busybox-static)
  command -v git >/dev/null || pkgs+=(git)
  command -v zstd >/dev/null || pkgs+=(zstd)
  command -v age >/dev/null || pkgs+=(age)
  command -v ip >/dev/null || pkgs+=(iproute2)
  command -v docker-compose >/dev/null || pkgs+=(docker-compose)
  if [ ${#pkgs[@]} -gt 0 ]; then
    need_root "installing ${pkgs[*]}"
    say "installing ${pkgs[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq "${pkgs[@]}" >/dev/null
  fi
  DOCKER_BIN="$(command -v docker || echo /usr/bin/docker)"
}

ping_sock() { curl -fsS --max-time 2 --unix-socket "$1" http://localhost/_ping >/dev/null 2>&1; }
docker_ping() { ping_sock "$SOCK"; }
docker_b_ping() { ping_sock "$SOCK_B"; }

redis_ping() {
  local hostport="${REDIS_URL#redis://}"; hostport="${hostport##*@}"; hostport="${hostport%%/*}"
  local host="${hostport%:*}" port="${hostport##*:}"
  [ "$host" = "$hostport" ] && port=6379
  redis-cli -h "$host" -p "$port" ping 2>/dev/null | grep -q PONG
}

registry_ping() { curl -fsS --max-time 2 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1; }

wait_for() { # name tries fn
  local name=$1 tries=$2 fn=$3 i
  for ((i = 0; i < tries; i++)); do "$fn" && return 0; sleep 0.25; done
  die "$name did not answer in time (see $LOG_DIR/$name.log)"
}

start_dockerd() {
  if docker_ping; then return; fi
  need_root "starting dockerd"
  mkdir -p "$STATE_DIR/docker" "$RUN_DIR" "$LOG_DIR"
  # A stale pid file from a killed engine would stop a new one from starting.
  if [ -f "$RUN_DIR/docker.pid" ] && ! kill -0 "$(cat "$RUN_DIR/docker.pid")" 2>/dev/null; then
    rm -f "$RUN_DIR/docker.pid"
  fi
  say "starting dockerd on $STACK_DOCKER_HOST"
  setsid dockerd --data-root "$STATE_DIR/docker" --exec-root "$RUN_DIR/exec" \
    -H "$STACK_DOCKER_HOST" --pidfile "$RUN_DIR/docker.pid" \
    >>"$LOG_DIR/dockerd.log" 2>&1 </dev/null &
  wait_for dockerd 240 docker_ping
}

start_dockerd_b() {
  if docker_b_ping; then return; fi
  need_root "starting dockerd (engine b)"
  mkdir -p "$STATE_DIR/docker-b" "$RUN_DIR" "$LOG_DIR"
  if [ -f "$PIDFILE_B" ] && ! kill -0 "$(cat "$PIDFILE_B")" 2>/dev/null; then rm -f "$PIDFILE_B"; fi
  if ! ip link show "$BRIDGE_B" >/dev/null 2>&1; then
    ip link add "$BRIDGE_B" type bridge
    ip addr add "$BRIDGE_B_CIDR" dev "$BRIDGE_B"
    ip link set "$BRIDGE_B" up
  fi
  say "starting dockerd (engine b) on $STACK_DOCKER_HOST_B"
  setsid dockerd --data-root "$STATE_DIR/docker-b" --exec-root "$RUN_DIR/exec-b" \
    -H "$STACK_DOCKER_HOST_B" --pidfile "$PIDFILE_B" \
    --bridge="$BRIDGE_B" --iptables=false --ip-masq=false \
    >>"$LOG_DIR/dockerd-b.log" 2>&1 </dev/null &
  wait_for dockerd-b 240 docker_b_ping
}

# Stops engine b and waits for its process to end (it stops its containers first, up to ~15 s).
stop_dockerd_b() {
  [ -f "$PIDFILE_B" ] || return 0
  local pid; pid="$(cat "$PIDFILE_B")"
  kill "$pid" 2>/dev/null || return 0
  local i
  for ((i = 0; i < 120; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  die "dockerd (engine b, pid $pid) did not stop in 30 s (see $LOG_DIR/dockerd-b.log)"
}

start_redis() {
  if redis_ping; then return; fi
  mkdir -p "$STATE_DIR/redis" "$LOG_DIR"
  local port="${REDIS_URL##*:}"; port="${port%%/*}"
  say "starting redis-server on 127.0.0.1:$port (AOF on)"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --appendonly yes \
    --dir "$STATE_DIR/redis" --logfile "$LOG_DIR/redis.log" >/dev/null
  wait_for redis 80 redis_ping
}

start_registry() {
  if registry_ping; then return; fi
  mkdir -p "$STATE_DIR/registry" "$LOG_DIR"
  cat >"$STATE_DIR/registry.yml" <<YML
version: 0.1
log: {level: warn}
storage:
  filesystem: {rootdirectory: $STATE_DIR/registry}
  delete: {enabled: true}
http: {addr: $REGISTRY_ADDR}
YML
  say "starting docker-registry on $REGISTRY_ADDR"
  setsid docker-registry serve "$STATE_DIR/registry.yml" >>"$LOG_DIR/registry.log" 2>&1 </dev/null &
  wait_for registry 80 registry_ping
}

# busybox:latest made offline from busybox-static: nothing is ever pulled from Docker Hub.
make_base_image() { # [docker host URL]
  local host="${1:-$STACK_DOCKER_HOST}"
  if DOCKER_HOST="$host" "$DOCKER_BIN" image inspect busybox:latest >/dev/null 2>&1; then return; fi
  local bb; bb="$(command -v busybox || echo /bin/busybox)"
  local root; root="$(mktemp -d)"
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/root"
  cp "$bb" "$root/bin/busybox"
  for c in $("$bb" --list); do [ "$c" = busybox ] || ln -sf busybox "$root/bin/$c"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
  echo 'root:x:0:' >"$root/etc/group"
  say "importing busybox:latest from $bb into $host"
  tar -C "$root" -c . | DOCKER_HOST="$host" "$DOCKER_BIN" import \
    -c 'CMD ["sh"]' -c 'ENV PATH=/bin' - busybox:latest >/dev/null
  rm -rf "$root"
}

print_env() {
  cat <<ENV
export DOCKER_HOST=$STACK_DOCKER_HOST
export REDIS_URL=$REDIS_URL
export DOCKOPS_REGISTRY=${REGISTRY_ADDR/127.0.0.1/localhost}
export DOCKOPS_TEST_DOCKER_HOST_B=$STACK_DOCKER_HOST_B
ENV
}

stop_pidfile() { # name pidfile|pattern
  local pid=$1
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
}

case "${1:-up}" in
  up)
    install_missing
    start_dockerd
    start_dockerd_b
    start_redis
    start_registry
    make_base_image
    make_base_image "$STACK_DOCKER_HOST_B"
    say "ready"
    print_env
    ;;
  env) print_env ;;
  status)
    docker_ping && echo "dockerd   up   $STACK_DOCKER_HOST" || echo "dockerd   down $STACK_DOCKER_HOST"
    docker_b_ping && echo "dockerd-b up   $STACK_DOCKER_HOST_B" || echo "dockerd-b down $STACK_DOCKER_HOST_B"
    redis_ping && echo "redis     up   $REDIS_URL" || echo "redis     down $REDIS_URL"
    registry_ping && echo "registry  up   $REGISTRY_ADDR" || echo "registry  down $REGISTRY_ADDR"
    ;;
  down)
    # Redis is left alone: it may be the machine's own, shared with other programs.
    [ -f "$RUN_DIR/docker.pid" ] && stop_pidfile "$(cat "$RUN_DIR/docker.pid")"
    [ -f "$PIDFILE_B" ] && stop_pidfile "$(cat "$PIDFILE_B")"
    pkill -f "docker-registry serve $STATE_DIR/registry.yml" 2>/dev/null || true
    say "stopped dockerd, dockerd-b and the registry"
    ;;
  restart-b)
    # For failure tests: engine b goes away under a running job and comes back with the same flags.
    # Only engine b: the first engine is shared by everyone's tests and is never restarted.
    stop_dockerd_b
    start_dockerd_b
    say "engine b restarted"
    ;;
  *) die "usage: stack.sh up|down|status|env|restart-b" ;;
esac
