"""End to end with real parts: Airflow (scheduler, dag-processor, api-server, LocalExecutor,
metadata in PostgreSQL) runs the real DAG; the real Docker engine builds the real image and
runs both models in parallel containers; results land in a real metrics database."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from airflow_stack import ROOT, AirflowStack
from jobs import ARTIFACTS, cli, history_runs, in_chromium, register

from ganblr_bench import layout, settings
from ganblr_bench.warehouse import database, migrate, store

pytestmark = [pytest.mark.docker, pytest.mark.slow, pytest.mark.airflow, pytest.mark.usefixtures("mirror")]

SMALL = {
    "models": ["ganblr", "ganblr++"],
    "datasets": ["adult"],
    "seeds": [0],
    "epochs": 1,
    "row_limit": 600,
    "memory_limit": "3g",
}


@pytest.fixture(scope="module")
def stack(tmp_path_factory, pg_server):
    home = tmp_path_factory.mktemp("airflow")
    socket_dir = pg_server.split("host=")[1]
    pgdata = Path(socket_dir)
    metadata = database.embedded_dsn(pgdata, "airflow").replace("postgresql://", "postgresql+psycopg://", 1)
    metrics = database.embedded_dsn(pgdata, "metrics_e2e")
    os.environ[settings.READER_PASSWORD.name] = "reader-pw"
    try:
        with psycopg.connect(metrics) as conn:  # the deploy step: schema, roles, the reader's password
            migrate.upgrade(conn)
    finally:
        del os.environ[settings.READER_PASSWORD.name]
    results, cache = home / "results", home / "cache"
    results.mkdir()
    register(home / "datasets")  # an engineer's own CSV, registered before the DAG is parsed
    conn_json = json.dumps(
        {"conn_type": "postgres", "host": socket_dir, "login": "postgres", "schema": "metrics_e2e", "port": 5432}
    )
    stack = AirflowStack(
        home,
        metadata,
        {
            "GANBLR_BENCH_BACKEND": "docker",
            "GANBLR_BENCH_RESULTS": str(results),
            "GANBLR_BENCH_CACHE": str(cache),
            "GANBLR_BENCH_BUILD_CONTEXT": str(ROOT),
            "GANBLR_BENCH_SPOOL": str(home / "spool"),
            "GANBLR_BENCH_REPORTS": str(home / "reports"),
            "AIRFLOW_CONN_GANBLR_BENCH_METRICS": conn_json,
            "GANBLR_BENCH_DATA_MIRROR": os.environ["GANBLR_BENCH_DATA_MIRROR"],
            "GANBLR_BENCH_DATASETS": str(home / "datasets"),
            "GANBLR_BENCH_OFFLINE": "1",
            "GANBLR_BENCH_SCHEDULE": "none",  # only the runs the tests trigger
            "GANBLR_BENCH_READER_PASSWORD": "reader-pw",
            "GANBLR_BENCH_READER_DSN": f"postgresql://ganblr_bench_reader:reader-pw@/metrics_e2e?host={socket_dir}",
            # A real notifier (tests/notify_probe.py) on the DAG: it writes down every failed run.
            "GANBLR_BENCH_NOTIFIER": "notify_probe:record_failure",
            "GANBLR_BENCH_TEST_NOTIFIED": str(home / "notified.txt"),
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "tests"), os.environ.get("PYTHONPATH")) if p),
        },
    )
    stack.start()
    stack.metrics = metrics
    stack.results = results
    stack.reports = home / "reports"
    stack.notified = home / "notified.txt"
    stack.datasets = home / "datasets"
    yield stack
    stack.stop()


def _interval(ti: dict) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(ti["start_date"]), datetime.fromisoformat(ti["end_date"])


def _ran_on_cores_of_their_own(folder: Path) -> None:
    """From inside the containers (their cgroup's cpuset and affinity, their own clocks): jobs that ran at the
    same time ran on disjoint cores, one each; and some did run at the same time (4 jobs, 2 cores)."""
    batch, rejected = layout.collect(folder)  # as record reads them: each with its lease's placement.json
    assert rejected == []
    results = [r for r, _ in batch.results]
    overlapping = 0
    for i, a in enumerate(results):
        assert a.environment.cpuset == ",".join(str(c) for c in a.environment.cores), a.job
        assert a.placement.cores == a.environment.cores and len(a.environment.cores) == 1, a.job
        for b in results[i + 1 :]:
            if a.started_at < b.finished_at and b.started_at < a.finished_at:
                overlapping += 1
                assert not set(a.environment.cores) & set(b.environment.cores), (a.job, b.job)
                assert a.placement.peers >= 1 and b.placement.peers >= 1
    assert overlapping >= 1
    print(
        f"\n{overlapping} overlapping job pair(s), each on its own core: "
        + ", ".join(f"{r.job} {r.environment.cpuset} {r.started_at:%H:%M:%S}-{r.finished_at:%H:%M:%S}" for r in results)
    )


def _created(stamp: str) -> float:
    """Docker's Created (nanoseconds, Z) as epoch seconds."""
    day, _, clock = stamp.rstrip("Z").partition("T")
    whole, _, fraction = clock.partition(".")
    return datetime.fromisoformat(f"{day}T{whole}.{(fraction + '000000')[:6]}+00:00").timestamp()


def _dangling_since(moment: float) -> list[str]:
    """Untagged images made after ``moment``: what a build left behind (one single-stage build leaves none)."""
    ids = subprocess.run(
        ["docker", "images", "-q", "--no-trunc", "--filter", "dangling=true"], capture_output=True, text=True
    ).stdout.split()
    made = {
        i: subprocess.run(
            ["docker", "image", "inspect", "-f", "{{.Created}}", i], capture_output=True, text=True
        ).stdout.strip()
        for i in ids
    }
    return [i for i, at in made.items() if at and _created(at) > moment]


def test_triggered_run_builds_runs_both_models_in_parallel_and_records(stack):
    before_build = time.time()
    code, run = stack.trigger(SMALL | {"force_rebuild": True})
    assert code == 200, run
    finished = stack.wait_run(run["dag_run_id"])
    tis = {(t["task_id"], t["map_index"]): t for t in stack.task_instances(run["dag_run_id"])}
    assert finished["state"] == "success", {k: v["state"] for k, v in tis.items()}

    mapped = {task: stack.mapped_instances(run["dag_run_id"], task) for task in ("ganblr.run", "ganblrpp.run")}
    assert all(len(m) == 1 for m in mapped.values()), {
        k: (v["state"], v.get("rendered_fields")) for k, v in tis.items()
    }
    a, b = _interval(mapped["ganblr.run"][0]), _interval(mapped["ganblrpp.run"][0])
    assert a[0] < b[1] and b[0] < a[1], f"model tasks did not overlap: {a} vs {b}"
    wall = (max(a[1], b[1]) - min(a[0], b[0])).total_seconds()
    serial = (a[1] - a[0]).total_seconds() + (b[1] - b[0]).total_seconds()
    whole = (
        datetime.fromisoformat(finished["end_date"]) - datetime.fromisoformat(finished["start_date"])
    ).total_seconds()
    print(f"\nrun wall {whole:.1f} s (image built); model tasks: wall {wall:.1f} s for a sum of {serial:.1f} s")
    leftover = subprocess.run(
        ["docker", "ps", "-aq", "--filter", "label=io.ganblr-bench.run"], capture_output=True, text=True
    ).stdout.split()
    assert leftover == [], "record removes the run's containers"
    assert _dangling_since(before_build) == [], "the pipeline's build leaves no dangling build stage behind"

    with psycopg.connect(stack.metrics) as conn:
        run_row = conn.execute(
            "SELECT kind, image_build_cached, image_build_s, image_digest, image_ref, backend "
            "FROM bench.runs WHERE run_id = %s",
            (run["dag_run_id"],),
        ).fetchone()
        assert run_row[0] == "manual" and run_row[1] is False and run_row[2] > 0
        assert run_row[3].startswith("sha256:") and run_row[4].startswith("ganblr-bench:inputs-")
        assert run_row[5] == "docker"
        jobs = conn.execute(
            "SELECT model, status, startup_s, fit_s, sample_s, execution_s, peak_memory_bytes, "
            "memory_source, cpu_percent, in_container, image, cores FROM bench.job_results "
            "WHERE run_id = %s ORDER BY model",
            (run["dag_run_id"],),
        ).fetchall()
        assert [j[:2] for j in jobs] == [
            ("ganblr", "ok"),
            ("ganblr++", "ok"),
            ("independent", "ok"),
            ("naive-bayes", "ok"),
        ]
        for j in jobs:
            assert all(v is not None for v in j), j
            assert j[7] == "process-peak-rss" and j[9] is True and j[10] == run_row[4] and len(j[11].split(",")) == 1
        figures = dict(
            conn.execute(
                "SELECT model || ' ' || metric, value FROM analytics.job_metrics WHERE run_id = %s",
                (run["dag_run_id"],),
            ).fetchall()
        )
        for model in ("ganblr", "ganblr++"):  # per phase, in the container; the job's peak is its cgroup's
            assert figures[f"{model} fit_cpu_s"] > 0 and figures[f"{model} evaluate_peak_memory_bytes"] > 0
            assert figures[f"{model} job_peak_memory_bytes"] > 0 and 0 < figures[f"{model} column_shapes"] <= 1
            assert 0 <= figures[f"{model} dcr_overfitting_protection"] <= 1
        scores = conn.execute(
            "SELECT count(*) FROM bench.scores JOIN bench.job_results USING (job_result_id) WHERE run_id = %s",
            (run["dag_run_id"],),
        ).fetchone()[0]
        assert (
            scores == 4 * 4 * 6
        )  # 4 models x 4 classifiers x accuracy, macro-F1, ROC AUC (adult is binary), TSTR+TRTR
    _ran_on_cores_of_their_own(stack.results / layout.run_key(run["dag_run_id"]))

    code, second = stack.trigger(SMALL)
    assert code == 200
    assert stack.wait_run(second["dag_run_id"])["state"] == "success"
    with psycopg.connect(stack.metrics) as conn:
        cached = conn.execute(
            "SELECT image_build_cached, image_build_s, image_ref FROM bench.runs WHERE run_id = %s",
            (second["dag_run_id"],),
        ).fetchone()
    assert cached[0] is True and cached[1] == 0 and cached[2] == run_row[4]

    page = (stack.reports / layout.run_key(second["dag_run_id"]) / "report.html").read_text()
    assert "GANBLR++" in page and "data:image/png;base64," in page
    assert "No failed job; not enough history to judge 4 of 4 model-dataset series (1 of 5 runs)" in page
    assert "from the floor to the real data" in page and "naive Bayes (reference)" in page
    assert "model peak memory (fit + sample)" in page and "privacy: DCR overfitting protection" in page
    stack.first_run_folder = stack.results / layout.run_key(run["dag_run_id"])
    stack.first_run_id = run["dag_run_id"]


def test_a_job_killed_for_memory_is_recorded_as_oom_while_the_other_branch_completes(stack, fault_row):
    conf = SMALL | {"references": False, "model_overrides": {"ganblr++": {"memory_limit": "150m"}}}
    run = {"dag_run_id": "manual__oom_triggered_from_the_cli"}
    triggered = stack.trigger_cli(conf, run["dag_run_id"])
    assert triggered.returncode == 0, triggered.stderr[-2000:]
    finished = stack.wait_run(run["dag_run_id"])
    tis = {t["task_id"]: t["state"] for t in stack.task_instances(run["dag_run_id"])}
    assert finished["state"] == "failed"  # a failed job fails the run, after recording it
    assert tis["record"] == "success" and tis["alert"] == "failed"
    states = {
        task: [m["state"] for m in stack.mapped_instances(run["dag_run_id"], task)]
        for task in ("ganblr.run", "ganblrpp.run")
    }
    assert states == {"ganblr.run": ["success"], "ganblrpp.run": ["failed"]}
    with psycopg.connect(stack.metrics) as conn:
        rows = dict(
            conn.execute(
                "SELECT model, status FROM bench.job_results WHERE run_id = %s", (run["dag_run_id"],)
            ).fetchall()
        )
        error = conn.execute("SELECT error FROM analytics.failures WHERE run_id = %s", (run["dag_run_id"],)).fetchone()[
            0
        ]
    assert rows == {"ganblr": "ok", "ganblr++": "oom"}
    assert "memory" in error
    tries = [m["try_number"] for m in stack.mapped_instances(run["dag_run_id"], "ganblrpp.run")]
    assert tries == [1]  # an OOM kill is not retried: the same limit would kill it again
    told = stack.wait_for(
        lambda: stack.notified.exists() and run["dag_run_id"] in stack.notified.read_text(),
        120,
        "the DAG's failure notifier to be called",
    )
    assert told  # the notifier hangs on the run: a failed run tells someone
    fault_row("OOM kill of one job (real, 150m limit)", "oom, not retried", (0, len(rows)), "the other branch ok")


def test_a_run_slower_than_its_history_raises_an_alert_naming_it(stack, tmp_path):
    # Seeded history (the test says so): ten earlier runs, copies of the first real run with fit and
    # execution three times faster, just before now. The next real run is then a 3x slowdown.
    seeded = history_runs(
        stack.first_run_folder, tmp_path, 10, scale=1 / 3, before=datetime.now().astimezone(), step=timedelta(seconds=1)
    )
    store.record_paths(seeded, stack.metrics, tmp_path / "spool")
    code, run = stack.trigger(SMALL | {"references": False})
    assert code == 200, run
    assert stack.wait_run(run["dag_run_id"])["state"] == "failed"
    tis = {t["task_id"]: t["state"] for t in stack.task_instances(run["dag_run_id"])}
    assert (tis["record"], tis["compare"], tis["alert"]) == ("success", "success", "failed")
    log = stack.task_log(run["dag_run_id"], "alert")
    assert "regression: ganblr on adult: execution_s" in log and "regression: ganblr++ on adult: execution_s" in log
    with psycopg.connect(stack.metrics) as conn:
        flagged = conn.execute(
            "SELECT model, metric FROM analytics.regressions WHERE run_id = %s AND "
            "verdict = 'regression' AND metric = 'execution_s' ORDER BY model",
            (run["dag_run_id"],),
        ).fetchall()
    assert flagged == [("ganblr", "execution_s"), ("ganblr++", "execution_s")]
    assert f"report: {stack.base}/ganblr-bench/runs/" in log  # the alert names the run's page, not a file path
    assert "what changed since run" in log  # a regression comes with what changed against its baseline
    stack.last_run_id = run["dag_run_id"]


def test_benchmarks_page_needs_a_session_and_serves_the_stored_report(stack, tmp_path):
    for path in ("/ganblr-bench/", f"/ganblr-bench/runs/{stack.last_run_id}"):
        code, body = stack.page(path, auth=False)
        assert code in (401, 403) and "GANBLR" not in body, (path, code)
    code, page = stack.page("/ganblr-bench/")
    assert code == 200 and "Manual run of " in page and "execution (fit + sample)" in page
    stored = (stack.reports / layout.run_key(stack.last_run_id) / "report.html").read_text()
    assert page == stored  # served as the pipeline wrote it, not built per request
    assert page.count("data:image/png;base64,") >= 1 and "regressed" in page
    assert "password" not in page.lower() and "postgresql://" not in page
    code, _ = stack.page("/ganblr-bench/runs/no-such-run")
    assert code == 404
    code, first = stack.page(f"/ganblr-bench/runs/{stack.first_run_id}")  # a run with the references
    assert code == 200 and "independent (reference: floor)" in first and "fidelity: column pair trends" in first
    # What a logged-in browser shows: the served page, rendered by headless Chromium.
    shot = ARTIFACTS / "benchmarks-page.png"
    dom = in_chromium(page, tmp_path, shot)
    assert "Manual run of " in dom and "execution (fit + sample)" in dom
    assert "Leaderboard" in dom and "adult: where the samples differ most from the real data" in dom
    assert 'alt="marginals of adult"' in page and 'alt="trends of adult"' in page  # the plots, drawn
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    plugins = stack.get("/api/v2/plugins")
    assert any(p["name"] == "ganblr_bench" for p in plugins["plugins"])


def test_bad_parameters_are_refused_before_anything_runs(stack, fault_row):
    before = len(stack.get("/api/v2/dags/ganblr_benchmark/dagRuns")["dag_runs"])
    code, body = stack.trigger(SMALL | {"epochs": 0})
    assert code == 400 and "epochs" in str(body)
    assert len(stack.get("/api/v2/dags/ganblr_benchmark/dagRuns")["dag_runs"]) == before  # no run was created
    fault_row("bad parameter through the REST API", "HTTP 400 naming the field, no run", (0, 0), "-")


def test_the_canary_runs_every_job_on_the_latest_stack_too_and_the_report_compares_them(stack):
    """stacks locked + latest: a second image from the newest releases (built for real, from PyPI) runs the
    same tiny matrix; whatever upstream did, every job is recorded once and the report compares the stacks."""
    conf = {
        "models": ["ganblr", "ganblr++"],
        "datasets": ["iris"],
        "seeds": [0],
        "epochs": 1,
        "classifiers": ["lr"],
        "stacks": ["locked", "latest"],
        "references": False,
    }
    code, run = stack.trigger(conf)
    assert code == 200, run
    finished = stack.wait_run(run["dag_run_id"])
    tis = {t["task_id"]: t["state"] for t in stack.task_instances(run["dag_run_id"])}
    assert (tis["build_image"], tis["record"], tis["compare"]) == ("success", "success", "success"), tis
    assert finished["state"] == "success", tis  # the canary warns; it does not fail the nightly run
    with psycopg.connect(stack.metrics) as conn:
        rows = conn.execute(
            "SELECT job, stack, status, error, versions->>'numpy', job_image FROM analytics.job_results "
            "WHERE run_id = %s ORDER BY stack, job",
            (run["dag_run_id"],),
        ).fetchall()
    assert [(r[0], r[1]) for r in rows] == [
        ("ganblr-iris-s0-latest", "latest"),
        ("ganblrpp-iris-s0-latest", "latest"),
        ("ganblr-iris-s0", "locked"),
        ("ganblrpp-iris-s0", "locked"),
    ]
    locked, latest = rows[2:], rows[:2]
    assert all(r[2] == "ok" and r[4] == "2.4.6" for r in locked)
    for r in latest:  # a canary job either ran on its own image or says why not
        assert (r[2] == "ok" and r[5] != locked[0][5]) or (r[2] == "failed" and r[3]), r
    page = (stack.reports / layout.run_key(run["dag_run_id"]) / "report.html").read_text()
    assert "Locked vs latest stack" in page
    log = stack.task_log(run["dag_run_id"], "build_image")
    assert "latest image ganblr-bench:inputs-" in log or "the latest stack's image did not build" in str(rows)
    print(f"\ncanary: {[(r[0], r[2], r[4]) for r in rows]}")


def _ran(stack, conf: dict) -> dict:
    """Trigger a run with ``conf`` and wait for it: it must succeed. The run, as the REST API gives it."""
    code, run = stack.trigger(conf)
    assert code == 200, run
    finished = stack.wait_run(run["dag_run_id"])
    tis = {t["task_id"]: t["state"] for t in stack.task_instances(run["dag_run_id"])}
    assert finished["state"] == "success", tis
    return run


def _job_rows(stack, columns: str, run_id: str, order: str = "job") -> list[tuple]:
    with psycopg.connect(stack.metrics) as conn:
        return conn.execute(
            f"SELECT {columns} FROM analytics.job_results WHERE run_id = %s ORDER BY {order}", (run_id,)
        ).fetchall()


def _patched_ganblr(folder: Path) -> Path:
    """A source folder of ganblr 0.1.3 as installed here, patched the way an engineer might: its sample draws the
    class column at random (the features' link to the class is gone), version 0.1.3+patched."""
    import shutil
    from importlib import metadata, util

    source = Path(util.find_spec("ganblr").origin).parent
    shutil.copytree(source, folder / "ganblr", ignore=shutil.ignore_patterns("__pycache__"))
    model = folder / "ganblr" / "models" / "ganblr.py"
    line = "origin_y = self._label_encoder.inverse_transform(ordinal_data[:,-1]).reshape(-1,1)"
    assert line in model.read_text()
    model.write_text(
        model.read_text().replace(line, line.replace("ordinal_data[:,-1]", "np.random.permutation(ordinal_data[:,-1])"))
    )
    assert metadata.version("ganblr") == "0.1.3"
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
        '[project]\nname = "ganblr"\nversion = "0.1.3+patched"\n\n[tool.setuptools.packages.find]\ninclude = ["ganblr*"]\n'
    )
    return folder


