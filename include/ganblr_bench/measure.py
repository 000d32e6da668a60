"""How one job's startup time, peak memory and CPU usage are measured.

- Startup: from the process's start (the kernel's start time of this process, to 10 ms)
  to "model ready" (imports done and data loaded). Outside Linux: from this module's import.
- Peak memory: in a container that runs this job alone (our image sets
  ``GANBLR_BENCH_DEDICATED_CGROUP=1``), the cgroup's high-water mark (v2 ``memory.peak``
  or v1 ``memory.max_usage_in_bytes``): what the memory limit is enforced against,
  page cache included. Elsewhere, the peak resident set size of this process or its
  largest child (``getrusage``), page cache excluded. Merely being in a container is
  not enough: a shared container's cgroup counts other processes too.
- CPU: user + system CPU seconds of this process and its children, over wall seconds
  since process start; 100 % is one core busy. Divided by the CPUs available (cgroup
  quota if set, else the CPU affinity mask) it gives the share of what the job had.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

from .contract import Resources

_IMPORTED_AT = time.time()
CGROUP = Path("/sys/fs/cgroup")


def process_start_time() -> float:
    """Epoch seconds at which this process started."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started_ticks = int(fields[19])  # field 22 of stat(5), counted after the command name
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - started_ticks / os.sysconf("SC_CLK_TCK")
        return time.time() - age
    except (OSError, IndexError, ValueError, AttributeError):
        return _IMPORTED_AT


DEDICATED_ENV = "GANBLR_BENCH_DEDICATED_CGROUP"


def in_container() -> bool:
    return Path("/.dockerenv").exists() or Path("/run/.containerenv").exists() or bool(os.environ.get("container"))  # noqa: SIM112 (podman's name)


def dedicated_cgroup() -> bool:
    return os.environ.get(DEDICATED_ENV) == "1"


def _read_int(path: Path) -> int | None:
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None


def peak_memory() -> tuple[int, str]:
    """(bytes, source) of the job's peak memory."""
    if dedicated_cgroup():
        for path, source in (
            (CGROUP / "memory.peak", "cgroup-v2"),
            (CGROUP / "memory" / "memory.max_usage_in_bytes", "cgroup-v1"),
        ):
            value = _read_int(path)
            if value:
                return value, source
    kib = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    )
    return kib * 1024, "rusage"


def cpus_available() -> float:
    quota = None
    try:
        q, period = (CGROUP / "cpu.max").read_text().split()
        if q != "max":
            quota = int(q) / int(period)
    except (OSError, ValueError):
        q, period = _read_int(CGROUP / "cpu" / "cpu.cfs_quota_us"), _read_int(CGROUP / "cpu" / "cpu.cfs_period_us")
        if q and period:
            quota = q / period
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(quota, affinity) if quota else float(affinity)


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def usage(started_at: float) -> tuple[Resources, float]:
    """The job's resources since ``started_at`` (epoch seconds), and the wall seconds they cover."""
    wall = max(time.time() - started_at, 1e-9)
    cpu = cpu_seconds()
    cpus = cpus_available()
    memory, source = peak_memory()
    percent = 100.0 * cpu / wall
    return Resources(
        peak_memory_bytes=memory,
        memory_source=source,
        cpu_seconds=round(cpu, 3),
        cpu_percent=round(percent, 1),
        cpus_available=cpus,
        cpu_percent_of_available=round(percent / cpus, 1),
    ), round(wall, 3)


class Stopwatch:
    """Named phases timed with a monotonic clock: ``with watch("fit"): ...``.

    Only a phase that completes is recorded: a fit cut short by a timeout has no fit time.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, phase: str) -> _Phase:
        return _Phase(self, phase)


class _Phase:
    def __init__(self, watch: Stopwatch, phase: str) -> None:
        self.watch, self.phase = watch, phase

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:
            self.watch.seconds[self.phase] = round(time.perf_counter() - self.t0, 4)
