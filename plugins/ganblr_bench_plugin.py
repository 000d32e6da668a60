"""The Benchmarks page in Airflow: each run's stored report, the runs index, a comparison of any two runs and a
job's files, behind Airflow's login. Presentation only: the answers come from ``ganblr_bench.analysis``, the
HTML from ``ganblr_bench.present``.

The app declares Airflow's own authorization dependency (read access to the benchmark DAG), so the page answers
401/403 without a session, like the rest of Airflow. It serves the report the pipeline's compare step already
wrote (``GANBLR_BENCH_REPORTS/<run key>/report.html``): nothing is built or plotted per request, on the
api-server that also serves running tasks. The latest run is found through the read-only role
(``GANBLR_BENCH_READER_DSN``), or, without it, as the newest report on disk. The runs index (``/runs``) and the
comparison (``/compare?a=RUN&b=RUN``; by default the latest run against the one before it) are read from the
analytics views through the same read-only role. A job's result, spec and synthetic sample
(``/runs/RUN/jobs/JOB/FILE``) are read from its folder through ``layout``'s safe reader. Each DAG run gets a
"Benchmark report" link to its report. ``GANBLR_BENCH_PAGE=off`` removes the page.
"""

from __future__ import annotations

import logging
from pathlib import Path

from airflow.api_fastapi.core_api.security import requires_access_dag
from airflow.plugins_manager import AirflowPlugin
from fastapi import Depends, FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from ganblr_bench import settings

PREFIX = "/ganblr-bench"
DAG_ID = "ganblr_benchmark"
JOB_FILES = {"result.json": "application/json", "spec.json": "application/json", "synthetic.csv": "text/csv"}

app = FastAPI(
    title="ganblr-bench",
    docs_url=None,
    redoc_url=None,
    openapi_url=None,
    dependencies=[Depends(requires_access_dag("GET", param_dag_id=DAG_ID))],
)


def _conf() -> settings.Settings:
    return settings.load(default_context=Path(__file__).resolve().parents[1])


def _reader():
    dsn = settings.READER_DSN.get()
    if not dsn:
        raise HTTPException(
            503, f"the runs index and comparisons read the metrics database: set {settings.READER_DSN.name}"
        )
    import psycopg

    try:
        return psycopg.connect(dsn, connect_timeout=5)
    except psycopg.Error as err:  # the reason may name hosts or users: server log only
        logging.getLogger(__name__).warning("Benchmarks page: metrics database unreadable: %s", err)
        raise HTTPException(503, "the metrics database does not answer") from None


def _report(folder: Path) -> FileResponse:
    report = folder / "report.html"
    if not report.is_file():
        raise HTTPException(404, "no report for this run yet: it is written when the run's compare step ends")
    return FileResponse(report, media_type="text/html")


@app.get("/")
def latest() -> FileResponse:
    from ganblr_bench import layout
    from ganblr_bench.analysis import runs

    root = _conf().reports_root
    if settings.READER_DSN.get():
        with _reader() as conn:
            run_id = runs.latest(conn)
        if run_id is not None:
            return _report(root / layout.run_key(run_id))
    written = sorted(root.glob("*/report.html"), key=lambda p: p.stat().st_mtime)
    if not written:
        raise HTTPException(404, "no benchmark run has been reported yet")
    return _report(written[-1].parent)


@app.get("/runs")
def runs_index() -> HTMLResponse:
    from ganblr_bench.analysis import runs
    from ganblr_bench.present import runs as rendered

    with _reader() as conn:
        return HTMLResponse(rendered.html(runs.index(conn, 100)))


@app.get("/compare")
def compare_runs(a: str | None = None, b: str | None = None) -> HTMLResponse:
    from ganblr_bench.analysis import compare, runs
    from ganblr_bench.errors import NotFound
    from ganblr_bench.present import comparison

    with _reader() as conn:
        try:
            b = runs.resolve(conn, b or "latest")
            a = runs.resolve(conn, a) if a else runs.previous_comparable(conn, b)
            if not a:
                raise NotFound("two comparable recorded runs are needed for a comparison")
            found = compare.compare(conn, a, b, thresholds=settings.THRESHOLDS.get())
        except NotFound as err:
            raise HTTPException(404, str(err)) from None
    return HTMLResponse(comparison.html(found, only_changed=False))


