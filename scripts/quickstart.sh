#!/usr/bin/env bash
# The main job end to end on the embedded default, with no server to install:
# the real DAG (airflow dags test) runs GANBLR, GANBLR++ and the two references on Breast
# Cancer (shipped inside scikit-learn, so nothing is downloaded) with the `process` backend
# (no Docker engine needed), records into an embedded PostgreSQL and prints the comparison:
# every model between the floor and the real data. Sized by measuring (docs/datasets.md):
# about 4 minutes of run time on 2 cores.
# Everything lands under var/: results, reports, the database (var/postgres), Airflow's home.
# Extra run parameters as JSON in $1, e.g. scripts/quickstart.sh '{"datasets": ["car"], "epochs": 3}'
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
scripts/setup-venv.sh
scripts/setup-airflow.sh

export GANBLR_BENCH_HOME=${GANBLR_BENCH_HOME:-$here/var}
home=$GANBLR_BENCH_HOME
mkdir -p "$home"
export GANBLR_BENCH_BACKEND=process
export GANBLR_BENCH_RUNNER=$here/.venv/bin/ganblr-bench
export GANBLR_BENCH_RESULTS=$home/results
export GANBLR_BENCH_REPORTS=$home/reports
export GANBLR_BENCH_SCHEDULE=none
export AIRFLOW_HOME=$home/airflow
export AIRFLOW__CORE__DAGS_FOLDER=$here/dags
export AIRFLOW__CORE__PLUGINS_FOLDER=$here/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export TF_CPP_MIN_LOG_LEVEL=2
airflow=$here/.venv-airflow/bin
# Airflow's metadata goes to the same embedded server as the metrics, in its own database.
AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=$("$airflow/python" -c \
  'from ganblr_bench.warehouse import database as d; print(d.embedded_dsn(d.home() / "postgres", "airflow").replace("postgresql://", "postgresql+psycopg://", 1))')
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN
"$airflow/airflow" db migrate >"$home/airflow-migrate.log" 2>&1 || { tail -n 30 "$home/airflow-migrate.log"; exit 1; }

conf=${1:-'{"datasets": ["breast-cancer"], "seeds": [0, 1], "epochs": 10, "classifiers": ["lr"], "model_overrides": {"ganblr++": {"epochs": 20}}}'}
echo "quickstart: running the ganblr_benchmark DAG with $conf"
echo "quickstart: the steps as they finish (the whole log: $home/quickstart.log)"
started=$SECONDS
"$airflow/airflow" dags test ganblr_benchmark -c "$conf" 2>&1 | tee "$home/quickstart.log" |
  grep --line-buffered -E "\[DAG TEST\] starting task_id=|: ok startup=|: (failed|timeout|oom): " |
  sed -u -E -e 's/.*\[DAG TEST\] starting task_id=([^ ]+) map_index=-1 .*/  step \1/' \
    -e 's/.*\[DAG TEST\] starting task_id=([^ ]+) map_index=([0-9]+) .*/  step \1 #\2/' -e 's/^([a-z+-]+-s[0-9]+: )/    \1/' || true
echo "quickstart: the run took $((SECONDS - started)) s"
if ! grep -q "DagRun Finished: .*state=success" "$home/quickstart.log"; then
  echo "quickstart: the run did not succeed; from $home/quickstart.log:" >&2
  grep -E "ERROR|problem\(s\)|regression:|job failed:" "$home/quickstart.log" | tail -n 20 >&2
  exit 1
fi
"$airflow/ganblr-bench" results
echo "results: $home/results/   report: $home/reports/   database: $home/postgres (ganblr-bench results --csv VIEW)"
