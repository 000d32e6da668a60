"""The Benchmarks page in Airflow: the latest GANBLR vs GANBLR++ comparison and trend plots.

Airflow serves plugin FastAPI apps *without* its login, so this page shows benchmark
figures only, read through the read-only role (``GANBLR_BENCH_READER_DSN``, which can
read the analytics views and nothing else); it never shows connection details or run
parameters beyond the public run facts. ``GANBLR_BENCH_PAGE=off`` removes the page.
"""

from __future__ import annotations

import html
import logging
import os

from airflow.plugins_manager import AirflowPlugin
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

READER_DSN_ENV = "GANBLR_BENCH_READER_DSN"
PREFIX = "/ganblr-bench"

app = FastAPI(title="ganblr-bench", docs_url=None, redoc_url=None, openapi_url=None)


def _page(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>Benchmarks</title></head><body>{body}</body></html>",
        status_code=status,
    )


def _render(run_id: str | None) -> HTMLResponse:
    import psycopg

    from ganblr_bench import report, views

    dsn = os.environ.get(READER_DSN_ENV)
    if not dsn:
        return _page(f"<p>The Benchmarks page is not configured: set {READER_DSN_ENV} to the read-only role.</p>", 503)
    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            run_id = run_id or views.latest_run_id(conn)
            if run_id is None:
                return _page("<p>No benchmark run has been recorded yet.</p>")
            return HTMLResponse(report.html_page(report.build(conn, run_id), title="Benchmarks: GANBLR vs GANBLR++"))
    except views.ViewError as err:
        return _page(f"<p>{html.escape(str(err))}</p>", 404)
    except psycopg.Error as err:
        # The reason may name hosts or users: keep it in the server log, not on an unauthenticated page.
        logging.getLogger(__name__).warning("Benchmarks page: metrics database unreadable: %s", err)
        return _page("<p>The metrics database cannot be read right now.</p>", 503)


@app.get("/", response_class=HTMLResponse)
def latest() -> HTMLResponse:
    return _render(None)


@app.get("/runs/{run_id}", response_class=HTMLResponse)
def run(run_id: str) -> HTMLResponse:
    return _render(run_id)


class GanblrBenchPlugin(AirflowPlugin):
    name = "ganblr_bench"
    if os.environ.get("GANBLR_BENCH_PAGE", "on").lower() not in ("off", "false", "0", "no"):
        fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "ganblr-bench"}]
        external_views = [{"name": "Benchmarks", "href": f"{PREFIX}/", "destination": "nav", "url_route": "benchmarks"}]
