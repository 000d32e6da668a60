#!/usr/bin/env bash
# Create (or update) the Airflow virtualenv: Airflow 3 with the docker and postgres
# providers (requirements.txt) and this package's core, without the model stack.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
VENV=${GANBLR_BENCH_AIRFLOW_VENV:-$here/.venv-airflow}
stamp=$VENV/.inputs.sha256
inputs=$(cat "$here/requirements.txt" "$here/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/airflow" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  echo "airflow venv: $VENV is up to date"; exit 0
fi
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
"$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -e "$here"
echo "$inputs" > "$stamp"
echo "airflow venv: $VENV ready"
