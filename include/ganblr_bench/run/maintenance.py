"""The maintenance DAG's task bodies: keep the disk bounded, back the warehouse up, notice a missed night.

``dags/ganblr_maintenance.py`` runs them daily (``GANBLR_BENCH_MAINTENANCE_SCHEDULE``): ``prune`` applies the
retention policy (run/retention.py), ``backup`` dumps the warehouse into ``GANBLR_BENCH_BACKUPS`` and keeps the
newest ``GANBLR_BENCH_KEEP_BACKUPS``, ``health`` fails the maintenance run (so its notifiers tell someone) when
no successful nightly run started within ``GANBLR_BENCH_HEALTH_MAX_AGE``. Monitoring outside Airflow polls
``/ganblr-bench/health``, which also knows whether the scheduler itself is alive.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from ganblr_bench import settings
from ganblr_bench.analysis import health as checks
from ganblr_bench.run import retention
from ganblr_bench.settings import Settings
from ganblr_bench.warehouse import backup as backups
from ganblr_bench.warehouse import database

Say = Callable[[str], None]


class Unhealthy(RuntimeError):
    """The nightly benchmark is stale or failing; the message says why."""


def prune(conf: Settings, dsn: str | None, docker: Callable[[], Any] | None, say: Say = print) -> dict[str, int]:
    """Apply the retention policy (images too, on the docker backend); return what was deleted and freed."""
    client = docker() if docker is not None and str(conf.backend) == "docker" else None
    with database.connect(dsn) as conn:
        todo = retention.plan(
            conn,
            conf.results_root,
            conf.reports_root,
            retention.Policy.configured(),
            logs_root=settings.AIRFLOW_LOGS.get(),
            docker=client,
        )
    freed, problems = retention.apply(todo, client)
    for line in problems:
        say(f"not deleted: {line}")
    say(f"pruned {len(todo.delete)} item(s), {freed} bytes freed; {len(todo.keep)} kept")
    return {"deleted": len(todo.delete) - len(problems), "freed_bytes": freed, "kept": len(todo.keep)}


def backup(dsn: str | None, say: Say = print) -> str | None:
    """Dump the warehouse into the backups folder (if one is set) and keep the newest backups; the file's path."""
    folder = settings.BACKUPS.get()
    if folder is None:
        say(f"no backup: {settings.BACKUPS.name} is not set")
        return None
    path = folder / f"ganblr_bench-{datetime.now(UTC):%Y-%m-%dT%H%M%S.%f}.dump"
    done = backups.backup(dsn or database.dsn(), path)
    gone = backups.keep_newest(folder, settings.KEEP_BACKUPS.get())
    say(f"backed up {done.runs} run(s) to {done.path} ({done.bytes} bytes); {len(gone)} older backup(s) removed")
    return str(done.path)


def health(dsn: str | None, say: Say = print) -> dict[str, Any]:
    """The nightly's health from the warehouse; raise Unhealthy, saying why, when it is stale or failing."""
    with database.connect(dsn) as conn:
        found = checks.check(conn, timedelta(seconds=settings.HEALTH_MAX_AGE.get()))
    say(found.line())
    if not found.healthy:
        raise Unhealthy(found.line())
    result: dict[str, Any] = found.as_json()
    return result
