"""The job queue (run/queue.py): expected durations from the warehouse's history or a model's cost, the longest
job first, each job task's own pool slots and priority in queue.json, and the scheduler's hook that sets them
(plugins/airflow_local_settings.py; the real scheduler applies it in tests/test_pipeline.py)."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest

from ganblr_bench import layout, settings
from ganblr_bench.contract import parse_spec
from ganblr_bench.errors import ContractError
from ganblr_bench.run import pipeline, queue
from ganblr_bench.warehouse import store

ROOT = Path(__file__).resolve().parents[1]


def _spec(**changes):
    base = {"job_id": "j", "model": "ganblr", "dataset": "adult", "seed": 0, "params": {"epochs": 10}}
    return parse_spec(base | changes)


def test_a_new_series_is_expected_from_its_models_cost_and_data_size():
    pp, g = queue.default_seconds(_spec(model="ganblr++")), queue.default_seconds(_spec())
    floor = queue.default_seconds(_spec(model="independent"))
    assert pp > 5 * g > 5 * floor  # GANBLR++ trains far longer than GANBLR on Adult; a reference is quick
    assert queue.default_seconds(_spec(row_limit=600)) < g  # fewer rows, less time
    assert queue.default_seconds(_spec(params={"epochs": 1})) < g
    assert queue.default_seconds(_spec(dataset="iris")) < queue.default_seconds(_spec(dataset="car")) < g


def test_the_plan_puts_the_longest_job_first_and_writes_each_job_tasks_slots_and_priority(process_conf, monkeypatch):
    monkeypatch.delenv("GANBLR_BENCH_DSN", raising=False)  # no warehouse: whatever this machine has elsewhere
    monkeypatch.setenv("GANBLR_BENCH_HOME", str(process_conf.results_root.parent / "home"))
    params = {
        "models": ["ganblr", "ganblr++"],
        "datasets": ["iris", "adult"],
        "seeds": [0, 1],
        "model_overrides": {"ganblr++": {"cores_per_job": 2}},
    }
    said = []
    plan = pipeline.plan_run(process_conf, pipeline.Trigger("manual__q", "manual", params), say=said.append)
    expected = [j.expected_s for j in plan.jobs]
    assert expected == sorted(expected, reverse=True) and plan.jobs[0].name.startswith("ganblrpp-adult")
    assert any("no history from the warehouse" in line for line in said)  # no warehouse here: the costs, said
    assert "queue: ganblrpp-adult-s0 expected" in "\n".join(said)
    written = layout.load_queue(Path(plan.folder) / layout.QUEUE_FILE)
    assert written.run_id == "manual__q" and len(written.jobs) == len(plan.jobs) == 16  # with the references
    assert [q.priority_weight for q in written.jobs] == list(range(16, 0, -1))
    for model, task in (("ganblr", "ganblr.run"), ("ganblr++", "ganblrpp.run"), ("naive-bayes", "naive-bayes.run")):
        # each branch's map index is the job's place in the list its "jobs" task hands the mapped task
        folders = [Path(f).name for f in pipeline.job_folders(plan, model)]
        entries = sorted((q for q in written.jobs if q.task_id == task), key=lambda q: q.map_index)
        assert [q.job for q in entries] == folders and [q.map_index for q in entries] == list(range(len(folders)))
        assert {q.pool_slots for q in entries} == {2 if model == "ganblr++" else 1}
    assert {q.expected_from for q in written.jobs} == {"default"}
    assert (
        queue.place(process_conf.results_root, "manual__q", "ganblrpp.run", 0).job == plan.of_model("ganblr++")[0].name
    )
    assert queue.place(process_conf.results_root, "manual__q", "record", -1) is None
    assert (
        queue.place(process_conf.results_root, "manual__other", "ganblr.run", 0) is None
    )  # no queue: as the DAG made it


def test_history_is_the_median_of_the_series_last_runs_and_only_of_that_series(warehouse, run_folder, tmp_path):
    walls = [1000.0, 10.0, 20.0, 30.0, 40.0, 50.0]  # oldest first: the oldest is out of the window of 5
    folders = []
    for i, wall in enumerate(walls):
        folder = tmp_path / f"hist-{i}"
        layout_copy(run_folder, folder, f"hist-{i}", timedelta(days=len(walls) - i), wall)
        folders.append(folder)
    store.record_paths(folders, warehouse, tmp_path / "spool")
    spec = layout.load_result(run_folder / "ganblr-iris-s1" / "result.json").spec
    other = spec.model_copy(update={"params": spec.params.model_copy(update={"epochs": 2}), "job_id": "other"})
    with psycopg.connect(warehouse) as conn:
        found = queue.history(conn, [spec, other])
    # two seeds a run: the window's last five rows are three runs' (50, 50, 40, 40, 30): their median, + startup
    assert found == {spec.name: pytest.approx(2.0 + 40.0)} and other.name not in found
    plan_expected = queue.expected([spec, other], found)
    assert plan_expected[spec.name].source == "history" and plan_expected[other.name].source == "default"


def layout_copy(source: Path, folder: Path, run_id: str, ago: timedelta, wall: float) -> None:
    """A copy of the real run recorded ``ago`` before it, its jobs' wall times set to ``wall`` (startups to 2 s)."""
    import shutil

    shutil.copytree(source, folder)
    data = json.loads((folder / "run.json").read_text())
    started = layout.load_run(source / "run.json").started_at - ago
    data |= {"run_id": run_id, "started_at": started.isoformat(), "finished_at": None}
    (folder / "run.json").write_text(json.dumps(data))
    for path in folder.glob("*/result.json"):
        r = json.loads(path.read_text())
        r["spec"]["run"] = None if r["spec"].get("run") is None else folder.name
        r["timings"]["wall_s"], r["timings"]["startup_s"] = wall, 2.0  # the seeds' real startups differ
        path.write_text(json.dumps(r))


