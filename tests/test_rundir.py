"""A run on disk: planning it, results for jobs that died, run keys."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ganblr_bench import layout
from ganblr_bench.errors import ContractError
from ganblr_bench.layout import load_result, load_run
from ganblr_bench.run import postmortem
from ganblr_bench.run.plan import plan_run


def test_plan_writes_run_json_and_one_spec_per_job(tmp_path):
    planned = plan_run(
        {
            "datasets": ["iris", "car"],
            "seeds": [3],
            "epochs": 2,
            "model_overrides": {"ganblr++": {"epochs": 7, "memory_limit": "2g", "cores_per_job": 2}},
        },
        "manual__2026-01-01T00:00:00+00:00",
        tmp_path,
        kind="manual",
        backend="docker",
    )
    assert Path(planned.folder).name.startswith("manual__2026-01-01T00_00_00_00_00-")  # + a hash of the id
    assert {m: [j.name for j in planned.of_model(m)] for m in dict.fromkeys(j.model for j in planned.jobs)} == {
        "ganblr": ["ganblr-car-s3", "ganblr-iris-s3"],  # the references by default; longest expected first
        "ganblr++": ["ganblrpp-car-s3", "ganblrpp-iris-s3"],
        "independent": ["independent-car-s3", "independent-iris-s3"],
        "naive-bayes": ["naive-bayes-car-s3", "naive-bayes-iris-s3"],
    }
    assert planned.jobs[0].name == "ganblrpp-car-s3" and planned.jobs[-1].expected_s <= planned.jobs[0].expected_s
    limits = {(j.model, j.memory_limit, j.cores) for j in planned.jobs}
    assert limits == {("ganblr", "6g", 1), ("ganblr++", "2g", 2), ("independent", "6g", 1), ("naive-bayes", "6g", 1)}
    assert planned.datasets == ["iris", "car"] and planned.stacks == ["locked"] and planned.force_rebuild is False
    spec = json.loads((Path(planned.folder) / "ganblrpp-car-s3" / "spec.json").read_text())
    assert spec["params"]["epochs"] == 7 and spec["timeout_s"] == 3600 and spec["cores"] == 2
    assert spec["memory_limit"] == "2g" and spec["run"] == planned.key  # a result can be checked against its run
    assert json.loads((Path(planned.folder) / "ganblr-car-s3" / "spec.json").read_text())["params"]["epochs"] == 2
    run = load_run(Path(planned.folder) / "run.json")
    assert run.kind == "manual" and run.params["seeds"] == [3] and run.host.cpus >= 1 and run.finished_at is None
    assert layout.trtr_cache(tmp_path).is_dir()  # job containers mount it, so planning makes it
    without = plan_run({"datasets": ["iris"], "seeds": [0], "references": False}, "no-refs", tmp_path)
    assert {j.model for j in without.jobs} == {"ganblr", "ganblr++"}
    assert layout.missing_results(Path(planned.folder)) == sorted(j.name for j in planned.jobs)


def test_bad_parameters_name_the_field_and_write_nothing(tmp_path):
    with pytest.raises(ContractError, match=r"run parameters: epochs: .*greater than or equal to 1"):
        plan_run({"epochs": 0}, "r1", tmp_path)
    with pytest.raises(ContractError, match=r"model_overrides.ganblr\+\+.memory_limit"):
        plan_run({"model_overrides": {"ganblr++": {"memory_limit": "lots"}}}, "r1", tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "oom, code, status",
    [
        (True, 137, "oom"),
        (False, 137, "timeout"),
        (False, 143, "timeout"),
        (False, -9, "timeout"),
        (False, 1, "failed"),
        (False, 2, "failed"),
    ],
)
def test_how_a_job_ended_without_a_result(oom, code, status):
    got, error = postmortem.classify_exit(oom, code, "Traceback...\nValueError: boom\n")
    assert got == status and error
    if status == "failed":
        assert f"exit code {code}" in error and "ValueError: boom" in error


def failures(folder: Path) -> list[str]:
    return [
        f"{r.job}: {r.status}: {r.error}"
        for r in (load_result(p / "result.json") for p in layout.job_folders(folder) if layout.has_result(p))
        if r.status != "ok"
    ]


def test_complete_missing_writes_a_result_with_its_status(tmp_path):
    planned = plan_run(
        {"models": ["ganblr"], "datasets": ["iris"], "seeds": [0, 1], "references": False}, "r2", tmp_path
    )
    postmortem.complete_missing(Path(planned.folder), "ganblr-iris-s0", "oom", "killed for memory")
    result = load_result(Path(planned.folder) / "ganblr-iris-s0" / "result.json")
    assert result.status == "oom" and result.spec.seed == 0 and result.scores == []
    assert layout.missing_results(Path(planned.folder)) == ["ganblr-iris-s1"]
    assert failures(Path(planned.folder)) == ["ganblr-iris-s0: oom: killed for memory"]


def test_run_keys_never_collide_and_clean_ids_stay_as_they_are():
    keys = {layout.run_key(r) for r in ("a:b", "a;b", "a b", "a_b")}
    assert len(keys) == 4 and "a_b" in keys
    assert all("/" not in layout.run_key(r) and layout.run_key(r) not in ("", ".", "..") for r in ("../..", "/", ""))


def test_planning_again_moves_an_earlier_result_aside(tmp_path):
    """A cleared task plans the run again: an old result must not stand in for the new try."""
    params = {"models": ["ganblr"], "datasets": ["iris"], "seeds": [0], "references": False}
    first = plan_run(params, "r3", tmp_path)
    postmortem.complete_missing(Path(first.folder), "ganblr-iris-s0", "failed", "first try")
    plan_run(params, "r3", tmp_path)
    job = Path(first.folder) / "ganblr-iris-s0"
    assert layout.missing_results(Path(first.folder)) == ["ganblr-iris-s0"]
    assert json.loads((job / "result.superseded-1.json").read_text())["error"] == "first try"


@pytest.mark.parametrize(
    "params, words",
    [
        ({"memory_limit": "1k"}, "memory_limit: must be between 64m and 4096g, not 1k"),
        ({"memory_limit": "99999999999g"}, "memory_limit: must be between 64m and 4096g"),
        ({"model_overrides": {"ganblr++": {"memory_limit": "10m"}}}, "model_overrides.ganblr++.memory_limit"),
        ({"epochs": "7"}, "epochs: Input should be a valid integer"),
        ({"force_rebuild": "yes"}, "force_rebuild: Input should be a valid boolean"),
        ({"seeds": list(range(100)), "datasets": ["iris", "car", "adult"]}, "= 1200 jobs, more than 200 in one run"),
        ({"stacks": ["latest"]}, "stacks: 'latest' needs the docker backend"),
        ({"cores_per_job": 0}, "cores_per_job: Input should be greater than or equal to 1"),
        ({"references": "no"}, "references: Input should be a valid boolean"),
    ],
)
def test_parameters_that_would_hurt_are_refused_naming_the_field_before_anything_is_written(tmp_path, params, words):
    with pytest.raises(ContractError) as err:
        plan_run(params, "r4", tmp_path, backend="process")
    assert words in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_jobs_still_without_a_result_are_skipped_after_a_failed_step_else_failed(tmp_path):
    planned = plan_run(
        {"models": ["ganblr"], "datasets": ["iris"], "seeds": [0, 1], "references": False}, "r5", tmp_path
    )
    folder = Path(planned.folder)
    postmortem.complete_missing(folder, "ganblr-iris-s0", "oom", "killed for memory")
    ready = load_run(folder / "run.json").model_copy(update={"ready_at": datetime.now(UTC)})
    assert postmortem.complete_all_missing(folder, ready) == ["ganblr-iris-s1"]
    assert failures(folder) == [
        "ganblr-iris-s0: oom: killed for memory",
        "ganblr-iris-s1: failed: the job's task ended without a result",
    ]
    other = plan_run({"models": ["ganblr"], "datasets": ["iris"], "seeds": [0], "references": False}, "r6", tmp_path)
    never_ready = load_run(Path(other.folder) / "run.json")  # a dataset or an image failed: ready_at unset
    postmortem.complete_all_missing(Path(other.folder), never_ready)
    assert failures(Path(other.folder))[0].startswith("ganblr-iris-s0: skipped: the job did not run")
