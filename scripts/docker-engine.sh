#!/usr/bin/env bash
# Start a private Docker engine for ganblr-bench when none answers on the socket.
#
# No default bridge (--bridge=none) and no iptables rules: builds use host networking
# and benchmark containers run with no network, so the engine needs neither.
# Usage: scripts/docker-engine.sh [start|stop]
set -euo pipefail

DOCKER_ROOT=${GANBLR_BENCH_DOCKER_ROOT:-/var/lib/ganblr-bench-docker}
SOCK=${GANBLR_BENCH_DOCKER_SOCK:-/var/run/docker.sock}
LOG=$DOCKER_ROOT/dockerd.log
PIDFILE=$DOCKER_ROOT/dockerd.pid

have_engine() { docker -H "unix://$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

case "${1:-start}" in
start)
  if have_engine; then echo "docker engine: already running on $SOCK"; exit 0; fi
  if ! command -v dockerd >/dev/null; then
    echo "docker engine: dockerd not found; install Debian's docker.io (apt-get install docker.io)" >&2
    exit 1
  fi
  mkdir -p "$DOCKER_ROOT"
  nohup dockerd --host "unix://$SOCK" --data-root "$DOCKER_ROOT/data" --exec-root "$DOCKER_ROOT/exec" \
    --pidfile "$PIDFILE" --bridge=none --iptables=false --ip-masq=false >"$LOG" 2>&1 &
  for _ in $(seq 1 60); do
    if have_engine; then echo "docker engine: started (data root $DOCKER_ROOT/data)"; exit 0; fi
    sleep 1
  done
  echo "docker engine: dockerd did not answer within 60 s; last log lines:" >&2
  tail -n 20 "$LOG" >&2
  exit 1
  ;;
stop)
  if [ -f "$PIDFILE" ]; then kill "$(cat "$PIDFILE")" 2>/dev/null || true; fi
  ;;
*) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
