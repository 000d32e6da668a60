"""The Benchmarks page in Airflow: each run's stored comparison report, the runs index and a comparison of any
two runs, behind Airflow's login.

The app declares Airflow's own authorization dependency (read access to the benchmark DAG), so
the page answers 401/403 without a session, like the rest of Airflow. It serves the report the
pipeline's compare step already wrote (``GANBLR_BENCH_REPORTS/<run key>/report.html``): nothing is
built or plotted per request, on the api-server that also serves running tasks. The latest run
is found through the read-only role (``GANBLR_BENCH_READER_DSN``), or, without it, as the newest
report on disk. The runs index (``/runs``) and the comparison (``/compare?a=RUN&b=RUN``; by default the latest
run against the run before it) are read from the analytics views through the same read-only role, never from
the files and never computed on the workers' behalf. ``GANBLR_BENCH_PAGE=off`` removes the page.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from airflow.api_fastapi.core_api.security import requires_access_dag
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

READER_DSN_ENV = "GANBLR_BENCH_READER_DSN"
PREFIX = "/ganblr-bench"
DAG_ID = "ganblr_benchmark"

app = FastAPI(
    title="ganblr-bench",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    dependencies=[Depends(requires_access_dag("GET", param_dag_id=DAG_ID))],
)


def _reports_root() -> Path:
    from ganblr_bench import settings

    return settings.load(default_context=Path(__file__).resolve().parents[1]).reports_root


def _latest_run_id() -> str | None:
    dsn = os.environ.get(READER_DSN_ENV)
    if not dsn:
        return None
    import psycopg

    from ganblr_bench import views

    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            return views.latest_run_id(conn)
    except psycopg.Error as err:  # the reason may name hosts or users: server log only
        logging.getLogger(__name__).warning("Benchmarks page: metrics database unreadable: %s", err)
        return None


def _report(folder: Path) -> FileResponse:
    page = folder / "report.html"
    if not page.is_file():
        raise HTTPException(404, "no report for this run yet: it is written when the run's compare step ends")
    return FileResponse(page, media_type="text/html")


@app.get("/")
def latest() -> FileResponse:
    from ganblr_bench import rundir

    root = _reports_root()
    run_id = _latest_run_id()
    if run_id is not None:
        return _report(root / rundir.run_key(run_id))
    written = sorted(root.glob("*/report.html"), key=lambda p: p.stat().st_mtime)
    if not written:
        raise HTTPException(404, "no benchmark run has been reported yet")
    return _report(written[-1].parent)


def _reader():
    dsn = os.environ.get(READER_DSN_ENV)
    if not dsn:
        raise HTTPException(503, f"the runs index and comparisons read the metrics database: set {READER_DSN_ENV}")
    import psycopg

    try:
        return psycopg.connect(dsn, connect_timeout=5)
    except psycopg.Error as err:  # the reason may name hosts or users: server log only
        logging.getLogger(__name__).warning("Benchmarks page: metrics database unreadable: %s", err)
        raise HTTPException(503, "the metrics database does not answer") from None


@app.get("/runs")
def runs_index() -> HTMLResponse:
    from ganblr_bench import compare

    with _reader() as conn:
        return HTMLResponse(compare.index_html(compare.index(conn, 100)))


@app.get("/compare")
def compare_runs(a: str | None = None, b: str | None = None) -> HTMLResponse:
    from ganblr_bench import compare, views

    with _reader() as conn:
        b = b or views.latest_run_id(conn)
        a = a or (compare.previous_comparable(conn, b) if b else None)
        if not a or not b:
            raise HTTPException(404, "two recorded runs are needed for a comparison")
        try:
            found = compare.compare(conn, a, b)
        except views.ViewError as err:
            raise HTTPException(404, str(err)) from None
    return HTMLResponse(compare.comparison_html(found))


@app.get("/runs/{run_id}")
def run(run_id: str) -> FileResponse:
    from ganblr_bench import rundir

    return _report(_reports_root() / rundir.run_key(run_id))  # run_key: no path can leave the reports root


class GanblrBenchPlugin(AirflowPlugin):
    name = "ganblr_bench"
    if os.environ.get("GANBLR_BENCH_PAGE", "on").lower() not in ("off", "false", "0", "no"):
        fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "ganblr-bench"}]
        external_views = [
            {"name": "Benchmarks", "href": f"{PREFIX}/", "destination": "nav", "url_route": "benchmarks"},
            {"name": "Benchmark runs", "href": f"{PREFIX}/runs", "destination": "nav", "url_route": "benchmark-runs"},
        ]
