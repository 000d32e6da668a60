import time

from ganblr_bench import measure


def test_process_start_is_before_now_and_after_boot():
    started = measure.process_start_time()
    assert 0 < time.time() - started < 24 * 3600


def test_cpu_seconds_grow_with_work():
    before = measure.cpu_seconds()
    end = time.perf_counter() + 0.3
    while time.perf_counter() < end:
        pass
    assert measure.cpu_seconds() - before >= 0.2


def test_peak_memory_sees_a_large_allocation():
    before, source = measure.peak_memory()
    block = bytearray(300 * 2**20)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    after, _ = measure.peak_memory()
    assert source == "rusage" and after >= before and after >= 300 * 2**20
    del block


def test_usage_figures_are_consistent():
    u, wall_seconds = measure.usage(measure.process_start_time())
    assert u.cpus_available >= 1 and wall_seconds > 0
    assert abs(u.cpu_percent - 100 * u.cpu_seconds / wall_seconds) < 1  # inputs rounded to ms
    assert abs(u.cpu_percent_of_available - u.cpu_percent / u.cpus_available) < 0.2


def test_stopwatch_times_named_phases():
    watch = measure.Stopwatch()
    with watch("nap"):
        time.sleep(0.05)
    assert 0.04 < watch.seconds["nap"] < 1.0


def test_stopwatch_does_not_record_a_phase_cut_short():
    watch = measure.Stopwatch()
    try:
        with watch("fit"):
            raise TimeoutError
    except TimeoutError:
        pass
    assert "fit" not in watch.seconds
