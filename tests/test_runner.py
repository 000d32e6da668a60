"""The benchmark job run for real, without Docker: the real models on real data."""

import time

import pandas as pd
import pytest
from jobs import SMALL, assert_complete, read, run_cli, write_spec

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("mirror")]


@pytest.mark.parametrize("model", ["ganblr", "ganblr++"])
def test_cli_runs_a_model_on_adult_and_writes_a_complete_result(tmp_path, model):
    spec = write_spec(tmp_path, model=model, dataset="adult", seed=3, **SMALL)
    code, out, err = run_cli(spec, tmp_path / "out")
    assert code == 0, err
    result = read(tmp_path / "out")
    assert_complete(result)
    assert result.resources.memory_source == "process-peak-rss"  # per phase, the process's
    assert result.resources.job_memory_source == "rusage"  # not our container: the process's peak
    assert out.strip().splitlines()[-1].startswith(f"{result.job}: ok startup=")  # after the phase lines
    sample = pd.read_csv(tmp_path / "out" / "synthetic.csv")
    assert len(sample) == result.dataset.train_rows and sample.shape[1] == 15
    if model == "ganblr++":
        assert result.dataset.numeric_columns == [
            "age",
            "fnlwgt",
            "education-num",
            "capital-gain",
            "capital-loss",
            "hours-per-week",
        ]
        assert pd.api.types.is_float_dtype(sample["age"])
    else:
        assert result.dataset.numeric_columns == [] and sample["age"].str.startswith("q").all()


def test_same_seed_gives_the_same_sample_and_another_seed_does_not(tmp_path):
    samples = []
    for run, seed in (("a", 11), ("b", 11), ("c", 12)):
        spec = write_spec(
            tmp_path / run,
            model="ganblr++",
            dataset="iris",
            seed=seed,
            synthetic_rows=80,
            classifiers=["lr"],
            params={"epochs": 1},
        )
        assert run_cli(spec, tmp_path / run / "out")[0] == 0
        samples.append((tmp_path / run / "out" / "synthetic.csv").read_text())
    assert samples[0] == samples[1]
    assert samples[0] != samples[2]


def test_a_job_past_its_timeout_is_a_timeout_result(tmp_path):
    spec = write_spec(tmp_path, model="ganblr", dataset="adult", seed=0, timeout_s=12, params={"epochs": 500})
    code, out, _ = run_cli(spec, tmp_path / "out")
    result = read(tmp_path / "out")
    assert code == 1 and result.status == "timeout" and "timeout of 12 s" in result.error
    assert result.timings.fit_s is None and result.timings.startup_s > 0
    assert "timeout" in out


def test_a_corrupt_dataset_is_a_failed_result_naming_it(tmp_path, fault_row):
    bad = tmp_path / "mirror" / "car"
    bad.mkdir(parents=True)
    (bad / "car.data").write_text("vhigh,vhigh,2,2,small,low,unacc\n")
    spec = write_spec(tmp_path, model="ganblr", dataset="car")
    code, _, _ = run_cli(
        spec,
        tmp_path / "out",
        GANBLR_BENCH_DATA_MIRROR=str(tmp_path / "mirror"),
        GANBLR_BENCH_CACHE=str(tmp_path / "cache"),
    )
    result = read(tmp_path / "out")
    assert code == 1 and result.status == "failed"
    assert "dataset car: car.data from mirror" in result.error and result.scores == []
    fault_row("a job that fails (a substituted data file)", "failed, naming the file", (0, 0), "-")


def test_a_bad_spec_exits_2_before_any_work(tmp_path):
    spec = write_spec(tmp_path, model="ganblr", dataset="car", params={"epochs": 0})
    code, _, err = run_cli(spec, tmp_path / "out")
    assert code == 2
    assert "invalid input" in err and "params.epochs" in err
    assert not (tmp_path / "out").exists()


def test_a_timeout_a_library_rewraps_is_still_a_timeout():
    """Libraries may catch the timeout and raise their own error: the deadline knows it expired."""
    import time

    from ganblr_bench.job.runner import Deadline, JobTimeout

    deadline = Deadline(0.05)
    with pytest.raises(RuntimeError), deadline:
        try:
            time.sleep(1)
        except JobTimeout as err:  # as a library with a broad handler would
            raise RuntimeError("wrapped") from err
    assert deadline.expired and deadline.message == "job exceeded its timeout of 0.05 s"
    assert issubclass(JobTimeout, BaseException) and not issubclass(JobTimeout, Exception)


def test_a_job_that_swallows_every_stop_is_still_ended_at_its_deadline(tmp_path):
    """A library with ``except BaseException: pass`` in its loop: the deadline re-fires every second,
    and after the grace period its last resort ends the process (a real process, really stuck)."""
    import subprocess
    import sys

    script = (
        "import os, time\n"
        "from ganblr_bench.job.runner import Deadline\n"
        "d = Deadline(0.3, grace=1.5, last_resort=lambda: os._exit(7))\n"
        "with d:\n"
        "    while True:\n"
        "        try:\n"
        "            time.sleep(0.05)\n"
        "        except BaseException:\n"
        "            pass\n"
    )
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", script], timeout=60)
    assert proc.returncode == 7 and time.monotonic() - started < 30
