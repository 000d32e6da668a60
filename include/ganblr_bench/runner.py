"""One benchmark job: load, fit, sample, evaluate, measure; write result.json.

The runner is what the container's entrypoint runs (``ganblr-bench run``) and what the
``process`` backend runs without Docker: the same spec in, the same result out. A model
that fails still yields a result (status ``failed`` or ``timeout`` with the error), so a
failure is a recorded figure, not a hole.
"""

from __future__ import annotations

import os
import platform
import signal
import socket
import time
import traceback
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

from . import __version__, measure
from .contract import (
    RESULT_FILE, DatasetFacts, Environment, JobResult, JobSpec, Resources, Score, Timings, write_json_atomic,
)

SYNTHETIC_FILE = "synthetic.csv"
IMAGE_ENV = "GANBLR_BENCH_IMAGE"
_PACKAGES = ("ganblr", "tensorflow-cpu", "tensorflow", "keras", "scikit-learn", "numpy", "pandas", "pgmpy",
             "scipy", "xgboost", "xgboost-cpu")


class JobTimeout(BaseException):
    """Raised when a job's deadline passes. A BaseException, so a library's ``except Exception``
    cannot swallow it; should a library still turn it into another error, ``Deadline.expired``
    tells the runner what really happened."""


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "ganblr-bench": __version__}
    for name in _PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


class Deadline:
    """Raise JobTimeout in the main thread ``seconds`` after entering (checked between Python steps)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds, self.expired = seconds, False
        self.message = f"job exceeded its timeout of {seconds:g} s" if seconds else ""

    def _expire(self, signum, frame) -> None:
        self.expired = True
        raise JobTimeout(self.message)

    def __enter__(self) -> Deadline:
        if self.seconds:
            self._previous = signal.signal(signal.SIGALRM, self._expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc) -> None:
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def run(spec: JobSpec, out_dir: Path, process_started: float | None = None) -> JobResult:
    """Run one job and write its result.json (and synthetic sample) into ``out_dir``."""
    process_started = process_started or measure.process_start_time()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    started_at = _now()
    watch = measure.Stopwatch()
    timings: dict[str, float | None] = {}
    facts = None
    scores: list[Score] = []
    artifacts: dict[str, str] = {}
    status, error = "ok", None
    deadline = Deadline(spec.timeout_s)
    try:
        with deadline:
            with watch("load"):
                from . import datasets, evaluate, models

                prepared = datasets.prepare(
                    spec.dataset, seed=spec.seed, model=spec.model, row_limit=spec.row_limit,
                    test_fraction=spec.test_fraction, discretise_bins=spec.discretise_bins,
                    numeric_columns=spec.params.numeric_columns,
                )
                models.seed_everything(spec.seed)
                generator = models.build(
                    spec.model, seed=spec.seed, numeric_columns=prepared.numeric_columns,
                    **spec.params.model_dump(exclude={"numeric_columns"}),
                )
            timings["startup_s"] = round(time.time() - process_started, 4)
            rows = spec.synthetic_rows or len(prepared.train_x)
            facts = DatasetFacts(
                name=spec.dataset, checksum=prepared.checksum, files=prepared.files,
                train_rows=len(prepared.train_x), test_rows=len(prepared.test_x), synthetic_rows=rows,
                features=prepared.train_x.shape[1], numeric_columns=prepared.numeric_columns,
                rows_dropped=prepared.rows_dropped,
            )
            with watch("fit"):
                generator.fit(prepared.train_x, prepared.train_y)
            with watch("sample"):
                synthetic_x, synthetic_y = generator.sample(rows)
            synthetic = synthetic_x.assign(**{str(synthetic_y.name): synthetic_y.to_numpy()})
            synthetic.to_csv(out_dir / SYNTHETIC_FILE, index=False)
            artifacts["synthetic"] = SYNTHETIC_FILE
            with watch("evaluate"):
                scores = evaluate.score(
                    synthetic_x, synthetic_y, prepared.train_x, prepared.train_y, prepared.test_x,
                    prepared.test_y, prepared.numeric_columns, list(spec.classifiers), spec.seed,
                )
    except JobTimeout as err:
        status, error = "timeout", str(err)
    except MemoryError:
        status, error = "oom", "MemoryError: the job ran out of memory"
    except Exception as err:  # a model crash is a result, recorded with its cause
        if deadline.expired:  # the timeout, re-raised by a library as another error
            status, error = "timeout", f"{deadline.message} (surfaced as {type(err).__name__})"
        else:
            status = "failed"
            error = f"{type(err).__name__}: {err}\n" + "".join(traceback.format_exc(limit=-8))
    timings.update({f"{k}_s": v for k, v in watch.seconds.items()})
    if "fit_s" in timings and "sample_s" in timings:
        timings["execution_s"] = round(timings["fit_s"] + timings["sample_s"], 4)
    use = measure.usage(process_started)
    timings["wall_s"] = use.wall_seconds
    result = JobResult(
        job=spec.name, spec=spec, status=status, error=error, started_at=started_at, finished_at=_now(),
        timings=Timings(**timings),
        resources=Resources(
            peak_memory_bytes=use.peak_memory_bytes, memory_source=use.memory_source, cpu_seconds=use.cpu_seconds,
            cpu_percent=use.cpu_percent, cpus_available=use.cpus_available,
            cpu_percent_of_available=use.cpu_percent_of_available,
        ),
        scores=scores, dataset=facts,
        environment=Environment(
            versions=versions(), host_cpus=os.cpu_count(), hostname=socket.gethostname(),
            in_container=measure.in_container(), image=os.environ.get(IMAGE_ENV) or None,
        ),
        artifacts=artifacts,
    )
    write_json_atomic(out_dir / RESULT_FILE, result.model_dump_json(indent=2))
    return result


def summary(result: JobResult) -> str:
    """The one line a job prints: enough to read a log without opening result.json."""
    t, r = result.timings, result.resources
    head = f"{result.job}: {result.status}"
    if result.status != "ok":
        return f"{head}: {(result.error or '').splitlines()[0]}"
    scores = " ".join(f"{s.classifier}={s.tstr_accuracy:.3f}/{s.trtr_accuracy:.3f}" for s in result.scores)
    return (f"{head} startup={t.startup_s:.2f}s fit={t.fit_s:.2f}s sample={t.sample_s:.2f}s "
            f"evaluate={t.evaluate_s:.2f}s peak={r.peak_memory_bytes / 2**20:.0f}MiB ({r.memory_source}) "
            f"cpu={r.cpu_percent:.0f}% accuracy tstr/trtr {scores}")
