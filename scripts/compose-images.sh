#!/usr/bin/env bash
# The images docker-compose.yml runs, on an engine that may reach no registry.
#
# For PostgreSQL and Redis: the official image if it is present or can be pulled, else a local stand-in
# built from Debian's packages (docker/standins: real servers). The Airflow image: docker/airflow.Dockerfile
# on the official Airflow image, or on the stand-in base when that cannot be pulled. Every image is
# tagged by a hash of its inputs and built only when that tag is missing, so a second run builds nothing.
# The chosen names are written to ENV_FILE (POSTGRES_IMAGE, REDIS_IMAGE, AIRFLOW_IMAGE), where
# `docker compose` reads them; other lines of the file are kept.
#
# Usage: scripts/compose-images.sh [ENV_FILE]          (default .env)
#        GANBLR_BENCH_STANDINS=1 scripts/compose-images.sh   skip the pull attempts (known air gap)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ENV_FILE=${1:-$here/.env}
cd "$here"

say() { echo "compose images: $*" >&2; }
present() { docker image inspect "$1" >/dev/null 2>&1; }
pullable() {
  [ "${GANBLR_BENCH_STANDINS:-0}" = 1 ] && return 1
  timeout "${GANBLR_BENCH_PULL_TIMEOUT_S:-60}" docker pull -q "$1" >/dev/null 2>&1
}
hash_of() { cat "$@" | sha256sum | cut -c1-12; }
build() {  # build TAG ARGS...: build once per tag (the tag names its inputs)
  local tag=$1; shift
  if present "$tag"; then say "$tag present (cached)"; return; fi
  say "building $tag"
  local start=$SECONDS
  local log
  log=$(mktemp)
  DOCKER_BUILDKIT=0 docker build --network host -t "$tag" "$@" >"$log" 2>&1 || { tail -n 40 "$log" >&2; rm -f "$log"; return 1; }
  rm -f "$log"
  say "built $tag in $((SECONDS - start)) s"
}

base=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile | head -n 1)
present "$base" || pullable "$base" || scripts/base-image.sh "$base" >&2
base_id=$(docker image inspect --format '{{.Id}}' "$base")
standins=$(hash_of docker/standins/* <(echo "$base_id"))

official() {  # official IMAGE TARGET: the official image, or the stand-in for it
  if present "$1" || pullable "$1"; then echo "$1"; return; fi
  local tag="ganblr-bench-standin/$2:$standins"
  build "$tag" --target "$2" --build-arg BASE_IMAGE="$base" docker/standins
  echo "$tag"
}
postgres=$(official "${POSTGRES_OFFICIAL:-postgres:17}" postgres)
redis=$(official "${REDIS_OFFICIAL:-redis:7}" redis)
airflow_base=$(official "$(sed -n 's/^ARG AIRFLOW_BASE_IMAGE=//p' docker/airflow.Dockerfile)" airflow-base)

# The Airflow image holds this package's core: its tag covers everything its Dockerfile copies.
if [ "${GANBLR_BENCH_TRUST_HOST_CA:-0}" = 1 ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt docker/extra-ca/host-bundle.crt  # behind a TLS proxy (docker/README.md)
fi
inputs=$(hash_of docker/airflow.Dockerfile requirements-build.lock requirements-airflow.lock pyproject.toml README.md \
  $(find include generators -type f -not -path '*/__pycache__/*' -not -path '*.egg-info/*' | LC_ALL=C sort) \
  <(docker image inspect --format '{{.Id}}' "$airflow_base"))
airflow="ganblr-bench-airflow:3.3.2-$inputs"
build "$airflow" -f docker/airflow.Dockerfile --build-arg AIRFLOW_BASE_IMAGE="$airflow_base" .

touch "$ENV_FILE"
for pair in "POSTGRES_IMAGE=$postgres" "REDIS_IMAGE=$redis" "AIRFLOW_IMAGE=$airflow"; do
  name=${pair%%=*}
  grep -v "^$name=" "$ENV_FILE" > "$ENV_FILE.tmp" || true
  echo "$pair" >> "$ENV_FILE.tmp"
  cat "$ENV_FILE.tmp" > "$ENV_FILE" && rm -f "$ENV_FILE.tmp"
  say "$pair"
done
