"""docker compose up, for real: the LocalExecutor stack and the Celery stack from docker-compose.yml, on the
real engine, set up exactly as the README's compose section says (scripts/compose-env.sh, then
scripts/compose-images.sh where images cannot be pulled, then ``docker compose up -d --wait``). Each stack runs
a real benchmark triggered through the REST API, is read from PostgreSQL, through the page and the CLI inside a
container, and is torn down with its volumes. The Celery stack loses a worker in the middle of a job."""

from __future__ import annotations

import json
import subprocess
import urllib.parse

import pytest
from compose_stack import ComposeStack
from jobs import ARTIFACTS, in_chromium

from ganblr_bench import layout

pytestmark = [pytest.mark.docker, pytest.mark.compose]

# Small and real: Breast Cancer ships inside scikit-learn, so a stack with no network has its data.
SMALL = {
    "models": ["ganblr", "ganblr++"],
    "datasets": ["breast-cancer"],
    "seeds": [0],
    "epochs": 1,
    "classifiers": ["lr"],
    "references": False,
    "row_limit": 300,
}


def _recorded(stack: ComposeStack, run_id: str) -> list[list[str]]:
    return stack.sql(
        "SELECT job, status, count(*) OVER (PARTITION BY job), coalesce(placement->>'worker', '') "
        "FROM bench.job_results WHERE run_id = :'run' ORDER BY job",
        f"run={run_id}",
    )


