#!/usr/bin/env bash
# Build the shared image from the repo's Dockerfile, timed, with host networking (the
# engine has no bridge). Prints "build_seconds=S image=ID tag=TAG" on its last line.
# Usage: scripts/build-image.sh [TAG]   (default ganblr-bench:dev); extra args via DOCKER_BUILD_ARGS
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
TAG=${1:-ganblr-bench:dev}
# Behind a TLS-intercepting proxy the host's bundle holds the proxy's CA: opt in with
# GANBLR_BENCH_TRUST_HOST_CA=1 (see docker/README.md).
if [ "${GANBLR_BENCH_TRUST_HOST_CA:-0}" = 1 ] && [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$here/docker/extra-ca/host-bundle.crt"
fi
start=$EPOCHREALTIME
# The classic builder, as the Docker SDK (and so the DAG) uses it: one Dockerfile for both.
version=$(sed -n 's/^__version__ = "\([^"]*\)".*/\1/p' "$here/include/ganblr_bench/__init__.py")
DOCKER_BUILDKIT=0 docker build --network host --target bench --build-arg "VERSION=$version" -t "$TAG" ${DOCKER_BUILD_ARGS:-} "$here" >&2
end=$EPOCHREALTIME
printf 'build_seconds=%s image=%s tag=%s\n' "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')" \
  "$(docker image inspect --format '{{.Id}}' "$TAG")" "$TAG"
