"""The figures ganblr-bench compares: one table, read by the detector, the report, the store and the CLI.

Each figure has a key (its name in ``analytics.metric_history`` and in findings), a label,
the unit it is stored in and the unit it is shown in (with the scale between them), the
direction that is better, the smallest relative change worth an alert, and where it lives:

- ``column``: a column of ``bench.job_results`` (``analytics.job_results`` shows it per job);
- ``score``: rows of ``bench.scores`` per classifier (the history holds their mean);
- ``job``: rows of the general ``bench.job_metrics`` table (per-phase resources, the job's
  peak, fidelity, privacy, placement): a new figure of this kind is a row here, nothing more.

``watched`` figures are judged by the regression detector; the others are context (a phase's
share, the host's load) that would only raise noise. A test checks this table against the SQL views.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganblr_bench.states import Direction, Source

# A job's phases, in order, and the model's own (the headline resource figures cover these).
PHASES = ("startup", "fit", "sample", "evaluate")
MODEL_PHASES = ("fit", "sample")


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # as stored
    better: Direction
    min_relative_change: float  # below this a change is not worth an alert
    digits: int = 2  # decimals where the unit has no rule of its own
    column: str = ""  # in analytics.job_results; default: the key
    per_run: bool = False  # one value per run (the image build), not per job
    source: Source = Source.COLUMN  # see the module docstring
    watched: bool = True  # judged by the regression detector

    @property
    def min_absolute_change(self) -> float:
        """Below this (in the stored unit) a change is noise however large in percent: a clock's or an allocator's."""
        return {"s": 0.05, "bytes": float(2**20)}.get(self.unit, 0.0)

    @property
    def job_column(self) -> str:
        return self.column or self.key

    def show(self, value: float | None, spread: float | None = None) -> str:
        """The value as people read it, its spread in the same unit if given: '712 MiB', '1.05 GiB',
        '12.41 ± 0.30 s', '4 min 12 s', '0.842', '88 %'."""
        if value is None:
            return "-"
        if self.unit == "bytes":
            scale, unit = _byte_unit(max(abs(value), abs(spread or 0.0)))
            return _with_spread(value / scale, None if spread is None else spread / scale, unit)
        if self.unit == "s":
            if spread is None and abs(value) >= 60:
                return clock(value)
            if abs(value) >= 600:
                return _with_spread(value / 60, None if spread is None else spread / 60, "min")
            return _with_spread(value, spread, "s")
        digits = {"fraction": 3, "%": 0, "count": 0}.get(self.unit, self.digits)
        number = f"{value:.{digits}f}" + ("" if spread is None else f" ± {spread:.{digits}f}")
        return number if self.unit in ("fraction", "count", "load") else f"{number} {self.unit}"


def _byte_unit(size: float) -> tuple[float, str]:
    for scale, unit in ((2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if size >= scale:
            return float(scale), unit
    return 1.0, "bytes"


def _significant(value: float) -> str:
    """Three significant digits, never an exponent: 1.05, 12.4, 712, 1234."""
    size = abs(value)
    digits = 2 if size < 10 else 1 if size < 100 else 0
    if size and size < 1:
        digits = 3 if size >= 0.01 else 4
    return f"{value:.{digits}f}"


def _with_spread(value: float, spread: float | None, unit: str) -> str:
    if spread is None:
        return f"{_significant(value)} {unit}"
    digits = len(_significant(value).partition(".")[2])
    return f"{value:.{digits}f} ± {spread:.{digits}f} {unit}"


def clock(seconds: float) -> str:
    """Seconds as a duration people read: '48.2 s', '4 min 12 s', '1 h 05 min'."""
    if abs(seconds) < 60:
        return f"{_significant(seconds)} s"
    whole = int(round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {secs} s"


def _phase_rows() -> tuple[Metric, ...]:
    """Per phase: CPU seconds and peak resident memory (its wall seconds are the timing columns)."""
    rows = []
    for phase in PHASES:
        rows.append(
            Metric(f"{phase}_cpu_s", f"{phase} CPU time", "s", Direction.LOWER, 0.10, source=Source.JOB, watched=False)
        )
        rows.append(
            Metric(
                f"{phase}_peak_memory_bytes",
                f"{phase} peak memory",
                "bytes",
                Direction.LOWER,
                0.10,
                source=Source.JOB,
                watched=False,
            )
        )
    return tuple(rows)


METRICS: tuple[Metric, ...] = (
    Metric("image_build_s", "image build", "s", Direction.LOWER, 0.10, digits=1, per_run=True),
    Metric("startup_s", "startup", "s", Direction.LOWER, 0.10),
    Metric("fit_s", "fit", "s", Direction.LOWER, 0.10),
    Metric("sample_s", "sample", "s", Direction.LOWER, 0.10),
    Metric("evaluate_s", "evaluation", "s", Direction.LOWER, 0.10, watched=False),
    Metric("execution_s", "execution (fit + sample)", "s", Direction.LOWER, 0.10),
    Metric("peak_memory_bytes", "model peak memory (fit + sample)", "bytes", Direction.LOWER, 0.10),
    Metric("cpu_percent", "model CPU (fit + sample)", "%", Direction.NEITHER, 0.10, digits=0, watched=False),
    Metric("tstr_accuracy", "TSTR accuracy", "fraction", Direction.HIGHER, 0.02, digits=3, column="tstr_accuracy_mean"),
    Metric("trtr_accuracy", "TRTR accuracy", "fraction", Direction.HIGHER, 0.02, digits=3, column="trtr_accuracy_mean"),
    Metric("tstr_macro_f1", "TSTR macro-F1", "fraction", Direction.HIGHER, 0.02, digits=3, source=Source.SCORE),
    Metric("trtr_macro_f1", "TRTR macro-F1", "fraction", Direction.HIGHER, 0.02, digits=3, source=Source.SCORE),
    Metric("tstr_roc_auc", "TSTR ROC AUC", "fraction", Direction.HIGHER, 0.02, digits=3, source=Source.SCORE),
    Metric("trtr_roc_auc", "TRTR ROC AUC", "fraction", Direction.HIGHER, 0.02, digits=3, source=Source.SCORE),
    Metric("column_shapes", "fidelity: column shapes", "fraction", Direction.HIGHER, 0.02, digits=3, source=Source.JOB),
    Metric(
        "column_pair_trends",
        "fidelity: column pair trends",
        "fraction",
        Direction.HIGHER,
        0.02,
        digits=3,
        source=Source.JOB,
    ),
    Metric(
        "dcr_overfitting_protection",
        "privacy: DCR overfitting protection",
        "fraction",
        Direction.HIGHER,
        0.05,
        digits=3,
        source=Source.JOB,
    ),
    Metric(
        "dcr_closer_to_train",
        "privacy: share closer to train than holdout",
        "fraction",
        Direction.LOWER,
        0.05,
        digits=3,
        source=Source.JOB,
        watched=False,
    ),
    Metric(
        "dcr_train_median",
        "privacy: median DCR to train",
        "fraction",
        Direction.HIGHER,
        0.05,
        digits=3,
        source=Source.JOB,
        watched=False,
    ),
    Metric(
        "dcr_holdout_median",
        "privacy: median DCR to holdout",
        "fraction",
        Direction.HIGHER,
        0.05,
        digits=3,
        source=Source.JOB,
        watched=False,
    ),
    Metric("job_peak_memory_bytes", "job peak memory (container)", "bytes", Direction.LOWER, 0.10, source=Source.JOB),
    Metric("job_cpu_s", "job CPU time", "s", Direction.LOWER, 0.10, source=Source.JOB, watched=False),
    *_phase_rows(),
    Metric("cores", "cores (own)", "count", Direction.NEITHER, 0.0, digits=0, source=Source.JOB, watched=False),
    Metric(
        "peer_jobs",
        "jobs beside it on the host",
        "count",
        Direction.NEITHER,
        0.0,
        digits=0,
        source=Source.JOB,
        watched=False,
    ),
    Metric("core_wait_s", "wait for free cores", "s", Direction.NEITHER, 0.0, source=Source.JOB, watched=False),
    Metric(
        "host_load_1m", "host load (1 min, at end)", "load", Direction.NEITHER, 0.0, source=Source.JOB, watched=False
    ),
)
BY_KEY = {m.key: m for m in METRICS}
WATCHED = tuple(m.key for m in METRICS if m.watched)

# What the side-by-side tables show (report, CLI, page) and what the trend plots draw.
COMPARED = (
    "image_build_s",
    "startup_s",
    "peak_memory_bytes",
    "cpu_percent",
    "execution_s",
    "evaluate_s",
    "job_peak_memory_bytes",
    "tstr_accuracy",
    "trtr_accuracy",
    "tstr_macro_f1",
    "tstr_roc_auc",
    "column_shapes",
    "column_pair_trends",
    "dcr_overfitting_protection",
)
TRENDS = ("execution_s", "startup_s", "peak_memory_bytes", "cpu_percent", "tstr_accuracy", "column_pair_trends")


def get(key: str) -> Metric:
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"no metric {key!r}; known: {', '.join(BY_KEY)}") from None
