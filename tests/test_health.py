"""Health: a night that does not happen is noticed; so are a paused DAG, a run stuck queued, a dead scheduler."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import psycopg
from jobs import cli, history_runs

from ganblr_bench.analysis import health
from ganblr_bench.warehouse import store


def nightly(run_folder, tmp_path, warehouse, ago: timedelta, fail: bool = False) -> None:
    """Seeded (the test says so): a copy of the real run recorded as a nightly run that started ``ago`` before now."""
    (copy,) = history_runs(
        run_folder,
        tmp_path / f"n{int(ago.total_seconds())}",
        1,
        scale=1.0,
        before=datetime.now(UTC) - ago,
        step=timedelta(0),
    )
    run = json.loads((copy / "run.json").read_text())
    run["kind"], run["run_id"] = "scheduled", f"scheduled__{int(ago.total_seconds())}"
    (copy / "run.json").write_text(json.dumps(run))
    target = copy.with_name(f"scheduled__{int(ago.total_seconds())}")
    copy.rename(target)
    for path in target.glob("*/result.json"):
        data = json.loads(path.read_text())
        data["spec"]["run"] = None
        path.write_text(json.dumps(data))
    if not fail:
        (target / "ganblr-car-s1" / "result.json").unlink()  # the run's one failed job: this night was clean
        (target / "ganblr-car-s1" / "spec.json").unlink(missing_ok=True)
    store.record_paths([target], warehouse, tmp_path / "spool")


def test_health_follows_the_last_successful_nightly_and_what_airflow_says(warehouse, run_folder, tmp_path):
    with psycopg.connect(warehouse) as conn:
        assert health.check(conn).reasons == ["no successful nightly run recorded"]
    nightly(run_folder, tmp_path, warehouse, timedelta(hours=30))
    nightly(run_folder, tmp_path, warehouse, timedelta(hours=3), fail=True)  # last night failed
    with psycopg.connect(warehouse) as conn:
        stale = health.check(conn)
        assert not stale.healthy and stale.last_nightly == "scheduled__10800"
        assert stale.reasons == [
            "the last successful nightly run scheduled__108000 started 30 h 00 min ago, more than 26 h 00 min"
        ]
        assert health.check(conn, timedelta(hours=48)).healthy
        now = datetime.now(UTC)
        airflow = health.AirflowFacts(
            paused=True,
            queued=[("manual__q", now - timedelta(hours=3))],
            scheduler_alive=False,
            scheduler_heartbeat=now - timedelta(minutes=12),
            pool="ganblr_bench_cores",
            pool_slots=None,
        )
        found = health.check(conn, timedelta(hours=48), airflow, now=now)
    assert found.reasons == [
        "the ganblr_benchmark DAG is paused",
        "run manual__q has waited queued for 3 h 00 min",
        "the core pool ganblr_bench_cores does not exist: no job task will start "
        "(airflow pools set ganblr_bench_cores <cores> ...)",
        "the scheduler is not alive (its last heartbeat 12 min 0 s ago)",
    ]
    assert json.loads(json.dumps(found.as_json()))["airflow"]["paused"] is True

    env = {"GANBLR_BENCH_DSN": warehouse}
    failing = cli(["health"], **env)
    assert failing.returncode == 1 and failing.stdout.startswith("failing: the last successful nightly run")
    ok = cli(["health", "--max-age", "2d", "--format", "json"], **env)
    assert ok.returncode == 0 and json.loads(ok.stdout)["last_successful_nightly"]["run_id"] == "scheduled__108000"
    bad = cli(["health", "--max-age", "soon"], **env)
    assert bad.returncode == 2 and "give a duration such as 26h" in bad.stderr
