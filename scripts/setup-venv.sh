#!/usr/bin/env bash
# Create (or update) the project's virtualenv from requirements-dev.lock: the model stack at the
# image's exact versions (hash-checked), ganblr 0.1.3, the database, report and test tools, and this
# package (editable). Idempotent: a venv whose inputs have not changed is left as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
VENV=${GANBLR_BENCH_VENV:-$here/.venv}
PY=${PYTHON:-python3}
stamp=$VENV/.inputs.sha256
inputs=$(cat "$here/requirements-build.lock" "$here/requirements-dev.lock" "$here/pyproject.toml" "$here"/generators/*/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/ganblr-bench" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  echo "venv: $VENV is up to date"; exit 0
fi
"$PY" -m venv --clear "$VENV"  # exactly the lock: nothing left over from an older one
pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" --require-hashes --no-deps -r "$here/requirements-build.lock"
"${pip[@]}" --require-hashes --no-deps -r "$here/requirements-dev.lock"
"${pip[@]}" --no-deps --no-build-isolation -e "$here"
for generator in "$here"/generators/*/; do  # the shipped generator packages: their entry points
  "${pip[@]}" --no-deps --no-build-isolation -e "$generator"
done
echo "$inputs" > "$stamp"
echo "venv: $VENV ready"