@app.get("/runs/{run_id}")
def run(run_id: str) -> FileResponse:
    from ganblr_bench import layout

    return _report(_conf().reports_root / layout.run_key(run_id))  # run_key: no path can leave the reports root


def _airflow_facts():
    """What Airflow itself knows of the benchmark DAG: paused, runs queued, the scheduler alive (its metadata
    database, read here on the api-server)."""
    from datetime import UTC

    from airflow.api.common.airflow_health import get_airflow_health
    from airflow.models import DagModel, DagRun, Pool
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState

    from ganblr_bench.analysis.health import AirflowFacts

    with create_session() as session:
        dag = session.get(DagModel, DAG_ID)
        queued = session.query(DagRun).filter(DagRun.dag_id == DAG_ID, DagRun.state == DagRunState.QUEUED).all()
        waiting = [(r.run_id, r.queued_at or r.run_after) for r in queued]
        pool = session.query(Pool).filter(Pool.pool == settings.POOL.get()).one_or_none()
        pool_slots = pool.slots if pool is not None else None
    scheduler = get_airflow_health().get("scheduler", {})
    beat = scheduler.get("latest_scheduler_heartbeat")
    from datetime import datetime

    return AirflowFacts(
        paused=bool(dag.is_paused) if dag is not None else None,
        queued=[(run_id, at if at.tzinfo else at.replace(tzinfo=UTC)) for run_id, at in waiting if at is not None],
        scheduler_alive=scheduler.get("status") == "healthy",
        scheduler_heartbeat=datetime.fromisoformat(beat) if beat else None,
        pool=settings.POOL.get(),
        pool_slots=pool_slots,
    )


@app.get("/health")
def health() -> JSONResponse:
    """Is the nightly alive? The same verdict as ``ganblr-bench health``, as JSON; 503 when it is not, so any
    monitor (a blackbox probe, cron and curl, Nagios) can poll it."""
    from datetime import timedelta

    from ganblr_bench.analysis import health as checks

    facts = _airflow_facts()
    with _reader() as conn:
        found = checks.check(conn, timedelta(seconds=settings.HEALTH_MAX_AGE.get()), facts)
    return JSONResponse(found.as_json(), status_code=200 if found.healthy else 503)


@app.get("/runs/{run_id}/jobs/{job}/{name}")
def job_file(run_id: str, job: str, name: str) -> Response:
    """One of a job's files, read as every run-folder file is: a regular file inside the run folder, bounded."""
    from pydantic import TypeAdapter, ValidationError

    from ganblr_bench import layout
    from ganblr_bench.contract import Name
    from ganblr_bench.errors import ContractError

    if name not in JOB_FILES:
        raise HTTPException(404, f"a job's files are {', '.join(JOB_FILES)}")
    try:
        TypeAdapter(Name).validate_python(job)
    except ValidationError:
        raise HTTPException(404, "no such job") from None
    folder = _conf().results_root / layout.run_key(run_id)
    try:
        data = layout.read_bytes(folder / job / name, limit=256 << 20, root=folder)
    except ContractError as err:
        raise HTTPException(404, str(err).replace(str(folder), "<run folder>")) from None
    return Response(data, media_type=JOB_FILES[name])


class GanblrBenchPlugin(AirflowPlugin):
    name = "ganblr_bench"
    if settings.PAGE.get():
        fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "ganblr-bench"}]
        external_views = [
            {"name": "Benchmarks", "href": f"{PREFIX}/", "destination": "nav", "url_route": "benchmarks"},
            {"name": "Benchmark runs", "href": f"{PREFIX}/runs", "destination": "nav", "url_route": "benchmark-runs"},
            # A link on each run of the benchmark DAG to its report ({RUN_ID} is filled in by Airflow's UI).
            {
                "name": "Benchmark report",
                "href": PREFIX + "/runs/{RUN_ID}",
                "destination": "dag_run",
                "url_route": "benchmark-report",
            },
        ]
