"""A job's live progress: phase lines and heartbeats in its log, which never change what it computes."""

import io
import re
import time

import pytest
from jobs import run_cli, write_spec

from ganblr_bench import settings
from ganblr_bench.errors import SettingsError
from ganblr_bench.job import heartbeat


def test_phase_lines_and_heartbeats_with_the_epoch_the_model_printed():
    out = io.StringIO()
    with heartbeat.Heartbeat("job-a", every=0.05, out=out) as beat, beat.phase_of("fit"):
        print("Epoch 1/3: G_loss = 0.1\nkeras noise\nEpoch 2/3: G_loss = 0.2", file=beat.epochs())
        time.sleep(0.3)
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"\d\d:\d\d:\d\d job-a: fit started", lines[0])
    assert re.fullmatch(r"\d\d:\d\d:\d\d job-a: fit done after 0\.\d s", lines[-1])
    beats = [line for line in lines if "heartbeat: fit" in line]
    assert len(beats) >= 2 and "epoch 2/3 done" in beats[-1] and "MiB" in beats[-1]
    assert "keras noise" not in out.getvalue()  # the model's own chatter stays out of the log


def test_a_phase_that_raises_is_reported_stopped_and_no_heartbeat_outlives_the_job():
    out = io.StringIO()
    beat = heartbeat.Heartbeat("job-b", every=0.05, out=out)
    with pytest.raises(RuntimeError), beat, beat.phase_of("sample"):
        raise RuntimeError("model crashed")
    time.sleep(0.2)
    assert out.getvalue().splitlines()[-1].endswith("s") and "sample stopped after" in out.getvalue().splitlines()[-1]


def test_heartbeats_off_leaves_the_phase_lines():
    out = io.StringIO()
    with heartbeat.Heartbeat("job-c", every=0, out=out) as beat, beat.phase_of("fit"):
        time.sleep(0.1)
    assert "heartbeat" not in out.getvalue() and "fit done" in out.getvalue()


@pytest.mark.parametrize("raw", ["-1", "soon"])
def test_a_bad_interval_is_refused_naming_the_setting(raw):
    with pytest.raises(SettingsError, match="GANBLR_BENCH_HEARTBEAT_S"):
        settings.HEARTBEAT_S.get({"GANBLR_BENCH_HEARTBEAT_S": raw})
    assert settings.HEARTBEAT_S.get({}) == 30


@pytest.mark.slow
def test_a_real_job_logs_its_phases_and_epochs_and_computes_the_same_sample_with_or_without_them(tmp_path):
    spec = write_spec(
        tmp_path,
        model="ganblr",
        dataset="breast-cancer",
        seed=0,
        row_limit=300,
        params={"epochs": 4, "batch_size": 64},
        classifiers=["lr"],
    )
    code, live, err = run_cli(spec, tmp_path / "live", GANBLR_BENCH_HEARTBEAT_S="0.5")
    assert code == 0, err
    order = ["load started", "load done", "fit started", "epoch", "fit done", "sample started", "evaluate done"]
    positions = [live.find(marker) for marker in order]
    assert -1 not in positions and positions == sorted(positions), live
    assert re.search(r"heartbeat: fit, \d+ s, memory \d+ MiB, epoch [1-4]/4 done", live)
    assert live.strip().splitlines()[-1].startswith("ganblr-breast-cancer-s0: ok startup=")
    code, quiet, err = run_cli(spec, tmp_path / "quiet", GANBLR_BENCH_HEARTBEAT_S="0")
    assert code == 0 and "heartbeat" not in quiet
    # Progress reads what the model prints; it never changes what the model computes.
    assert (tmp_path / "live" / "synthetic.csv").read_bytes() == (tmp_path / "quiet" / "synthetic.csv").read_bytes()
