#!/usr/bin/env bash
# Create (or update) the Airflow virtualenv from requirements-airflow.lock (hash-checked): Airflow 3
# with the docker and postgres providers, and this package's core (editable), without the model stack.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
VENV=${GANBLR_BENCH_AIRFLOW_VENV:-$here/.venv-airflow}
stamp=$VENV/.inputs.sha256
inputs=$(cat "$here/requirements-build.lock" "$here/requirements-airflow.lock" "$here/pyproject.toml" "$here"/generators/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/airflow" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  echo "airflow venv: $VENV is up to date"; exit 0
fi
"${PYTHON:-python3}" -m venv --clear "$VENV"  # exactly the lock
pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" --require-hashes --no-deps -r "$here/requirements-build.lock"
"${pip[@]}" --require-hashes --no-deps -r "$here/requirements-airflow.lock"
"${pip[@]}" --no-deps --no-build-isolation -e "$here"
for generator in "$here"/generators/*/; do  # the shipped generator packages: their entry points
  "${pip[@]}" --no-deps --no-build-isolation -e "$generator"
done
"$VENV/bin/pip" check >/dev/null || { "$VENV/bin/pip" check >&2; echo "airflow venv: the lock is incomplete" >&2; exit 1; }
echo "$inputs" > "$stamp"
echo "airflow venv: $VENV ready"