def test_three_images_in_one_run_a_candidate_build_and_katabatic_ganblr_in_its_variant_beside_the_locked_one(
    stack, tmp_path
):
    """One run, three images, each built for real: the locked one; the candidate (the locked one with a patched
    ganblr), every GANBLR job running on both; and the katabatic variant, from the one Dockerfile with its own lock
    (PyTorch's CPU wheel from the wheelhouse), where the generator from outside (generators/katabatic, found by its
    entry point) runs on the same datasets and seeds, on its locked stack only. compare --stack candidate finds
    what the patch did beyond the seeds' noise; the warehouse records each job's image and each image's size and
    build; the report answers "one image or several" with the resolver's conflicts; compare --models sets the two
    implementations of GANBLR side by side."""
    source = _patched_ganblr(tmp_path / "ganblr-src")
    conf = {"models": ["ganblr", "katabatic-ganblr"], "datasets": ["car"], "seeds": [0, 1], "epochs": 1}
    run = _ran(stack, conf | {"classifiers": ["lr"], "references": False, "candidate": str(source)})
    rows = _job_rows(
        stack,
        "job, stack, status, versions->>'ganblr', versions->>'numpy', versions->>'katabatic', job_image",
        run["dag_run_id"],
        "stack DESC, job",
    )
    assert [r[:6] for r in rows] == [
        ("ganblr-car-s0", "locked", "ok", "0.1.3", "2.4.6", None),
        ("ganblr-car-s1", "locked", "ok", "0.1.3", "2.4.6", None),
        ("katabatic-ganblr-car-s0", "locked", "ok", None, "1.26.4", "1.1.0"),
        ("katabatic-ganblr-car-s1", "locked", "ok", None, "1.26.4", "1.1.0"),
        ("ganblr-car-s0-candidate", "candidate", "ok", "0.1.3+patched", "2.4.6", None),
        ("ganblr-car-s1-candidate", "candidate", "ok", "0.1.3+patched", "2.4.6", None),
    ]
    refs = [r[6].split(":")[1].split("-")[0] for r in rows]
    assert refs == ["inputs", "inputs", "katabatic", "katabatic", "candidate", "candidate"]
    env = {"GANBLR_BENCH_DSN": stack.metrics}
    out = cli(["compare", run["dag_run_id"], "--stack", "candidate", "--format", "json"], **env)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["a"]["stack"] == "locked" and found["b"]["stack"] == "candidate"
    assert {"kind": "package", "name": "ganblr", "a": "0.1.3", "b": "0.1.3+patched", "note": ""} in found[
        "what_changed"
    ]
    worse = {f["metric"] for f in found["figures"] if f["movement"] == "worse" and f["noise_from"] == "seeds"}
    assert worse & {"tstr_accuracy", "tstr_macro_f1", "tstr_roc_auc", "column_pair_trends"}, found["figures"]
    assert {f["model"] for f in found["figures"]} == {"ganblr"}  # katabatic's jobs ran on their own stack only
    with psycopg.connect(stack.metrics) as conn:
        images = conn.execute(
            "SELECT stack, models_lock, ref, size_bytes, build_s_this_run, cached, jobs, models, startup_s_median, "
            "conflicts FROM analytics.run_images WHERE run_id = %s ORDER BY stack = 'locked' DESC, stack",
            (run["dag_run_id"],),
        ).fetchall()
    assert [(i[0], i[1], i[2], i[6], i[7]) for i in images] == [
        ("locked", "requirements-models.lock", rows[0][6], 2, ["ganblr"]),
        ("candidate", "requirements-models.lock", rows[4][6], 2, ["ganblr"]),
        ("katabatic", "requirements-katabatic.lock", rows[2][6], 2, ["katabatic-ganblr"]),
    ]
    locked, variant = images[0], images[2]
    assert variant[3] > locked[3] > 10**9 and variant[8] > 0 and locked[8] > 0  # sizes and startups, measured
    assert all(i[5] or i[4] > 0 for i in images)  # each tag was found, or its build was timed
    conflicted = {c.split(":")[0] for c in variant[9]}
    assert {"numpy==2.4.6", "pandas==3.1.1", "scipy==1.17.1"} <= conflicted and locked[9] == []
    page = (stack.reports / layout.run_key(run["dag_run_id"]) / "report.md").read_text()
    assert "## Locked vs candidate stack" in page and f"candidate: {source}" in page
    assert "ganblr: 0.1.3 → 0.1.3+patched" in page and "beyond noise" in page
    assert "## One image or several" in page and "2 model stacks, so 2 images" in page
    assert "numpy==2.4.6: Because katabatic>=1.1.0 depends on numpy" in page
    assert "## GANBLR vs Katabatic GANBLR" in page
    pair = ["compare", run["dag_run_id"], "--models", "ganblr", "katabatic-ganblr", "--all", "--format", "json"]
    out = cli(pair, **env)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["a"]["model"] == "ganblr" and found["b"]["model"] == "katabatic-ganblr"
    assert {"kind": "package", "name": "numpy", "a": "2.4.6", "b": "1.26.4", "note": ""} in found["what_changed"]
    judged = {f["metric"]: f["noise_from"] for f in found["figures"]}
    assert judged["tstr_accuracy"] == judged["column_shapes"] == "seeds"  # two seeds a side
    print(f"\ncandidate: worse beyond noise on {sorted(worse)}; images: {[(i[0], i[3], i[4], i[8]) for i in images]}")


