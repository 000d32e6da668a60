#!/usr/bin/env bash
# Write the settings docker-compose.yml requires: fresh random secrets and this host's facts. An existing
# file is never overwritten (its secrets already protect the data): delete it to start over.
#
# Usage: scripts/compose-env.sh [--celery] [ENV_FILE]    (default .env, readable by its owner only)
#   --celery   the CeleryExecutor with Redis and AIRFLOW_WORKERS workers (COMPOSE_PROFILES=celery)
# Settings worth knowing (add them to the file): AIRFLOW_PORT (8080), AIRFLOW_BIND (127.0.0.1),
# AIRFLOW_BASE_URL, AIRFLOW_WORKERS (2), GANBLR_BENCH_SCHEDULE, GANBLR_BENCH_THRESHOLDS.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
celery=0
if [ "${1:-}" = --celery ]; then celery=1; shift; fi
ENV_FILE=${1:-$here/.env}
if [ -e "$ENV_FILE" ]; then echo "compose env: $ENV_FILE exists; left as it is" >&2; exit 0; fi
sock=${DOCKER_SOCKET:-/var/run/docker.sock}
[ -S "$sock" ] || { echo "compose env: no Docker socket at $sock (set DOCKER_SOCKET)" >&2; exit 1; }
secret() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }
umask 077
{
  echo "# docker compose settings for ganblr-bench, written by scripts/compose-env.sh: keep this file secret."
  echo "AIRFLOW_UID=${AIRFLOW_UID:-50000}"
  echo "DOCKER_GID=$(stat -c %g "$sock")"
  echo "DOCKER_SOCKET=$sock"
  echo "GANBLR_BENCH_DATA=${GANBLR_BENCH_DATA:-$here/var/compose-data}"
  for name in AIRFLOW_ADMIN_PASSWORD POSTGRES_PASSWORD AIRFLOW_DB_PASSWORD GANBLR_BENCH_DB_PASSWORD \
              GANBLR_BENCH_READER_PASSWORD REDIS_PASSWORD AIRFLOW_JWT_SECRET AIRFLOW_API_SECRET_KEY; do
    echo "$name=$(secret)"
  done
  echo "AIRFLOW_FERNET_KEY=$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')"
  if [ "$celery" = 1 ]; then
    echo "COMPOSE_PROFILES=celery"
    echo "AIRFLOW_EXECUTOR=CeleryExecutor"
  fi
} > "$ENV_FILE"
echo "compose env: wrote $ENV_FILE (the UI's admin password is AIRFLOW_ADMIN_PASSWORD there)" >&2
