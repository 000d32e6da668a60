import os
import time

import numpy as np
import pytest

from ganblr_bench.job import usage


def test_process_start_is_before_now_and_after_boot():
    started = usage.process_start_time()
    assert 0 < time.time() - started < 24 * 3600


def test_cpu_seconds_grow_with_work():
    before = usage.cpu_seconds()
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass
    assert usage.cpu_seconds() - before >= 0.2


def test_peak_memory_sees_a_large_allocation():
    before, source = usage.peak_memory()
    block = bytearray(300 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    after, _ = usage.peak_memory()
    assert source == "rusage" and after >= before and after >= 300 * 2**20
    del block


def _touch(mib: int) -> np.ndarray:
    block = np.ones(mib * 2**20 // 8)  # every page written: resident
    return block


def test_each_phase_has_its_own_peak_and_evaluation_cannot_raise_the_models():
    """The known parts: fit holds 150 MiB, evaluation 400 MiB (both freed after); the model's peak stays fit's."""
    phases = usage.Phases(usage.process_start_time())
    phases.startup_done()
    with phases("fit"):
        block = _touch(150)
        del block
    with phases("sample"):
        pass
    with phases("evaluate"):
        block = _touch(400)
        del block
    u, _ = usage.usage(usage.process_start_time(), phases)
    base = phases.usage["sample"].peak_memory_bytes  # the resident set between the phases
    fit, evaluate = phases.usage["fit"].peak_memory_bytes, phases.usage["evaluate"].peak_memory_bytes
    assert u.memory_source == "process-peak-rss"
    assert 140 * 2**20 <= fit - base <= 180 * 2**20
    assert 390 * 2**20 <= evaluate - base <= 430 * 2**20
    assert u.peak_memory_bytes == max(fit, base) < evaluate  # the headline is fit + sample's, not evaluation's
    assert u.job_peak_memory_bytes >= evaluate - 2**20  # the whole job saw evaluation's peak


def test_cpu_of_a_phase_is_its_own_and_the_headline_covers_fit_and_sample():
    phases = usage.Phases(usage.process_start_time())
    phases.startup_done()
    with phases("fit"):
        end = time.perf_counter() + 0.4
        while time.perf_counter() < end:
            pass
    with phases("sample"):
        time.sleep(0.2)  # wall without CPU
    with phases("evaluate"):
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            pass
    u, wall = usage.usage(usage.process_start_time(), phases)
    fit, sample = phases.usage["fit"], phases.usage["sample"]
    assert fit.cpu_s >= 0.35 and sample.cpu_s < 0.05 and phases.usage["evaluate"].cpu_s >= 0.25
    assert u.cpu_seconds == pytest.approx(fit.cpu_s + sample.cpu_s, abs=0.002)
    assert u.cpu_percent == pytest.approx(100 * u.cpu_seconds / (fit.wall_s + sample.wall_s), abs=1)
    assert 55 < u.cpu_percent < 80  # 0.4 s busy in 0.6 s: the evaluation's busy 0.3 s is not in it
    assert u.job_cpu_seconds >= u.cpu_seconds + 0.25 and wall > 0


def test_a_phase_cut_short_is_not_recorded_and_leaves_no_headline():
    phases = usage.Phases(usage.process_start_time())
    with pytest.raises(TimeoutError), phases("fit"):
        raise TimeoutError
    assert "fit" not in phases.usage
    u, _ = usage.usage(usage.process_start_time(), phases)
    assert u.peak_memory_bytes is None and u.cpu_percent is None and u.job_peak_memory_bytes > 0


def test_where_the_job_runs_is_read_from_the_kernel():
    assert usage.cores() == sorted(os.sched_getaffinity(0))
    assert usage.host_load() >= 0