def _hook():
    spec = importlib.util.spec_from_file_location(
        "airflow_local_settings", ROOT / "plugins" / "airflow_local_settings.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_schedulers_hook_sets_a_job_tasks_slots_and_priority_and_never_raises(process_conf, caplog, monkeypatch):
    plan = pipeline.plan_run(
        process_conf,
        pipeline.Trigger("manual__hook", "manual", {"models": ["ganblr++"], "datasets": ["iris"], "cores_per_job": 2}),
        say=lambda _: None,
    )
    monkeypatch.setenv(settings.RESULTS.name, str(process_conf.results_root))
    hook = _hook()
    # A stand-in for Airflow's TaskInstance: the hook reads and sets only these attributes (the real scheduler
    # calls it in tests/test_pipeline.py).
    ti = SimpleNamespace(dag_id="ganblr_benchmark", run_id="manual__hook", task_id="ganblrpp.run", map_index=0)
    ti.pool_slots, ti.priority_weight = 1, 1
    hook.task_instance_mutation_hook(ti, None)
    first = layout.load_queue(Path(plan.folder) / layout.QUEUE_FILE).jobs[0]
    assert (ti.pool_slots, ti.priority_weight) == (2, first.priority_weight) and first.priority_weight > 1
    other = SimpleNamespace(dag_id="another_dag", run_id="manual__hook", task_id="ganblrpp.run", map_index=0)
    other.pool_slots = 1
    hook.task_instance_mutation_hook(other, None)
    assert other.pool_slots == 1

    (Path(plan.folder) / layout.QUEUE_FILE).write_text('{"queue_version": 1, "run_id": "manual__hook", "jobs": [')
    ti.pool_slots = 1
    with caplog.at_level(logging.WARNING):
        hook.task_instance_mutation_hook(ti, None)
    assert ti.pool_slots == 1 and "ganblr-bench queue: ganblrpp.run[0] of manual__hook" in caplog.text
    with pytest.raises(ContractError, match="queue.json"):
        queue.place(process_conf.results_root, "manual__hook", "ganblrpp.run", 0)
    os.unlink(Path(plan.folder) / layout.QUEUE_FILE)
    os.symlink("/etc/passwd", Path(plan.folder) / layout.QUEUE_FILE)  # a link planted in the run folder
    with pytest.raises(ContractError):
        queue.place(process_conf.results_root, "manual__hook", "ganblrpp.run", 0)


def test_the_pool_is_sized_to_the_usable_cores_unless_told(monkeypatch):
    monkeypatch.delenv(settings.POOL_SLOTS.name, raising=False)
    monkeypatch.setenv(settings.CORES.name, "0")
    assert queue.pool_slots() == 1
    monkeypatch.setenv(settings.POOL_SLOTS.name, "24")
    assert queue.pool_slots() == 24