def test_a_registered_csv_runs_through_the_dag_like_a_built_in_dataset(stack, monkeypatch):
    """An engineer's own table (a CSV made by the test, registered by a file): offered, checked, cached, mounted
    read-only into both models' containers, recorded with its definition's checksum, reported."""
    from ganblr_bench import dataset_registration

    monkeypatch.setenv(settings.DATASETS.name, str(stack.datasets))
    definition = dataset_registration.check(dataset_registration.scan().get("mytable"))
    conf = {"models": ["ganblr", "ganblr++"], "datasets": ["mytable"], "seeds": [0], "epochs": 1, "references": False}
    run = _ran(stack, conf | {"classifiers": ["lr", "rf"]})
    rows = _job_rows(stack, "job, status, dataset, dataset_checksum, train_rows + test_rows", run["dag_run_id"])
    assert rows == [
        ("ganblr-mytable-s0", "ok", "mytable", definition.checksum, 120),
        ("ganblrpp-mytable-s0", "ok", "mytable", definition.checksum, 120),
    ]
    folder = stack.results / layout.run_key(run["dag_run_id"])
    spec = layout.load_spec(folder / "ganblrpp-mytable-s0" / "spec.json")
    assert spec.dataset_definition == definition  # the spec alone says what the job read
    assert "mytable" in (stack.reports / layout.run_key(run["dag_run_id"]) / "report.html").read_text()


