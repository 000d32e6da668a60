"""What a job says while it runs, for the people watching its log (Airflow streams a container's output
into the task log as it comes).

A timestamped line when a phase starts and when it ends, and a **heartbeat** every ``every`` seconds while
one runs: the phase, seconds in it, the process's resident memory now, and ``epoch i/n`` when the model
reports its epochs (``EpochReader`` reads ganblr's own "Epoch i/n" lines). A 40-minute fit and a hung job
no longer look the same. The heartbeat is a sleeping thread that wakes once per interval to read
/proc/self/status and print a line; it sits outside the measured phases' clocks, and what it costs the
job is measured by benchmarks/bench_progress.py. ``every`` = 0 turns heartbeats off (phase lines stay).
"""

from __future__ import annotations

import contextlib
import io
import re
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO

from ganblr_bench.job import usage

_EPOCH = re.compile(r"Epoch (\d+)/(\d+)")


class Heartbeat:
    def __init__(self, job: str, every: float, out: IO[str] | None = None) -> None:
        # The stream now: a model's output is redirected while it fits, and the heartbeat must not follow it.
        self.job, self.every, self.out = job, float(every), out or sys.stdout
        self.phase: str | None = None
        self.epoch: tuple[int, int] | None = None
        self._since = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def say(self, text: str) -> None:
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        print(f"{stamp} {self.job}: {text}", file=self.out, flush=True)

    @contextlib.contextmanager
    def phase_of(self, name: str) -> Iterator[None]:
        """Announce a phase; enter it *outside* the measured block (``with beat.phase_of(p), phases(p):``)."""
        self.phase, self.epoch, self._since = name, None, time.monotonic()
        self.say(f"{name} started")
        ok = False
        try:
            yield
            ok = True
        finally:
            took = time.monotonic() - self._since
            self.say(f"{name} {'done' if ok else 'stopped'} after {took:.1f} s")
            self.phase = None

    def beat(self) -> str:
        memory = usage.resident_now()
        parts = [f"heartbeat: {self.phase or 'between phases'}", f"{time.monotonic() - self._since:.0f} s"]
        if memory is not None:
            parts.append(f"memory {memory / 2**20:.0f} MiB")
        if self.epoch:
            parts.append(f"epoch {self.epoch[0]}/{self.epoch[1]} done")
        line = ", ".join(parts)
        self.say(line)
        return line

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.beat()

    def __enter__(self) -> Heartbeat:
        if self.every > 0:
            self._thread = threading.Thread(target=self._run, name="ganblr-bench-heartbeat", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def epochs(self) -> EpochReader:
        return EpochReader(self)


class EpochReader(io.TextIOBase):
    """A stdout for the model: keeps its "Epoch i/n" count for the heartbeat, drops every other byte."""

    def __init__(self, beat: Heartbeat) -> None:
        self.beat = beat

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        for found in _EPOCH.finditer(text):
            self.beat.epoch = (int(found.group(1)), int(found.group(2)))
        return len(text)
