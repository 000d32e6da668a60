"""The runs in the warehouse: the index people browse, one run's facts, and finding a run by what people type.

A run can be named by its full id, a unique prefix of it, its folder name (the run key), ``latest``, or
``previous`` (the newest run before the latest that shares a job configuration with it); ``resolve`` turns
any of these into the run id, or a ``NotFound`` saying what there is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ganblr_bench import layout
from ganblr_bench.errors import ContractError, NotFound
from ganblr_bench.states import RunKind
from ganblr_bench.warehouse import views

MAX_LIMIT = 10_000


@dataclass(frozen=True)
class RunFacts:
    """One run as analytics.runs holds it."""

    run_id: str
    kind: RunKind
    started_at: datetime
    finished_at: datetime | None
    triggered_by: str | None
    params: dict[str, Any]
    backend: str | None
    git_sha: str | None
    image_ref: str | None
    image_digest: str | None
    image_inputs_hash: str | None
    image_build_s: float | None
    image_build_cached: bool | None
    host_name: str | None
    host_cpus: int | None
    host_memory_bytes: int | None
    jobs: int
    ok_jobs: int

    @property
    def key(self) -> str:
        return layout.run_key(self.run_id)

    @classmethod
    def of(cls, row: dict[str, Any]) -> RunFacts:
        fields: dict[str, Any] = {k: row.get(k) for k in cls.__dataclass_fields__}
        fields["kind"] = RunKind(row["kind"])
        fields["params"] = row.get("params") or {}
        return cls(**fields)


@dataclass(frozen=True)
class RunSummary:
    """A line of the runs index."""

    run_id: str
    started_at: datetime
    kind: RunKind
    triggered_by: str
    jobs: int
    ok_jobs: int
    failed_jobs: int
    regressions: int
    improvements: int

    @property
    def needs_a_look(self) -> bool:
        return bool(self.failed_jobs or self.regressions)

    @property
    def status(self) -> str:
        return "needs a look" if self.needs_a_look else "ok"


_INDEX = """
SELECT r.run_id, r.started_at, r.kind, coalesce(r.triggered_by, '') AS triggered_by, r.jobs, r.ok_jobs,
       r.jobs - r.ok_jobs AS failed_jobs,
       (SELECT count(*) FROM analytics.regressions g
        WHERE g.run_id = r.run_id AND g.verdict = 'regression' AND g.stack = 'locked') AS regressions,
       (SELECT count(*) FROM analytics.regressions g
        WHERE g.run_id = r.run_id AND g.verdict = 'improvement' AND g.stack = 'locked') AS improvements
FROM analytics.runs r ORDER BY r.started_at DESC, r.run_id DESC LIMIT %s
"""


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise ContractError(f"--limit {limit}: give a number of runs from 1 to {MAX_LIMIT}")
    return limit


def index(conn: Any, limit: int = 30) -> list[RunSummary]:
    """The newest runs first: when, what kind, who triggered it, its jobs, failures, regressions."""
    rows = views.rows(conn, _INDEX, (check_limit(limit),))
    return [RunSummary(**(r | {"kind": RunKind(r["kind"])})) for r in rows]


def facts(conn: Any, run_id: str) -> RunFacts:
    found = views.rows(conn, "SELECT * FROM analytics.runs WHERE run_id = %s", (run_id,))
    if not found:
        raise NotFound(f"no run {run_id!r} in the warehouse; 'ganblr-bench runs' lists them")
    return RunFacts.of(found[0])


def latest(conn: Any) -> str | None:
    return views.latest_run_id(conn)


def previous_comparable(conn: Any, run_id: str) -> str | None:
    """The newest earlier run with a job configuration in common with ``run_id`` (the baseline's last run)."""
    row = conn.execute(  # per series of the run, its latest earlier run (through the series index); the newest
        """
        SELECT prior.run_id FROM (SELECT DISTINCT series_key FROM analytics.job_results WHERE run_id = %(run)s) mine
        CROSS JOIN LATERAL (
            SELECT j.run_id, j.run_started_at FROM analytics.job_results j
            WHERE j.series_key = mine.series_key AND j.status = 'ok'
              AND j.run_started_at < (SELECT started_at FROM analytics.runs WHERE run_id = %(run)s)
            ORDER BY j.run_started_at DESC LIMIT 1
        ) prior
        ORDER BY prior.run_started_at DESC LIMIT 1
        """,
        {"run": run_id},
    ).fetchone()
    return row[0] if row else None


def resolve(conn: Any, name: str) -> str:
    """The run id people mean by ``name``: a full id, a unique prefix, a folder name, latest or previous."""
    if name in ("latest", "previous"):
        newest = latest(conn)
        if newest is None:
            raise NotFound("no runs recorded yet")
        if name == "latest":
            return newest
        before = previous_comparable(conn, newest)
        if before is None:
            raise NotFound(f"no run before the latest ({newest}) shares a job configuration with it")
        return before
    exact = conn.execute("SELECT run_id FROM analytics.runs WHERE run_id = %s", (name,)).fetchone()
    if exact:
        return str(exact[0])
    keyed = conn.execute("SELECT run_id FROM analytics.runs WHERE run_key = %s", (name,)).fetchone()
    if keyed:
        return str(keyed[0])
    like = name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    candidates = [
        r[0] for r in conn.execute("SELECT run_id FROM analytics.runs WHERE run_id LIKE %s LIMIT 50", (like,))
    ]
    if len(candidates) == 1:
        return str(candidates[0])
    if candidates:
        shown = ", ".join(sorted(candidates)[:5])
        raise NotFound(
            f"run {name!r} is ambiguous: {len(candidates)} runs match ({shown}{', ...' if len(candidates) > 5 else ''})"
        )
    raise NotFound(f"no run {name!r} in the warehouse; 'ganblr-bench runs' lists them (or say latest, previous)")
