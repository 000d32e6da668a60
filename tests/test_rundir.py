"""A run on disk: planning, results for jobs that died, the run's failures, collecting it."""

import json
from pathlib import Path

import pytest

from ganblr_bench import rundir
from ganblr_bench.contract import ContractError, load_result, load_run


def test_plan_writes_run_json_and_one_spec_per_job(tmp_path):
    planned = rundir.plan_run(
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
    assert planned.jobs == {  # the references by default, last
        "ganblr": ["ganblr-iris-s3", "ganblr-car-s3"],
        "ganblr++": ["ganblrpp-iris-s3", "ganblrpp-car-s3"],
        "independent": ["independent-iris-s3", "independent-car-s3"],
        "naive-bayes": ["naive-bayes-iris-s3", "naive-bayes-car-s3"],
    }
    assert planned.memory_limits == {"ganblr": "6g", "ganblr++": "2g", "independent": "6g", "naive-bayes": "6g"}
    assert planned.cores == {"ganblr": 1, "ganblr++": 2, "independent": 1, "naive-bayes": 1}
    assert planned.datasets == ["iris", "car"]
    spec = json.loads((Path(planned.folder) / "ganblrpp-car-s3" / "spec.json").read_text())
    assert spec["params"]["epochs"] == 7 and spec["timeout_s"] == 3600 and spec["cores"] == 2
    assert json.loads((Path(planned.folder) / "ganblr-car-s3" / "spec.json").read_text())["params"]["epochs"] == 2
    run = load_run(Path(planned.folder) / "run.json")
    assert run.kind == "manual" and run.params["seeds"] == [3] and run.host.cpus >= 1 and run.finished_at is None
    assert rundir.trtr_cache(tmp_path).is_dir()  # job containers mount it, so planning makes it
    without = rundir.plan_run({"datasets": ["iris"], "seeds": [0], "references": False}, "no-refs", tmp_path)
    assert list(without.jobs) == ["ganblr", "ganblr++"]
    assert rundir.missing_results(Path(planned.folder)) == sorted(j for jobs in planned.jobs.values() for j in jobs)


def test_bad_parameters_name_the_field_and_write_nothing(tmp_path):
    with pytest.raises(ContractError, match=r"run parameters: epochs: .*greater than or equal to 1"):
        rundir.plan_run({"epochs": 0}, "r1", tmp_path)
    with pytest.raises(ContractError, match=r"model_overrides.ganblr\+\+.memory_limit"):
        rundir.plan_run({"model_overrides": {"ganblr++": {"memory_limit": "lots"}}}, "r1", tmp_path)
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
    got, error = rundir.classify_exit(oom, code, "Traceback...\nValueError: boom\n")
    assert got == status and error
    if status == "failed":
        assert f"exit code {code}" in error and "ValueError: boom" in error


def test_complete_missing_failures_and_finish(tmp_path):
    planned = rundir.plan_run(
        {"models": ["ganblr"], "datasets": ["iris"], "seeds": [0, 1], "references": False}, "r2", tmp_path
    )
    rundir.complete_missing(Path(planned.folder), "ganblr-iris-s0", "oom", "killed for memory")
    result = load_result(Path(planned.folder) / "ganblr-iris-s0" / "result.json")
    assert result.status == "oom" and result.spec.seed == 0 and result.scores == []
    assert rundir.missing_results(Path(planned.folder)) == ["ganblr-iris-s1"]
    assert rundir.failures(Path(planned.folder)) == ["ganblr-iris-s0: oom: killed for memory"]
    assert rundir.finish_run(Path(planned.folder)).finished_at is not None


def test_run_keys_never_collide_and_clean_ids_stay_as_they_are():
    keys = {rundir.run_key(r) for r in ("a:b", "a;b", "a b", "a_b")}
    assert len(keys) == 4 and "a_b" in keys
    assert all("/" not in rundir.run_key(r) and rundir.run_key(r) not in ("", ".", "..") for r in ("../..", "/", ""))


def test_planning_again_moves_an_earlier_result_aside(tmp_path):
    """A cleared task plans the run again: an old result must not stand in for the new try."""
    params = {"models": ["ganblr"], "datasets": ["iris"], "seeds": [0], "references": False}
    first = rundir.plan_run(params, "r3", tmp_path)
    rundir.complete_missing(Path(first.folder), "ganblr-iris-s0", "failed", "first try")
    rundir.plan_run(params, "r3", tmp_path)
    job = Path(first.folder) / "ganblr-iris-s0"
    assert rundir.missing_results(Path(first.folder)) == ["ganblr-iris-s0"]
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
        rundir.plan_run(params, "r4", tmp_path, backend="process")
    assert words in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_jobs_still_without_a_result_are_skipped_after_a_failed_step_else_failed(tmp_path):
    planned = rundir.plan_run(
        {"models": ["ganblr"], "datasets": ["iris"], "seeds": [0, 1], "references": False}, "r5", tmp_path
    )
    folder = Path(planned.folder)
    rundir.complete_missing(folder, "ganblr-iris-s0", "oom", "killed for memory")
    assert rundir.complete_all_missing(folder, earlier_step_failed=False) == ["ganblr-iris-s1"]
    assert rundir.failures(folder) == [
        "ganblr-iris-s0: oom: killed for memory",
        "ganblr-iris-s1: failed: the job's task ended without a result",
    ]
    other = rundir.plan_run(
        {"models": ["ganblr"], "datasets": ["iris"], "seeds": [0], "references": False}, "r6", tmp_path
    )
    rundir.complete_all_missing(Path(other.folder), earlier_step_failed=True)
    assert rundir.failures(Path(other.folder))[0].startswith("ganblr-iris-s0: skipped: the job did not run")
