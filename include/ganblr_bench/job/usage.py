"""How one job's startup, per-phase resources, peak memory and CPU usage are measured.

A job has four phases: startup (process start to "model ready": imports done, data loaded,
model built), fit, sample and evaluate. For each: wall seconds (monotonic clock), CPU seconds
of the process (user + system, all its threads: TensorFlow's included) and the process's peak
resident memory during the phase (CPU from the process's own clock, to the nanosecond: a phase
of milliseconds is not rounded to a clock tick). The headline figures of a job are its model's: peak memory
and CPU % over fit + sample. Startup and evaluation are reported separately.

- Peak memory of a phase: the kernel's high-water mark of the process's resident set
  (``VmHWM``), reset at the phase's start (``/proc/self/clear_refs`` = 5). Resident pages
  are every page the process touched, however allocated: Python's heap, NumPy buffers and
  TensorFlow's native allocator alike; page cache (files read) is not in it. Without the reset
  (not Linux), the mark since process start is used, and ``memory_source`` says ``rusage``.
- The job's peak (``job_peak_memory_bytes``): in a container that runs this job alone (our
  image sets ``GANBLR_BENCH_DEDICATED_CGROUP=1``), the cgroup's high-water mark (v2
  ``memory.peak`` or v1 ``memory.max_usage_in_bytes``): what the memory limit is enforced
  against, page cache included. Elsewhere, the process's peak resident set (``getrusage``).
- CPU %: CPU seconds over wall seconds x 100; 100 % is one core busy. Divided by the CPUs
  available (the cgroup quota if set, else the CPU affinity mask) it is the share of what the job had.
"""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path

from ganblr_bench import settings
from ganblr_bench.contract import PhaseUsage, Resources
from ganblr_bench.figures import MODEL_PHASES

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


def in_container() -> bool:
    return Path("/.dockerenv").exists() or Path("/run/.containerenv").exists() or bool(os.environ.get("container"))  # noqa: SIM112 (podman's name)


def dedicated_cgroup() -> bool:
    return settings.DEDICATED_CGROUP.get()


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
        limit, period = (CGROUP / "cpu.max").read_text().split()
        if limit != "max":
            quota = int(limit) / int(period)
    except (OSError, ValueError):
        v1_quota, v1_period = (
            _read_int(CGROUP / "cpu" / "cpu.cfs_quota_us"),
            _read_int(CGROUP / "cpu" / "cpu.cfs_period_us"),
        )
        if v1_quota and v1_period:
            quota = v1_quota / v1_period
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(quota, affinity) if quota else float(affinity)


def cores() -> list[int] | None:
    """The cores this process may run on (its affinity: a container's cpuset narrows it)."""
    return sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None


def cpuset() -> str | None:
    """This process's cgroup cpuset as the kernel lists it ('0', '2-3'): v2, then v1."""
    for path in (
        CGROUP / "cpuset.cpus.effective",
        CGROUP / "cpuset" / "cpuset.effective_cpus",
        CGROUP / "cpuset" / "cpuset.cpus",
    ):
        try:
            text = path.read_text().strip()
        except OSError:
            continue
        if text:
            return text
    return None


def host_load() -> float | None:
    """The host's 1-minute load average (/proc/loadavg is not namespaced: a container sees the host's)."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_bytes(field: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def resident_peak() -> int | None:
    """The process's resident-set high-water mark in bytes (VmHWM), or None where /proc has none."""
    return _status_bytes("VmHWM:")


def resident_now() -> int | None:
    """The process's resident set now in bytes (VmRSS), or None where /proc has none."""
    return _status_bytes("VmRSS:")


def reset_resident_peak() -> bool:
    """Set the high-water mark back to the current resident set; False if the kernel does not allow it."""
    try:
        CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def usage(started_at: float, phases: Phases) -> tuple[Resources, float]:
    """The job's resources: the model's (fit + sample) as the headline, each phase, the whole job; and its wall."""
    wall = max(time.time() - started_at, 1e-9)
    cpus = cpus_available()
    job_memory, job_source = peak_memory()
    model = [phases.usage[p] for p in MODEL_PHASES if p in phases.usage]
    headline = {}
    if len(model) == len(MODEL_PHASES):
        cpu = sum(u.cpu_s for u in model)
        percent = 100.0 * cpu / max(sum(u.wall_s for u in model), 1e-9)
        peaks = [u.peak_memory_bytes for u in model if u.peak_memory_bytes is not None]
        headline = dict(
            peak_memory_bytes=max(peaks) if peaks else None,
            memory_source=phases.memory_source if peaks else None,
            cpu_seconds=round(cpu, 3),
            cpu_percent=round(percent, 1),
            cpu_percent_of_available=round(percent / cpus, 1),
        )
    return Resources(
        **headline,
        cpus_available=cpus,
        phases=dict(phases.usage),
        job_peak_memory_bytes=job_memory,
        job_memory_source=job_source,
        job_cpu_seconds=round(cpu_seconds(), 3),
    ), round(wall, 3)


class Phases:
    """Per phase, its wall seconds, CPU seconds and peak resident memory: ``with phases("fit"): ...``.

    ``startup_done()`` closes the startup phase (counted from the process's start). Only a phase that
    completes is recorded: a fit cut short by a timeout has no fit figures.
    """

    def __init__(self, process_started: float) -> None:
        self.process_started = process_started
        self.usage: dict[str, PhaseUsage] = {}
        self.memory_source = "process-peak-rss"

    def startup_done(self) -> None:
        self.usage["startup"] = PhaseUsage(
            wall_s=round(max(time.time() - self.process_started, 0.0), 4),
            cpu_s=round(time.process_time(), 4),
            peak_memory_bytes=self._peak(),
        )

    def _peak(self) -> int | None:
        peak = resident_peak()
        if peak is None:  # no /proc: the process's peak since its start
            self.memory_source = "rusage"
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return peak

    def __call__(self, phase: str) -> _Phase:
        return _Phase(self, phase)

    @property
    def seconds(self) -> dict[str, float]:
        return {name: u.wall_s for name, u in self.usage.items()}


class _Phase:
    def __init__(self, phases: Phases, name: str) -> None:
        self.phases, self.name = phases, name

    def __enter__(self) -> None:
        if not reset_resident_peak():
            self.phases.memory_source = "rusage"  # a mark since process start, not per phase
        self.t0, self.c0 = time.perf_counter(), time.process_time()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.phases.usage[self.name] = PhaseUsage(
                wall_s=round(time.perf_counter() - self.t0, 4),
                cpu_s=round(max(time.process_time() - self.c0, 0.0), 4),
                peak_memory_bytes=self.phases._peak(),
            )
