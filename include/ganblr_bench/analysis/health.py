"""Is the nightly benchmark alive? A verdict monitoring can poll, because a night that does not happen fails no run.

Healthy when the last **successful** nightly run (a scheduled run whose locked-stack jobs all ended ok) started
within ``max_age`` and, where Airflow's facts are known (the Benchmarks page reads them from Airflow itself, the
CLI through its REST API when ``GANBLR_BENCH_AIRFLOW_URL`` is set), the benchmark DAG is not paused, no run of it
has waited queued longer than ``stuck_after``, and the scheduler is alive. Each fact that fails says why in one
line. ``ganblr-bench health`` exits 0 when healthy, 1 otherwise; ``/ganblr-bench/health`` answers the same as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ganblr_bench.figures import clock


@dataclass(frozen=True)
class AirflowFacts:
    """What Airflow knows that the warehouse cannot: the DAG paused, runs waiting, the scheduler's pulse."""

    paused: bool | None = None
    queued: list[tuple[str, datetime]] = field(default_factory=list)  # (run id, queued since)
    scheduler_alive: bool | None = None
    scheduler_heartbeat: datetime | None = None
    pool: str | None = None  # the core pool the job tasks wait in (GANBLR_BENCH_POOL)
    pool_slots: int | None = None  # its slots; None when it does not exist


@dataclass(frozen=True)
class Health:
    healthy: bool
    reasons: list[str]
    checked_at: datetime
    max_age_s: float
    last_nightly: str | None
    last_nightly_at: datetime | None
    last_successful: str | None
    last_successful_at: datetime | None
    airflow: AirflowFacts | None

    def line(self) -> str:
        if self.healthy:
            age = clock((self.checked_at - self.last_successful_at).total_seconds()) if self.last_successful_at else "-"
            return f"healthy: the last successful nightly run {self.last_successful} started {age} ago"
        return "failing: " + "; ".join(self.reasons)

    def as_json(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        facts = self.airflow
        return {
            "healthy": self.healthy,
            "reasons": self.reasons,
            "checked_at": when(self.checked_at),
            "max_age_s": self.max_age_s,
            "last_nightly": {"run_id": self.last_nightly, "started_at": when(self.last_nightly_at)},
            "last_successful_nightly": {"run_id": self.last_successful, "started_at": when(self.last_successful_at)},
            "airflow": None
            if facts is None
            else {
                "paused": facts.paused,
                "queued": [{"run_id": r, "queued_at": when(t)} for r, t in facts.queued],
                "scheduler_alive": facts.scheduler_alive,
                "scheduler_heartbeat": when(facts.scheduler_heartbeat),
                "pool": {"name": facts.pool, "slots": facts.pool_slots},
            },
        }


_NIGHTLY = """
SELECT r.run_id, r.started_at,
       (SELECT count(*) FROM analytics.failures f WHERE f.run_id = r.run_id AND f.stack = 'locked') AS failed
FROM analytics.runs r WHERE r.kind = 'scheduled' AND r.jobs > 0 ORDER BY r.started_at DESC LIMIT 60
"""


def check(
    conn: Any,
    max_age: timedelta = timedelta(hours=26),
    airflow: AirflowFacts | None = None,
    stuck_after: timedelta = timedelta(hours=1),
    now: datetime | None = None,
) -> Health:
    now = now or datetime.now(UTC)
    nights = conn.execute(_NIGHTLY).fetchall()
    last = nights[0] if nights else None
    good = next((n for n in nights if n[2] == 0), None)
    reasons = []
    if good is None:
        reasons.append(
            "no successful nightly run recorded" + (f" (the last, {last[0]}, had failed jobs)" if last else "")
        )
    elif now - good[1] > max_age:
        reasons.append(
            f"the last successful nightly run {good[0]} started {clock((now - good[1]).total_seconds())} ago, "
            f"more than {clock(max_age.total_seconds())}"
        )
    if airflow is not None:
        if airflow.paused:
            reasons.append("the ganblr_benchmark DAG is paused")
        for run_id, since in airflow.queued:
            if now - since > stuck_after:
                reasons.append(f"run {run_id} has waited queued for {clock((now - since).total_seconds())}")
        if airflow.pool is not None and airflow.pool_slots is None:
            reasons.append(
                f"the core pool {airflow.pool} does not exist: no job task will start "
                f"(airflow pools set {airflow.pool} <cores> ...)"
            )
        if airflow.scheduler_alive is False:
            beat = airflow.scheduler_heartbeat
            reasons.append(
                "the scheduler is not alive"
                + (f" (its last heartbeat {clock((now - beat).total_seconds())} ago)" if beat else " (no heartbeat)")
            )
    return Health(
        healthy=not reasons,
        reasons=reasons,
        checked_at=now,
        max_age_s=max_age.total_seconds(),
        last_nightly=last[0] if last else None,
        last_nightly_at=last[1] if last else None,
        last_successful=good[0] if good else None,
        last_successful_at=good[1] if good else None,
        airflow=airflow,
    )


def airflow_facts_from_api(base_url: str, token: str, pool: str, dag_id: str = "ganblr_benchmark") -> AirflowFacts:
    """Airflow's facts through its REST API (``/api/v2``), with a bearer token."""
    import json
    import urllib.error
    import urllib.request
    from urllib.parse import quote

    def get(path: str) -> Any:
        request = urllib.request.Request(f"{base_url.rstrip('/')}{path}", headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=20) as response:
            return json.load(response)

    try:
        slots = int(get(f"/api/v2/pools/{quote(pool)}")["slots"])
    except urllib.error.HTTPError as err:
        if err.code != 404:
            raise
        slots = None

    dag = get(f"/api/v2/dags/{quote(dag_id)}")
    runs = get(f"/api/v2/dags/{quote(dag_id)}/dagRuns?state=queued&limit=50").get("dag_runs", [])
    monitor = get("/api/v2/monitor/health").get("scheduler", {})
    queued = [(r["dag_run_id"], _parse(r.get("queued_at") or r.get("run_after"))) for r in runs]
    beat = monitor.get("latest_scheduler_heartbeat")
    return AirflowFacts(
        paused=bool(dag.get("is_paused")),
        queued=[(r, t) for r, t in queued if t is not None],
        scheduler_alive=monitor.get("status") == "healthy",
        scheduler_heartbeat=_parse(beat),
        pool=pool,
        pool_slots=slots,
    )


def _parse(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
