#!/usr/bin/env bash
# The main job end to end on the embedded default: GANBLR and GANBLR++ on Iris (shipped
# inside scikit-learn, so nothing is downloaded), results under var/quickstart/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup-venv.sh
out=var/quickstart
mkdir -p "$out"
for model in ganblr ganblr++; do
  name=${model//+/p}
  printf '{"model": "%s", "dataset": "iris", "seed": 0, "params": {"epochs": 5}}\n' "$model" > "$out/$name.spec.json"
  .venv/bin/ganblr-bench run --spec "$out/$name.spec.json" --out "$out/$name"
done
echo "results: $out/*/result.json"
