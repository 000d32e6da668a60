#!/usr/bin/env bash
# Create (or update) the project's virtualenv: the pinned model stack, ganblr 0.1.3
# without its dependency pins, and this package with its database, report and test extras.
# Idempotent: a venv whose inputs have not changed is left as it is.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
VENV=${GANBLR_BENCH_VENV:-$here/.venv}
PY=${PYTHON:-python3}
stamp=$VENV/.inputs.sha256
inputs=$(cat "$here/requirements-models.txt" "$here/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [ -x "$VENV/bin/ganblr-bench" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$inputs" ]; then
  echo "venv: $VENV is up to date"; exit 0
fi
"$PY" -m venv "$VENV"
pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" -r "$here/requirements-models.txt"
"${pip[@]}" --no-deps ganblr==0.1.3
"${pip[@]}" -e "$here[db,report,test]"
echo "$inputs" > "$stamp"
echo "venv: $VENV ready"