@pytest.fixture
def local_stack(tmp_path_factory):
    stack = ComposeStack(
        tmp_path_factory.mktemp("compose-local"), "gbb-ci-local", celery=False, extra={"GANBLR_BENCH_HEARTBEAT_S": "1"}
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def test_local_stack_first_up_runs_the_nightly_at_once_and_a_triggered_benchmark_end_to_end(local_stack, tmp_path):
    stack = local_stack
    # The nightly DAG is unpaused at creation and its first scheduled run starts without a click.
    scheduled = stack.wait_for(
        lambda: [
            r
            for r in (stack.get("/api/v2/dags/ganblr_benchmark/dagRuns") or {}).get("dag_runs", [])  # None: not parsed
            if r["run_type"] == "scheduled"
        ],
        180,
        "the first scheduled run",
    )[0]
    # It is the full nightly matrix (hours here): ops stop it the documented way, and it ends failed.
    code, _ = stack.request(
        "PATCH", f"/api/v2/dags/ganblr_benchmark/dagRuns/{scheduled['dag_run_id']}", {"state": "failed"}
    )
    assert code == 200

    code, body = stack.trigger(SMALL | {"model_overrides": {"ganblr++": {"epochs": 8}}})
    assert code == 200, body
    # While the GANBLR++ job fits, its task log already shows its phases and heartbeats (streamed from the
    # container as they come).
    quoted = urllib.parse.quote(body["dag_run_id"], safe="")
    log_path = f"/api/v2/dags/ganblr_benchmark/dagRuns/{quoted}/taskInstances/ganblrpp.run/logs/1?map_index=0"

    def live_log():
        tis = stack.mapped_instances(body["dag_run_id"], "ganblrpp.run")
        text = json.dumps(stack.get(log_path)) if tis and tis[0]["state"] == "running" else ""
        return text if "fit started" in text and "heartbeat: fit" in text else None

    live = stack.wait_for(live_log, 600, "the running job's phase lines and heartbeats in its task log")
    assert "load done after" in live and "MiB" in live
    run = stack.wait_run(body["dag_run_id"], 900)
    tis = {(t["task_id"], t["map_index"]): t for t in stack.task_instances(run["dag_run_id"])}
    assert run["state"] == "success", {k: t["state"] for k, t in tis.items()}
    run_id = run["dag_run_id"]

    # The grid names each job; recording updated the metrics Asset, with the run in the event's extra.
    shown = {
        t["rendered_map_index"] for g in ("ganblr", "ganblrpp") for t in stack.mapped_instances(run_id, f"{g}.run")
    }
    assert shown == {"ganblr-breast-cancer-s0", "ganblrpp-breast-cancer-s0"}
    events = stack.get("/api/v2/assets/events?limit=20")["asset_events"]
    mine = [e for e in events if (e.get("extra") or {}).get("run_id") == run_id]
    assert len(mine) == 1 and mine[0]["extra"]["recorded"] >= 2, events

    # Jobs ran as sibling containers of the host's engine; their results are on the host, owned by AIRFLOW_UID.
    folder = stack.results / layout.run_key(run_id)
    results = sorted(folder.glob("*/result.json"))
    assert [p.parent.name for p in results] == ["ganblr-breast-cancer-s0", "ganblrpp-breast-cancer-s0"]
    for path in results:
        result = json.loads(path.read_text())
        assert result["status"] == "ok" and result["environment"]["in_container"] is True
        assert path.stat().st_uid == int(stack.settings["AIRFLOW_UID"])
    # Recorded once each by the metrics role (not the superuser), readable by the reader role.
    assert [r[:3] for r in _recorded(stack, run_id)] == [
        ["ganblr-breast-cancer-s0", "ok", "1"],
        ["ganblrpp-breast-cancer-s0", "ok", "1"],
    ]
    owner = stack.sql(
        "SELECT r.rolname, r.rolsuper, r.rolcreaterole FROM pg_database d JOIN pg_roles r "
        "ON r.oid = d.datdba WHERE d.datname = 'ganblr_bench'"
    )
    assert owner == [["ganblr_bench", "f", "f"]]
    # The CLI inside a container reads the same database (GANBLR_BENCH_DSN), not an empty embedded one.
    cli = stack.exec("airflow-scheduler", "ganblr-bench", "results")
    assert "GANBLR" in cli.stdout and "breast-cancer" in cli.stdout and "no runs" not in cli.stdout, cli.stderr
    git = stack.sql("SELECT git_sha FROM bench.runs WHERE run_id = :'run'", f"run={run_id}")
    assert len(git[0][0]) == 40  # the commit of the mounted project

    # The page: refused without a session, served with one (the reader role finds the latest run).
    code, _ = stack.page("/ganblr-bench/", auth=False)
    assert code in (401, 403)
    code, page = stack.page("/ganblr-bench/")
    assert code == 200 and "Manual run of " in page
    assert stack.settings["GANBLR_BENCH_DB_PASSWORD"] not in page and "postgresql://" not in page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dom = in_chromium(page, tmp_path, ARTIFACTS / "compose-run-page.png")
    assert "Manual run of " in dom

    # A second run: the runs index lists both, and run A against run B shows every figure and what changed,
    # on the page (in a real browser) and from the CLI inside a container, in every format.
    code, body = stack.trigger(SMALL)
    second = stack.wait_run(body["dag_run_id"], 900)["dag_run_id"]
    code, index = stack.page("/ganblr-bench/runs")
    assert code == 200 and run_id in index and second in index and "vs previous" in index
    assert run_id in in_chromium(index, tmp_path, ARTIFACTS / "compose-runs-index.png")
    code, compared = stack.page("/ganblr-bench/compare")  # by default: the latest run against the run before it
    assert code == 200 and "What changed from A to B" in compared and " beyond noise" in compared
    dom = in_chromium(compared, tmp_path, ARTIFACTS / "compose-compare.png")
    assert "Run A against run B" in dom and run_id in dom and second in dom
    for fmt, mark in (
        ("table", "what changed from A to B"),
        ("md", "| dataset | model | figure |"),
        ("csv", "dataset,model,stack,metric,unit"),
        ("json", '"what_changed"'),
    ):
        out = stack.exec("airflow-scheduler", "ganblr-bench", "compare", run_id, second, "--all", "--format", fmt)
        assert mark in out.stdout, (fmt, out.stdout[-2000:], out.stderr[-2000:])
        (ARTIFACTS / f"compose-compare.{fmt}.txt").write_text(out.stdout)
    for shot in ("compose-run-page", "compose-runs-index", "compose-compare"):
        assert (ARTIFACTS / f"{shot}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Secure by default: the api-server is published on 127.0.0.1 only; the socket only where jobs start.
    ports = stack.compose("port", "airflow-apiserver", "8080").stdout.strip()
    assert ports.startswith("127.0.0.1:")
    for service, has_socket in (
        ("airflow-scheduler", True),
        ("airflow-dag-processor", False),
        ("airflow-apiserver", False),
        ("airflow-triggerer", False),
    ):
        # (compose exec's exit code does not reach us from this engine, 20.10: read the answer instead)
        probe = stack.exec(service, "sh", "-c", "test -S /var/run/docker.sock && echo socket || echo none")
        assert probe.stdout.strip() == ("socket" if has_socket else "none"), (service, probe.stderr)


@pytest.fixture
def celery_stack(tmp_path_factory, request):
    stack = ComposeStack(
        tmp_path_factory.mktemp("compose-celery"),
        "gbb-ci-celery",
        celery=True,
        # CI's shorter wait for a dead worker's task (300 s by default), two task slots per worker so that
        # the matrix spreads over both, and no nightly run in the way.
        extra={
            "AIRFLOW_TASK_HEARTBEAT_TIMEOUT_S": "30",
            "AIRFLOW_WORKER_CONCURRENCY": "2",
            "GANBLR_BENCH_SCHEDULE": "none",
        },
    )
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


def test_celery_stack_loses_nothing_when_a_worker_is_killed_mid_job(celery_stack):
    stack = celery_stack
    workers = stack.containers("airflow-worker")
    assert len(workers) == 2
    # 30 epochs: the killed try's orphaned container still computes when the retry starts (the heartbeat timeout
    # and the retry delay later), so the retry must remove it first.
    conf = SMALL | {"seeds": [0, 1], "references": False, "model_overrides": {"ganblr++": {"epochs": 30}}}
    code, body = stack.trigger(conf)
    assert code == 200, body
    run_id = body["dag_run_id"]

    # The queue starts the longest jobs first (the two GANBLR++ jobs). Kill a worker running one whose container
    # computes: the engine keeps that container running, orphaned; the scheduler fails the silent task after the
    # heartbeat timeout and retries it on the other worker.
    folder = stack.results / layout.run_key(run_id)

    def victim():
        for ti in stack.mapped_instances(run_id, "ganblrpp.run"):
            if ti["state"] == "running":
                job = f"ganblrpp-breast-cancer-s{ti['map_index']}"
                started = subprocess.run(
                    ["docker", "ps", "-q", "--filter", f"label=io.ganblr-bench.job={job}"],
                    capture_output=True,
                    text=True,
                ).stdout.split()
                if started:
                    return ti, job
        return None

    ti, job = stack.wait_for(victim, 600, "a running GANBLR++ job")
    killed = next(c for c in workers if c.startswith(ti["hostname"]))
    subprocess.run(["docker", "kill", killed], check=True, capture_output=True)
    survivor = next(c for c in workers if c != killed)[:12]

    run = stack.wait_run(run_id, 1500)
    assert run["state"] == "success", stack.task_instances(run_id)
    retried = next(t for t in stack.mapped_instances(run_id, "ganblrpp.run") if t["map_index"] == ti["map_index"])
    assert retried["try_number"] == 2 and retried["hostname"] == survivor

    # Every planned job recorded once, none lost, none twice; the retried job by the surviving worker.
    planned = [p.parent.name for p in folder.glob("*/spec.json")]
    assert len(planned) == 4
    rows = _recorded(stack, run_id)
    assert sorted(r[0] for r in rows) == sorted(planned) and all(r[1:3] == ["ok", "1"] for r in rows)
    by_job = {r[0]: r[3] for r in rows}
    assert by_job[job] == survivor and killed.startswith(ti["hostname"])  # first try on one worker, retry on the other
    # The orphaned container of the killed try was removed before the retry leased its cores.
    leftover = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=io.ganblr-bench.run={layout.run_key(run_id)}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert leftover == []
    quoted = urllib.parse.quote(run_id, safe="")
    log = stack.get(
        f"/api/v2/dags/ganblr_benchmark/dagRuns/{quoted}/taskInstances/ganblrpp.run/logs/2?map_index={ti['map_index']}"
    )
    assert "left running by an earlier try" in json.dumps(log)