def test_the_docker_engine_stopped_in_the_middle_of_a_run_is_survived_by_a_retry(stack, fault_row):
    """A real fault: the engine is stopped (scripts/docker-engine.sh stop) while GANBLR++'s container
    fits, then started again. The job task loses its engine, is retried (an engine outage is what a
    retry is for) and completes; every job is recorded once, and the other branch is untouched."""
    # GANBLR++ fits long enough to be hit (10 epochs: about 30 s here); row_limit 700 gives the run series of its
    # own, so the slowdown test's seeded history cannot judge it (its alert would fail the run whatever the engine
    # did).
    conf = SMALL | {"references": False, "row_limit": 700, "model_overrides": {"ganblr++": {"epochs": 10}}}
    code, run = stack.trigger(conf)
    assert code == 200, run
    job = "ganblrpp-adult-s0"

    def fitting():
        ps = subprocess.run(
            ["docker", "ps", "-q", "--filter", f"label=io.ganblr-bench.job={job}"], capture_output=True, text=True
        )
        return ps.returncode == 0 and ps.stdout.strip()

    stack.wait_for(fitting, 600, f"{job}'s container to run")
    time.sleep(10)  # into the fit
    engine = ROOT / "scripts" / "docker-engine.sh"
    pid = int(Path("/var/lib/ganblr-bench-docker/dockerd.pid").read_text())
    subprocess.run([str(engine), "stop"], check=True)
    stack.wait_for(lambda: not Path(f"/proc/{pid}").exists(), 120, "the engine to stop")
    time.sleep(5)
    subprocess.run([str(engine), "start"], check=True, timeout=120)
    finished = stack.wait_run(run["dag_run_id"])
    tis = {t["task_id"]: t["state"] for t in stack.task_instances(run["dag_run_id"])}
    retried = [m["try_number"] for m in stack.mapped_instances(run["dag_run_id"], "ganblrpp.run")]
    assert finished["state"] == "success" and retried == [2], (tis, retried)
    with psycopg.connect(stack.metrics) as conn:
        recorded = conn.execute(
            "SELECT job, status, attempt FROM bench.job_results WHERE run_id = %s ORDER BY job", (run["dag_run_id"],)
        ).fetchall()
    assert recorded == [("ganblr-adult-s0", "ok", 1), (job, "ok", 1)]
    fault_row(
        "Docker engine stopped while a job fits (real)",
        "job retried on the engine's return, ok",
        (0, len(recorded)),
        "the other branch ok",
    )


