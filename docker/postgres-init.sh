#!/usr/bin/env bash
# Runs once, when the postgres service creates its data folder (sourced by the image's entrypoint, as the
# superuser over the local socket). One role per purpose, none a superuser:
#   airflow              owns the airflow database (Airflow's metadata), nothing else
#   ganblr_bench         owns the ganblr_bench database (the metrics): `ganblr-bench db upgrade` and recording
#   ganblr_bench_reader  logs in to the metrics database only; migration 0003 limits it to the analytics views
# Passwords arrive as psql variables (quoted by psql), so any character is safe here.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres \
  -v airflow_pw="${AIRFLOW_DB_PASSWORD:?}" -v bench_pw="${GANBLR_BENCH_DB_PASSWORD:?}" \
  -v reader_pw="${GANBLR_BENCH_READER_PASSWORD:?}" >/dev/null <<'SQL'
CREATE ROLE airflow LOGIN PASSWORD :'airflow_pw';
CREATE DATABASE airflow OWNER airflow;
REVOKE ALL ON DATABASE airflow FROM PUBLIC;
CREATE ROLE ganblr_bench LOGIN PASSWORD :'bench_pw';
CREATE DATABASE ganblr_bench OWNER ganblr_bench;
REVOKE ALL ON DATABASE ganblr_bench FROM PUBLIC;
CREATE ROLE ganblr_bench_reader LOGIN PASSWORD :'reader_pw';
GRANT CONNECT ON DATABASE ganblr_bench TO ganblr_bench_reader;
SQL
echo "postgres init: roles airflow, ganblr_bench, ganblr_bench_reader and their databases"
