"""The DAG's task bodies (run/pipeline.py) without Airflow: a real run through every step on the process backend,
with real jobs, a real embedded PostgreSQL and the real report, in the fast tier."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest

from ganblr_bench import layout
from ganblr_bench.run import pipeline, process
from ganblr_bench.states import Backend, RunKind, Stack


def test_a_dag_run_becomes_a_trigger_and_its_kind_is_read_from_the_run_type():
    run = SimpleNamespace(
        run_id="manual__x",
        run_type="DagRunType.MANUAL",
        dag_id="d",
        triggered_by="DagRunTriggeredByType.REST_API",
        triggering_user_name="ada",
    )
    trigger = pipeline.Trigger.of(run, {"epochs": 1})
    assert trigger == pipeline.Trigger("manual__x", "DagRunType.MANUAL", {"epochs": 1}, "d", "REST_API ada")
    assert (
        pipeline.run_kind("DagRunType.SCHEDULED") == RunKind.SCHEDULED and pipeline.run_kind("scheduled") == "scheduled"
    )
    assert pipeline.run_kind("asset_triggered") == RunKind.MANUAL
    assert pipeline.page_url("http://h:8080/", "a b/c") == "http://h:8080/ganblr-bench/runs/a%20b%2Fc"
    assert pipeline.git_sha(Path(__file__).resolve().parents[1]) in (None, pipeline.git_sha(Path.cwd()))


def test_every_step_of_a_run_on_the_process_backend(process_conf, warehouse, tmp_path):
    params = {
        "models": ["independent"],
        "references": False,
        "datasets": ["iris"],
        "seeds": [0, 1],
        "classifiers": ["lr"],
    }
    trigger = pipeline.Trigger("manual__steps", "manual", params, "ganblr_benchmark", "test")
    plan = pipeline.plan_run(process_conf, trigger)
    assert [j.name for j in plan.jobs] == ["independent-iris-s0", "independent-iris-s1"] and plan.kind == RunKind.MANUAL
    assert pipeline.fetch_datasets(plan, process_conf) == ["iris"]
    assert pipeline.build_images(plan, process_conf, client=None) == {}  # the process backend builds nothing
    info = layout.load_run(Path(plan.folder) / "run.json")
    assert info.ready_at is not None and info.images == {} and info.backend == Backend.PROCESS
    for folder in pipeline.job_folders(plan, "independent")[:1]:  # one job runs; the other's task "dies"
        process.run_process(Path(folder), process_conf.runner, process_conf.cache, 300)
    recorded = pipeline.record(plan, process_conf, warehouse, client=None, say=lambda _: None)
    assert (recorded.recorded, recorded.duplicates, recorded.rejected) == (2, 0, [])
    judged = pipeline.judge(plan, process_conf, warehouse, say=lambda _: None)
    assert judged.regressions == [] and Path(judged.report).is_file() and judged.previous is None
    found = pipeline.problems(plan, judged, warehouse)
    assert found.lines == ["job failed: independent-iris-s1: failed: the job's task ended without a result"]
    with pytest.raises(
        pipeline.RunProblems, match=r"1 problem\(s\) in this run \(report: http://h/ganblr-bench/runs/manual__steps\)"
    ):
        pipeline.alert(plan, judged, warehouse, "http://h", say=lambda _: None)
    with psycopg.connect(warehouse) as conn:
        statuses = conn.execute("SELECT job, status FROM bench.job_results ORDER BY job").fetchall()
    assert statuses == [("independent-iris-s0", "ok"), ("independent-iris-s1", "failed")]
    assert layout.load_run(Path(plan.folder) / "run.json").finished_at is not None


def test_jobs_of_a_run_that_never_got_ready_are_recorded_as_skipped(process_conf, warehouse):
    params = {"models": ["independent"], "references": False, "datasets": ["iris"], "seeds": [0]}
    plan = pipeline.plan_run(process_conf, pipeline.Trigger("manual__never-ready", "manual", params))
    recorded = pipeline.record(plan, process_conf, warehouse, client=None, say=lambda _: None)  # fetch or build failed
    assert recorded.recorded == 1
    with psycopg.connect(warehouse) as conn:
        status, error = conn.execute("SELECT status, error FROM bench.job_results").fetchone()
    assert status == "skipped" and "an earlier step (dataset fetch or image build) failed" in error


def test_a_canary_failure_is_news_and_a_locked_failure_fails_the_run(process_conf, warehouse):
    judged = pipeline.Judged(
        regressions=[],
        canary=["ganblr on car: execution_s 40 vs baseline 20"],
        improvements=[],
        previous=None,
        changed=[],
        report="r.html",
    )
    docker_conf = replace(process_conf, backend=Backend.DOCKER)
    params = {
        "models": ["independent"],
        "references": False,
        "datasets": ["iris"],
        "seeds": [0],
        "stacks": ["locked", "latest"],
    }
    plan = pipeline.plan_run(docker_conf, pipeline.Trigger("manual__canary", "manual", params))
    assert {j.stack for j in plan.jobs} == {Stack.LOCKED, Stack.LATEST}
    pipeline.record(plan, process_conf, warehouse, client=None, say=lambda _: None)  # nothing ran: both skipped
    found = pipeline.problems(plan, judged, warehouse)
    assert [line.split(":")[0] for line in found.lines] == ["job failed"] and "independent-iris-s0:" in found.lines[0]
    assert found.canary[0].startswith("ganblr on car") and "independent-iris-s0-latest: skipped" in found.canary[1]
