"""The figures ganblr-bench compares: one table, read by the detector, the report and the CLI.

Each figure has a key (its name in ``analytics.metric_history`` and in findings), the
column of ``analytics.job_results`` that holds it per job, a label, the unit it is
stored in and the unit it is shown in (with the scale between them), the direction
that is better, and the smallest relative change worth an alert. A test checks this
table against the SQL view's list, so adding a figure is one row here and one in a
migration.
"""

from __future__ import annotations

from dataclasses import dataclass


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


METRICS: tuple[Metric, ...] = (
    Metric("image_build_s", "image build", "s", "lower", 0.10, digits=1, per_run=True),
    Metric("startup_s", "startup", "s", "lower", 0.10),
    Metric("fit_s", "fit", "s", "lower", 0.10),
    Metric("sample_s", "sample", "s", "lower", 0.10),
    Metric("execution_s", "execution (fit + sample)", "s", "lower", 0.10),
    Metric("peak_memory_bytes", "peak memory", "bytes", "lower", 0.10, shown_unit="MiB", scale=2**20, digits=0),
    Metric("cpu_percent", "CPU", "%", "lower", 0.10, digits=0),
    Metric("tstr_accuracy", "TSTR accuracy", "fraction", "higher", 0.02, digits=3, column="tstr_accuracy_mean"),
    Metric("trtr_accuracy", "TRTR accuracy", "fraction", "higher", 0.02, digits=3, column="trtr_accuracy_mean"),
)
BY_KEY = {m.key: m for m in METRICS}

# What the side-by-side tables show (report, CLI, page) and what the trend plots draw.
COMPARED = (
    "image_build_s",
    "startup_s",
    "peak_memory_bytes",
    "cpu_percent",
    "execution_s",
    "tstr_accuracy",
    "trtr_accuracy",
)
TRENDS = ("execution_s", "startup_s", "peak_memory_bytes", "cpu_percent", "tstr_accuracy")


def get(key: str) -> Metric:
    try:
        return BY_KEY[key]
    except KeyError:
        raise KeyError(f"no metric {key!r}; known: {', '.join(BY_KEY)}") from None
