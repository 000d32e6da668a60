"""Core sets for jobs that run at the same time on one host: no two running jobs share a core.

Each core of the host has a lock file in a folder local to that host (``GANBLR_BENCH_CORE_LOCKS``,
one sub-folder per Docker engine, so a folder shared by mistake still keeps hosts apart). A job
leases ``n`` cores by holding ``flock``s on their files for as long as it runs: the kernel drops
them when the holder ends, however it ends, so a crashed task never keeps a core. Allocation is
serialised by one more lock, so two tasks starting at the same instant cannot take the same core;
a task that finds too few free cores waits. How many jobs run at once on a host therefore follows
from its usable cores and the cores per job. In Airflow the job tasks wait in a pool of one slot a core
(``run/queue.py``) before they start, so a lease finds its cores at once; a wait here means the pool is
larger than the host's free cores, and is said.

While a lease is held, a watcher notes every other lease it sees on the host (each core file
names its holder): ``Lease.peers`` is how many jobs ran beside this one.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ganblr_bench import layout, settings
from ganblr_bench.contract import Placement, cpu_list
from ganblr_bench.errors import CoresError

# A lease that waits longer than this after Airflow started its task is a sign of a pool out of step with the host.
LEASE_WAIT_WARNING_S = 5.0


def parse_cpu_list(text: str) -> list[int]:
    """The cores of a Linux CPU list: '0-3,6' -> [0, 1, 2, 3, 6]."""
    cores: set[int] = set()
    try:
        for part in filter(None, (p.strip() for p in text.strip().split(","))):
            low, _, high = part.partition("-")
            first, last = int(low), int(high or low)
            if first < 0 or last < first:
                raise ValueError(part)
            cores.update(range(first, last + 1))
    except ValueError:
        raise CoresError(f"{text!r} is not a CPU list such as '0-3,6'") from None
    if not cores:
        raise CoresError("the CPU list is empty")
    return sorted(cores)


def format_cpu_list(cores: list[int]) -> str:
    return cpu_list(cores)


def usable_cores(host_cpus: int | None = None, env: Mapping[str, str] | None = None) -> list[int]:
    """The cores jobs may use: GANBLR_BENCH_CORES if set (within the host's), else ``range(host_cpus)``,
    else this process's."""
    configured = settings.CORES.get(env)
    if configured:
        try:
            listed = parse_cpu_list(configured)
        except CoresError as err:
            raise CoresError(f"{settings.CORES.name}: {err}") from None
        if host_cpus and listed[-1] >= host_cpus:
            raise CoresError(
                f"{settings.CORES.name} names core {listed[-1]} but the host has {host_cpus} (0-{host_cpus - 1})"
            )
        return listed
    if host_cpus:
        return list(range(host_cpus))
    return sorted(os.sched_getaffinity(0))


def default_lock_dir() -> Path:
    return settings.CORE_LOCKS.get()


@dataclass
class Lease:
    """Cores held for one job; ``close()`` (or the holder's end) gives them back."""

    job: str
    cores: list[int]
    waited_s: float
    _files: list[IO[str]] = field(default_factory=list, repr=False)
    _seen: set[str] = field(default_factory=set, repr=False)
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _id: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False)

    @property
    def peers(self) -> int:
        """Other jobs seen holding cores on this host while this lease was held."""
        return len(self._seen)

    def close(self) -> None:
        self._stop.set()
        for f in self._files:
            f.close()  # closing the descriptor drops its flock
        self._files.clear()

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _try_lock(path: Path) -> IO[str] | None:
    f = open(path, "a+")  # noqa: SIM115 (held open for the lease's life)
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    return f


def holders(folder: Path) -> dict[int, str]:
    """core -> lease id of every core currently leased in ``folder``."""
    held: dict[int, str] = {}
    with open(folder / "allocate.lock", "a+") as gate:
        fcntl.flock(gate, fcntl.LOCK_EX)  # a probe must never make an allocation think a free core is taken
        for path in folder.glob("core-*.lock"):
            _probe(path, held)
    return held


def _probe(path: Path, held: dict[int, str]) -> None:
    probe = _try_lock(path)
    if probe is not None:  # we could lock it: nobody holds it
        probe.close()
        return
    try:
        held[int(path.stem.split("-")[1])] = json.loads(path.read_text() or "{}").get("lease", "")
    except (OSError, ValueError):
        held[int(path.stem.split("-")[1])] = ""


def lease(
    job: str,
    count: int,
    usable: list[int],
    folder: Path,
    *,
    poll_s: float = 0.5,
    watch_s: float = 1.0,
    timeout_s: float | None = None,
) -> Lease:
    """Hold ``count`` of the ``usable`` cores for ``job``, waiting until that many are free."""
    if count < 1:
        raise CoresError(f"cores per job must be at least 1, not {count}")
    if count > len(usable):
        raise CoresError(
            f"a job asks for {count} cores but the host has {len(usable)} usable ({format_cpu_list(usable)})"
        )
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    while True:
        with open(folder / "allocate.lock", "a+") as gate:
            fcntl.flock(gate, fcntl.LOCK_EX)  # one allocation at a time on this host
            taken = []
            for core in usable:
                f = _try_lock(folder / f"core-{core}.lock")
                if f is not None:
                    taken.append((core, f))
                    if len(taken) == count:
                        break
            if len(taken) == count:
                held = Lease(job, [c for c, _ in taken], round(time.monotonic() - started, 3))
                for _, f in taken:
                    f.seek(0)
                    f.truncate()
                    f.write(json.dumps({"lease": held._id, "job": job}))
                    f.flush()
                held._files = [f for _, f in taken]
                break
            for _, f in taken:
                f.close()
        if timeout_s is not None and time.monotonic() - started > timeout_s:
            raise CoresError(f"{job}: no {count} free core(s) among {format_cpu_list(usable)} after {timeout_s:g} s")
        time.sleep(poll_s)

    def watch() -> None:
        while True:
            held._seen.update(h for h in holders(folder).values() if h and h != held._id)
            if held._stop.wait(watch_s):
                return

    threading.Thread(target=watch, name=f"cores-{job}", daemon=True).start()
    return held


@contextlib.contextmanager
def pinned(
    job_folder: Path | None,
    job: str,
    count: int,
    host_cpus: int | None,
    host: str | None,
    engine_id: str = "local",
    say: Callable[[str], None] = print,
) -> Iterator[list[int]]:
    """Lease ``count`` cores of the host for ``job``; yield them; write the job's placement.json (if its
    folder is given) when done.

    The lock folder is per Docker engine (``engine_id``), so two hosts never share core locks.
    """
    usable = usable_cores(host_cpus)
    folder = default_lock_dir() / "".join(ch if ch.isalnum() else "_" for ch in engine_id)
    held = lease(job, count, usable, folder)
    if held.waited_s > LEASE_WAIT_WARNING_S:
        say(
            f"warning: {job} waited {held.waited_s:.0f} s for {count} free core(s) after Airflow started it: the "
            f"pool {settings.POOL.get()} has more slots than this host's free cores ({format_cpu_list(usable)})"
        )
    try:
        yield held.cores
    finally:
        held.close()
        if job_folder is not None and Path(job_folder).is_dir():
            layout.write_placement(
                job_folder,
                Placement(
                    cores=held.cores,
                    waited_s=held.waited_s,
                    peers=held.peers,
                    host=host,
                    worker=socket.gethostname(),
                ),
            )