def test_health_turns_to_failing_when_the_dag_is_paused(stack, tmp_path, fault_row):
    """Seeded (the test says so): a nightly run an hour old, a copy of the first real run, so that health is
    green; then the DAG is paused for real through the REST API, and both the page and the CLI turn to failing."""
    (night,) = history_runs(
        stack.first_run_folder, tmp_path, 1, scale=1.0, before=datetime.now().astimezone(), step=timedelta(hours=1)
    )
    run = json.loads((night / "run.json").read_text())
    run["kind"] = "scheduled"
    (night / "run.json").write_text(json.dumps(run))
    store.record_paths([night], stack.metrics, tmp_path / "spool")
    code, body = stack.request("GET", "/ganblr-bench/health")
    assert code == 200 and body["healthy"] is True and body["airflow"]["scheduler_alive"] is True, body
    assert body["airflow"]["pool"] == {"name": "ganblr_bench_cores", "slots": 2}  # sized by the stack's start
    env = {
        "GANBLR_BENCH_DSN": stack.metrics,
        "GANBLR_BENCH_AIRFLOW_URL": stack.base,
        "GANBLR_BENCH_AIRFLOW_PASSWORD": stack.password,
    }
    assert cli(["health"], **env).returncode == 0
    stack.request("PATCH", "/api/v2/dags/ganblr_benchmark", {"is_paused": True})
    try:
        code, body = stack.request("GET", "/ganblr-bench/health")
        assert code == 503 and "the ganblr_benchmark DAG is paused" in body["reasons"], body
        told = cli(["health"], **env)
        assert told.returncode == 1 and told.stdout.strip() == "failing: the ganblr_benchmark DAG is paused", told
        assert stack.page("/ganblr-bench/health", auth=False)[0] in (401, 403)  # behind the login like the rest
    finally:
        stack.request("PATCH", "/api/v2/dags/ganblr_benchmark", {"is_paused": False})
    fault_row("the DAG paused (real, REST API)", "health 503 and exit 1, naming it", (0, 0), "-")


