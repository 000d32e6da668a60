"""One benchmark job: load, fit, sample, evaluate, measure; write result.json.

The runner is what the container's entrypoint runs (``ganblr-bench run``) and what the
``process`` backend runs without Docker: the same spec in, the same result out. A model
that fails still yields a result (status ``failed`` or ``timeout`` with the error), so a
failure is a recorded figure, not a hole.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import signal
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from ganblr_bench import __version__, figures, generator_catalog, layout, settings
from ganblr_bench.contract import DatasetFacts, Environment, JobResult, JobSpec, Score, Timings, storable
from ganblr_bench.generator_catalog import GeneratorParams
from ganblr_bench.job import usage
from ganblr_bench.job.heartbeat import Heartbeat

if TYPE_CHECKING:
    import pandas as pd

_PACKAGES = (
    "ganblr",
    "tensorflow-cpu",
    "tensorflow",
    "keras",
    "scikit-learn",
    "numpy",
    "pandas",
    "pgmpy",
    "scipy",
    "xgboost",
    "xgboost-cpu",
)


class JobTimeout(BaseException):
    """Raised when a job's deadline passes. A BaseException, so a library's ``except Exception``
    cannot swallow it; should a library still turn it into another error, ``Deadline.expired``
    tells the runner what really happened."""


def versions(extra: tuple[str, ...] = ()) -> dict[str, str]:
    """The versions of the shared stack's packages, and ``extra`` (a generator's own), that are installed."""
    found = {"python": platform.python_version(), "ganblr-bench": __version__}
    for name in _PACKAGES + extra:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


class Deadline:
    """Raise JobTimeout in the main thread ``seconds`` after entering, and again every second until the
    block is left (checked between Python steps).

    A library may swallow one JobTimeout (a broad ``except BaseException`` in a training loop) and go on;
    it meets the next. If the block still runs ``grace`` seconds past the deadline, ``last_resort()``
    is called: the runner writes the timeout result and ends the process, which nothing can swallow.
    """

    def __init__(
        self, seconds: float | None, grace: float = 30.0, last_resort: Callable[[], None] | None = None
    ) -> None:
        self.seconds, self.grace, self.last_resort = seconds, grace, last_resort
        self.expired, self._expired_at = False, 0.0
        self.message = f"job exceeded its timeout of {seconds:g} s" if seconds else ""

    def _expire(self, signum: int, frame: object) -> None:
        if not self.expired:
            self.expired, self._expired_at = True, time.monotonic()
        elif self.last_resort is not None and time.monotonic() - self._expired_at >= self.grace:
            self.last_resort()
        raise JobTimeout(self.message)

    def __enter__(self) -> Deadline:
        if self.seconds:
            self._previous = signal.signal(signal.SIGALRM, self._expire)
            signal.setitimer(signal.ITIMER_REAL, self.seconds, 1.0)  # then every second until left
        return self

    def __exit__(self, *exc: object) -> None:
        if self.seconds:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Progress:
    """What a job got through before it ended: a job cut short keeps what it had."""

    timings: dict[str, float] = field(default_factory=dict)
    facts: DatasetFacts | None = None
    scores: list[Score] = field(default_factory=list)
    quality: dict[str, float] = field(default_factory=dict)
    marginals: list[dict[str, object]] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)


def _work(spec: JobSpec, out_dir: Path, progress: _Progress, phases: usage.Phases, beat: Heartbeat) -> None:
    """Load, fit, sample, write the sample, evaluate: filling ``progress`` as each phase ends, saying so in
    the log (``beat`` announces each phase outside its measured block)."""
    with beat.phase_of("load"):
        loading = time.perf_counter()
        from ganblr_bench.job import generators, preparation, quality, utility

        prepared = preparation.prepare(
            spec.dataset,
            seed=spec.seed,
            model=spec.model,
            row_limit=spec.row_limit,
            test_fraction=spec.test_fraction,
            discretise_bins=spec.discretise_bins,
            numeric_columns=spec.params.numeric_columns,
            definition=spec.dataset_definition,
        )
        info = generator_catalog.get(spec.model)
        generators.seed_everything(spec.seed, tensorflow=info.tensorflow)
        generator = generators.build(
            info,
            GeneratorParams(
                seed=spec.seed,
                numeric_columns=prepared.numeric_columns,
                **spec.params.model_dump(exclude={"numeric_columns"}),
            ),
        )
        if beat.every > 0 and hasattr(generator, "report_epochs_to"):
            generator.report_epochs_to(beat.epochs())
        progress.timings["load_s"] = round(time.perf_counter() - loading, 4)
    phases.startup_done()
    rows = spec.synthetic_rows or len(prepared.train_x)
    progress.facts = DatasetFacts(
        name=spec.dataset,
        checksum=prepared.checksum,
        files=prepared.files,
        train_rows=len(prepared.train_x),
        test_rows=len(prepared.test_x),
        synthetic_rows=rows,
        features=prepared.train_x.shape[1],
        numeric_columns=prepared.numeric_columns,
        rows_dropped=prepared.rows_dropped,
    )
    with beat.phase_of("fit"), phases("fit"):
        generator.fit(prepared.train_x, prepared.train_y)
    with beat.phase_of("sample"), phases("sample"):
        synthetic_x, synthetic_y = generator.sample(rows)
    target = str(synthetic_y.name)
    synthetic = synthetic_x.assign(**{target: synthetic_y.to_numpy()})
    with layout.create_fresh_text(out_dir / layout.SYNTHETIC_FILE) as fh:  # never through a planted link
        synthetic.to_csv(fh, index=False)
    progress.artifacts["synthetic"] = layout.SYNTHETIC_FILE
    if prepared.bins:  # what GANBLR's bin labels in synthetic.csv stand for, so its sample can be decoded
        bins = {c: {"edges": e, "labels": preparation.bin_names(e)} for c, e in prepared.bins.items()}
        layout.write_text_atomic(out_dir / layout.BINS_FILE, json.dumps({"columns": bins}, indent=2))
        progress.artifacts["bins"] = layout.BINS_FILE
    with beat.phase_of("evaluate"), phases("evaluate"):
        progress.scores = utility.score(
            synthetic_x,
            synthetic_y,
            prepared.train_x,
            prepared.train_y,
            prepared.test_x,
            prepared.test_y,
            prepared.numeric_columns,
            list(spec.classifiers),
            spec.seed,
            utility.TrtrCache.from_env(),
        )
        view, edges = _common_view(
            synthetic,
            prepared.train_x.assign(**{target: prepared.train_y.to_numpy()}),
            prepared.test_x.assign(**{target: prepared.test_y.to_numpy()}),
            prepared.numeric_columns,
            spec.discretise_bins,
        )
        progress.quality = quality.measure(*view, [], spec.seed)
        names = {c: preparation.bin_names(e) for c, e in (prepared.bins | edges).items()}
        progress.marginals = quality.marginals(view[1], view[0], names)


def _common_view(
    synthetic: pd.DataFrame, train: pd.DataFrame, holdout: pd.DataFrame, numeric: list[str], bins: int
) -> tuple[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame], dict[str, list[float]]]:
    """The rows in the view every model's fidelity is measured in: GANBLR's bins (fitted on the real
    training rows) for GANBLR++'s numeric columns too, so the figures compare across models; and the edges of
    the bins it made."""
    from ganblr_bench.job.preparation import bin_edges, discretise

    synthetic, train, holdout = synthetic.copy(), train.copy(), holdout.copy()
    edges = {}
    for column in numeric:
        edges[column] = [float(e) for e in bin_edges(train[column], bins)]
        train[column], holdout[column], synthetic[column] = discretise(
            train[column], [holdout[column], synthetic[column]], bins
        )
    return (synthetic, train, holdout), edges


def _outcome(err: BaseException, deadline: Deadline) -> tuple[str, str]:
    """(status, error) of a job that raised ``err``."""
    if isinstance(err, JobTimeout):
        return "timeout", str(err)
    if isinstance(err, MemoryError):
        return "oom", "MemoryError: the job ran out of memory"
    if deadline.expired:  # the timeout, re-raised by a library as another error
        return "timeout", f"{deadline.message} (surfaced as {type(err).__name__})"
    text = f"{type(err).__name__}: {err}\n" + "".join(traceback.format_exc(limit=-8))
    return "failed", storable(text)  # a NUL, a lone surrogate or a huge message must not cost the result


def _environment(load_at_start: float | None, model: str) -> Environment:
    load_now = usage.host_load()
    known = generator_catalog.GENERATORS.get(model)
    return Environment(
        versions=versions(known.packages if known else ()),
        host_cpus=os.cpu_count(),
        hostname=socket.gethostname(),
        in_container=usage.in_container(),
        image=settings.IMAGE.get(),
        cores=usage.cores(),
        cpuset=usage.cpuset(),
        host_load_1m=None if load_at_start is None or load_now is None else [load_at_start, load_now],
    )


def run(spec: JobSpec, out_dir: Path, process_started: float | None = None) -> JobResult:
    """Run one job and write its result.json (and synthetic sample) into ``out_dir``."""
    process_started = process_started or usage.process_start_time()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    layout.retire_result(out_dir)  # if this try is killed, no earlier try's result may stand in for it
    started_at, load_at_start = _now(), usage.host_load()
    phases, progress = usage.Phases(process_started), _Progress()

    def finish(status: str, error: str | None) -> JobResult:
        timings = progress.timings | {f"{k}_s": v for k, v in phases.seconds.items()}
        if "fit_s" in timings and "sample_s" in timings:
            timings["execution_s"] = round(timings["fit_s"] + timings["sample_s"], 4)
        resources, timings["wall_s"] = usage.usage(process_started, phases)
        result = JobResult(
            job=spec.name,
            spec=spec,
            status=status,
            error=error,
            started_at=started_at,
            finished_at=_now(),
            timings=Timings(**timings),
            resources=resources,
            scores=progress.scores,
            quality=progress.quality,
            marginals=progress.marginals,
            dataset=progress.facts,
            environment=_environment(load_at_start, spec.model),
            artifacts=progress.artifacts,
        )
        layout.write_text_atomic(out_dir / layout.RESULT_FILE, result.model_dump_json(indent=2))
        return result

    def last_resort() -> None:  # the job swallowed every stop for the grace period: record it, end the process
        finish("timeout", f"{deadline.message}; the job ignored the stop, so the runner ended its process")
        print(f"{spec.name}: timeout: {deadline.message} (ended by the runner)", flush=True)
        os._exit(1)

    deadline = Deadline(spec.timeout_s, last_resort=last_resort)
    status, error = "ok", None
    try:
        with deadline, Heartbeat(spec.name, settings.HEARTBEAT_S.get()) as beat:
            _work(spec, out_dir, progress, phases, beat)
    except (JobTimeout, Exception) as err:  # a model crash is a result, recorded with its cause
        status, error = _outcome(err, deadline)
    return finish(status, error)


def summary(result: JobResult) -> str:
    """The one line a job prints: enough to read a log without opening result.json."""
    t, r = result.timings, result.resources
    head = f"{result.job}: {result.status}"
    if result.status != "ok":
        return f"{head}: {(result.error or '').splitlines()[0]}"
    scores = " ".join(f"{s.classifier}={s.tstr_accuracy:.3f}/{s.trtr_accuracy:.3f}" for s in result.scores)
    memory = figures.get("peak_memory_bytes")
    return (
        f"{head} startup={t.startup_s:.2f}s fit={t.fit_s:.2f}s sample={t.sample_s:.2f}s "
        f"evaluate={t.evaluate_s:.2f}s model peak={memory.show(r.peak_memory_bytes)} cpu={r.cpu_percent:.0f}% "
        f"(job peak={memory.show(r.job_peak_memory_bytes)}) accuracy tstr/trtr {scores} "
        f"fidelity={result.quality.get('column_shapes', 0):.3f}/{result.quality.get('column_pair_trends', 0):.3f}"
    )
