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

# A job's phases, in order, and the model's own (the headline resource figures cover these).
PHASES = ("startup", "fit", "sample", "evaluate")
MODEL_PHASES = ("fit", "sample")


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # as stored
    better: str  # "lower" | "higher"
    min_relative_change: float  # below this a change is not worth an alert
    shown_unit: str = ""  # as shown, after dividing by scale
    scale: float = 1.0
    digits: int = 2
    column: str = ""  # in analytics.job_results; default: the key
    per_run: bool = False  # one value per run (the image build), not per job
    source: str = "column"  # column | score | job (see the module's docstring)
    watched: bool = True  # judged by the regression detector

    @property
    def min_absolute_change(self) -> float:
        """Below this (in the stored unit) a change is noise however large in percent: a clock's or an allocator's."""
        return {"s": 0.05, "bytes": float(2**20)}.get(self.unit, 0.0)

    @property
    def job_column(self) -> str:
        return self.column or self.key

    def show(self, value: float | None, spread: float | None = None) -> str:
        """The value in its shown unit, with its spread if given: '712 MiB', '12.41 ± 0.30 s', '0.842'."""
        if value is None:
            return "-"
        unit = self.shown_unit or self.unit
        number = self.number(value) + ("" if spread is None else f" ± {self.number(spread)}")
        return number if unit == "fraction" else f"{number} {unit}"

    def number(self, value: float | None) -> str:
        return "-" if value is None else f"{value / self.scale:.{self.digits}f}"


_MIB = dict(shown_unit="MiB", scale=2**20, digits=0)


def _phase_rows() -> tuple[Metric, ...]:
    """Per phase: CPU seconds and peak resident memory (its wall seconds are the timing columns)."""
    rows = []
    for phase in PHASES:
        rows.append(Metric(f"{phase}_cpu_s", f"{phase} CPU time", "s", "lower", 0.10, source="job", watched=False))
        rows.append(
            Metric(
                f"{phase}_peak_memory_bytes",
                f"{phase} peak memory",
                "bytes",
                "lower",
                0.10,
                source="job",
                watched=False,
                **_MIB,
            )
        )
    return tuple(rows)


METRICS: tuple[Metric, ...] = (
    Metric("image_build_s", "image build", "s", "lower", 0.10, digits=1, per_run=True),
    Metric("startup_s", "startup", "s", "lower", 0.10),
    Metric("fit_s", "fit", "s", "lower", 0.10),
    Metric("sample_s", "sample", "s", "lower", 0.10),
    Metric("evaluate_s", "evaluation", "s", "lower", 0.10, watched=False),
    Metric("execution_s", "execution (fit + sample)", "s", "lower", 0.10),
    Metric("peak_memory_bytes", "model peak memory (fit + sample)", "bytes", "lower", 0.10, **_MIB),
    Metric("cpu_percent", "model CPU (fit + sample)", "%", "lower", 0.10, digits=0),
    Metric("tstr_accuracy", "TSTR accuracy", "fraction", "higher", 0.02, digits=3, column="tstr_accuracy_mean"),
    Metric("trtr_accuracy", "TRTR accuracy", "fraction", "higher", 0.02, digits=3, column="trtr_accuracy_mean"),
    Metric("tstr_macro_f1", "TSTR macro-F1", "fraction", "higher", 0.02, digits=3, source="score"),
    Metric("trtr_macro_f1", "TRTR macro-F1", "fraction", "higher", 0.02, digits=3, source="score"),
    Metric("tstr_roc_auc", "TSTR ROC AUC", "fraction", "higher", 0.02, digits=3, source="score"),
    Metric("trtr_roc_auc", "TRTR ROC AUC", "fraction", "higher", 0.02, digits=3, source="score"),
    Metric("column_shapes", "fidelity: column shapes", "fraction", "higher", 0.02, digits=3, source="job"),
    Metric("column_pair_trends", "fidelity: column pair trends", "fraction", "higher", 0.02, digits=3, source="job"),
    Metric(
        "dcr_overfitting_protection",
        "privacy: DCR overfitting protection",
        "fraction",
        "higher",
        0.05,
        digits=3,
        source="job",
    ),
    Metric(
        "dcr_closer_to_train",
        "privacy: share closer to train than holdout",
        "fraction",
        "lower",
        0.05,
        digits=3,
        source="job",
        watched=False,
    ),
    Metric(
        "dcr_train_median",
        "privacy: median DCR to train",
        "fraction",
        "higher",
        0.05,
        digits=3,
        source="job",
        watched=False,
    ),
    Metric(
        "dcr_holdout_median",
        "privacy: median DCR to holdout",
        "fraction",
        "higher",
        0.05,
        digits=3,
        source="job",
        watched=False,
    ),
    Metric("job_peak_memory_bytes", "job peak memory (container)", "bytes", "lower", 0.10, source="job", **_MIB),
    Metric("job_cpu_s", "job CPU time", "s", "lower", 0.10, source="job", watched=False),
    *_phase_rows(),
    Metric("cores", "cores (own)", "count", "higher", 0.0, digits=0, source="job", watched=False),
    Metric("peer_jobs", "jobs beside it on the host", "count", "lower", 0.0, digits=0, source="job", watched=False),
    Metric("core_wait_s", "wait for free cores", "s", "lower", 0.0, source="job", watched=False),
    Metric("host_load_1m", "host load (1 min, at end)", "load", "lower", 0.0, source="job", watched=False),
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