def test_jobs_wait_for_their_cores_in_the_pool_holding_no_slot_and_no_timeout(stack):
    """24 reference jobs on 2 cores, a job timeout of 15 s and several times that in core-seconds:
    the jobs queue in the scheduler's core pool (scheduled, holding no executor slot of the 4), never more than
    2 run at once, each task starts when its cores are free (its lease waits for none), and all end ok."""
    conf = {
        "models": ["independent", "naive-bayes"],
        "references": False,
        "datasets": ["iris"],
        "seeds": list(range(12)),
        "classifiers": ["lr"],
        "job_timeout_s": 15,
    }
    code, run = stack.trigger(conf)
    assert code == 200, run
    run_id, most_at_once, waiting_beside_running = run["dag_run_id"], 0, 0
    while (stack.run(run_id) or {}).get("state") not in ("success", "failed"):
        jobs = [t for t in stack.task_instances(run_id) if t["task_id"].endswith(".run") and t["map_index"] >= 0]
        busy = [t for t in jobs if t["state"] in ("queued", "running")]
        most_at_once = max(most_at_once, len(busy))
        if len(busy) == 2 and any(t["state"] == "scheduled" for t in jobs):
            waiting_beside_running += 1  # parallelism 4: the executor had room, the pool held them back
        time.sleep(1)
    assert stack.run(run_id)["state"] == "success"
    assert most_at_once <= 2 and waiting_beside_running >= 1, (most_at_once, waiting_beside_running)

    folder = stack.results / layout.run_key(run_id)
    queued = {(q.task_id, q.map_index): q for q in layout.load_queue(folder / layout.QUEUE_FILE).jobs}
    tis = [t for t in stack.task_instances(run_id) if t["task_id"].endswith(".run") and t["map_index"] >= 0]
    assert len(tis) == 24
    for t in tis:  # the scheduler's hook set each instance's own slots and priority from queue.json
        q = queued[(t["task_id"], t["map_index"])]
        assert (t["pool"], t["pool_slots"], t["priority_weight"]) == ("ganblr_bench_cores", 1, q.priority_weight)
    batch, rejected = layout.collect(folder)
    results = [r for r, _ in batch.results]
    assert rejected == [] and len(results) == 24 and {r.status for r in results} == {"ok"}
    assert max(r.placement.waited_s for r in results) < 5  # the pool, not the lease, did the waiting
    first = min(datetime.fromisoformat(t["start_date"]) for t in tis)
    last = max(datetime.fromisoformat(t["end_date"]) for t in tis)
    longest_task = max((datetime.fromisoformat(t["end_date"]) - datetime.fromisoformat(t["start_date"])) for t in tis)
    assert longest_task.total_seconds() < 15 and (last - first).total_seconds() > 2 * 15, (longest_task, last - first)
    print(f"\n24 jobs on 2 cores in {(last - first).total_seconds():.0f} s; the longest task {longest_task}")
