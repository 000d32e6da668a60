"""
### ganblr_maintenance

Daily (`GANBLR_BENCH_MAINTENANCE_SCHEDULE`, default 05:00 UTC, after the nightly):

    prune ─► backup ─► health

* **prune** applies the retention policy: bulky artefacts, old run folders and reports, unused TRTR cache
  entries, old task logs (`GANBLR_BENCH_AIRFLOW_LOGS`) and our own old images go; metrics stay forever
  (docs/operations.md#retention).
* **backup** dumps the warehouse into `GANBLR_BENCH_BACKUPS` (when set) and keeps the newest backups.
* **health** fails the run, and so tells the notifiers, when no successful nightly run started within
  `GANBLR_BENCH_HEALTH_MAX_AGE` (26 h).

Every step's body is a function of `ganblr_bench.run.maintenance`; this file only wires them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import dag, task
from airflow_edges import docker_client, metrics_dsn, notifiers

from ganblr_bench import settings
from ganblr_bench.run import maintenance

CONF = settings.load(default_context=Path(__file__).resolve().parents[1])


@dag(
    dag_id="ganblr_maintenance",
    schedule=settings.MAINTENANCE_SCHEDULE.get(),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    on_failure_callback=notifiers(CONF),
    default_args={"owner": "ganblr-bench", "retries": 1, "retry_delay": timedelta(minutes=5)},
    tags=["ganblr-bench", "maintenance"],
    doc_md=__doc__,
)
def ganblr_maintenance():
    @task(execution_timeout=timedelta(hours=1))
    def prune() -> dict:
        return maintenance.prune(CONF, metrics_dsn(), lambda: docker_client(CONF))

    @task(execution_timeout=timedelta(hours=1))
    def backup() -> str | None:
        return maintenance.backup(metrics_dsn())

    @task(retries=0, execution_timeout=timedelta(minutes=10))
    def health() -> dict:
        return maintenance.health(metrics_dsn())

    prune() >> backup() >> health()


ganblr_maintenance()
