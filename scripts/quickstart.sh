#!/usr/bin/env bash
# The main job end to end on the embedded default, with no server to install: a real Airflow (api-server,
# scheduler, dag-processor; LocalExecutor) on an embedded PostgreSQL runs the real DAG once: GANBLR, GANBLR++
# and the two references on Breast Cancer (shipped inside scikit-learn, so nothing is downloaded), side by
# side on cores of their own (the process backend: no Docker engine needed), records into the embedded
# PostgreSQL, writes the report and prints every model between the floor and the real data. Then it stops.
# Everything lands under var/: results, reports, the database (var/postgres), Airflow's home and logs.
#
# Run parameters as JSON in $1 are laid over the defaults (model_overrides model by model), e.g.
#   scripts/quickstart.sh '{"seeds": [0, 1, 2], "epochs": 5}'
# QUICKSTART_SEQUENTIAL=1 runs the same DAG with `airflow dags test` instead (one task after another).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
started=$SECONDS
size() { du -sh "$1" 2>/dev/null | cut -f1; }
echo "quickstart: 1/4 the model stack's virtualenv (.venv: TensorFlow, ganblr 0.1.3, scikit-learn, ...)"
scripts/setup-venv.sh | sed 's/^/  /'
echo "quickstart:     .venv is $(size .venv)"
echo "quickstart: 2/4 Airflow's virtualenv (.venv-airflow: Airflow 3.3, the providers; no model stack)"
scripts/setup-airflow.sh | sed 's/^/  /'
echo "quickstart:     .venv-airflow is $(size .venv-airflow); set-up took $((SECONDS - started)) s"

export GANBLR_BENCH_HOME=${GANBLR_BENCH_HOME:-$here/var}
home=$GANBLR_BENCH_HOME
mkdir -p "$home"
export GANBLR_BENCH_BACKEND=process
export GANBLR_BENCH_RUNNER=$here/.venv/bin/ganblr-bench
export GANBLR_BENCH_RESULTS=$home/results
export GANBLR_BENCH_REPORTS=$home/reports
export GANBLR_BENCH_SCHEDULE=none
export GANBLR_BENCH_HEARTBEAT_S=${GANBLR_BENCH_HEARTBEAT_S:-20}
export AIRFLOW_HOME=$home/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$here/dags
export AIRFLOW__CORE__PLUGINS_FOLDER=$here/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export TF_CPP_MIN_LOG_LEVEL=2
airflow=$here/.venv-airflow/bin
echo "quickstart: 3/4 an embedded PostgreSQL in $home/postgres (Airflow's metadata and the metrics)"
# Airflow's metadata goes to the same embedded server as the metrics, in its own database.
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=$("$airflow/python" -c \
  'from ganblr_bench.warehouse import database as d; print(d.embedded_dsn(d.home() / "postgres", "airflow").replace("postgresql://", "postgresql+psycopg://", 1))')
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN  # scripts/quickstart.py migrates it

defaults='{"datasets": ["breast-cancer"], "seeds": [0, 1], "epochs": 10, "classifiers": ["lr"], "model_overrides": {"ganblr++": {"epochs": 20}}}'
conf=$("$airflow/python" -c '
import json, sys
conf, mine = json.loads(sys.argv[1]), json.loads(sys.argv[2] or "{}")
overrides = conf.pop("model_overrides") | {}
for model, changes in mine.pop("model_overrides", {}).items():
    overrides[model] = overrides.get(model, {}) | changes
print(json.dumps(conf | mine | {"model_overrides": overrides}))' "$defaults" "${1:-}")
[ -n "${1:-}" ] && echo "quickstart:     your parameters $1 are laid over the defaults"
echo "quickstart: 4/4 the ganblr_benchmark DAG with $conf"
run_started=$SECONDS
if [ "${QUICKSTART_SEQUENTIAL:-0}" = 1 ]; then
  "$airflow/python" scripts/quickstart.py "$conf" --sequential
else
  "$airflow/python" scripts/quickstart.py "$conf"
fi
echo "quickstart: the run took $((SECONDS - run_started)) s ($((SECONDS - started)) s with the set-up)"
"$airflow/ganblr-bench" results 2>/dev/null
report=$(ls -t "$home"/reports/*/report.html 2>/dev/null | head -n 1)
echo
echo "quickstart: the report: $report"
echo "quickstart: the run's files: $home/results/ (a folder a job: result.json, synthetic.csv, bins.json)"
echo "quickstart: more with the CLI, e.g.: $here/.venv/bin/ganblr-bench compare --all   (run from $here, or set GANBLR_BENCH_HOME=$home)"
"$airflow/ganblr-bench" db stop-embedded >/dev/null
