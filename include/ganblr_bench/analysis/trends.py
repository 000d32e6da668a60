"""Regression detection over the warehouse's history.

A **series** is one watched figure (``figures.WATCHED``: time, the model's memory, the job's peak, every
TSTR/TRTR score, fidelity, privacy) of comparable jobs: the same stored series key (``warehouse/series.py``: a
whitelist of the fields that change a measurement: model, dataset and its checksum, the knobs, data sizes,
classifiers, cores, memory limit, backend, stack, host CPUs). Each run contributes one point, the mean over its
seeds; the detector reads only the last ``window`` runs of each series, so its cost does not grow with the
history. The image
is deliberately *not* part of the series key: a new image (a library bump, a code
change) is the usual cause of a regression, so it must be compared with the old one;
findings record the image fingerprints on both sides.

A run's point is a **regression** when, against the baseline of the previous ``window``
successful runs of the series (at least ``min_history`` of them):

- it is worse in the metric's direction (time, memory, CPU: lower is better; accuracy:
  higher is better),
- by more than ``z_threshold`` baseline spreads (the spread is floored at ``min_spread`` x the
  baseline's centre, so a perfectly flat history does not turn noise into alarms), and
- by more than the metric's minimum relative change, and by more than its minimum absolute change
  (50 ms for times, 1 MiB for memory: below that a change is noise, however large in percent).

The baseline is ``mean`` (centre the mean, spread the standard deviation) or ``median`` (centre the
median, spread 1.4826 x the median absolute deviation, which equals the standard deviation for normal
noise but is not moved by one outlier night: after a single slow night, the mean/sd baseline's inflated
spread hides the next real regressions; the median/MAD one does not). benchmarks/bench_detector.py
counts false alarms and misses of both on seeded histories; the numbers behind the default are in
docs/operations.md.

Both tests must pass, as in continuous-benchmarking tools that pair a statistical
threshold with a practical one (a z-score over a lookback window, and a percentage
below which a change is not worth a page). Defaults: window 10, min history 5,
z 3.0, and each metric's minimum relative change from ``figures.py`` (10 % for
time/memory/CPU, 2 % for accuracy); an improvement by the same rules is recorded as
such, and does not alert.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any, NamedTuple

from ganblr_bench import figures
from ganblr_bench.settings import Thresholds
from ganblr_bench.states import Baseline, Direction, Stack, Verdict

DEFAULTS = Thresholds()  # frozen: a shared default is safe
MAD_TO_SD = 1.4826  # the median absolute deviation of normal noise times this is its standard deviation


def centre_and_spread(values: list[float], kind: Baseline = Baseline.MEDIAN) -> tuple[float, float]:
    """The baseline of ``values``: (mean, sd) or (median, 1.4826 x MAD). One definition for the detector and
    the report's band."""
    if kind == Baseline.MEAN:
        return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0
    centre = statistics.median(values)
    return centre, MAD_TO_SD * statistics.median(abs(v - centre) for v in values)


@dataclass(frozen=True)
class Finding:
    metric: str
    value: float
    baseline_mean: float
    baseline_stdev: float
    baseline_runs: int
    z_score: float
    relative_change: float
    better: Direction
    verdict: Verdict


def judge(metric: str, history: list[float], value: float, thresholds: Thresholds = DEFAULTS) -> Finding | None:
    """Compare ``value`` with the last ``window`` points of ``history`` (oldest first)."""
    baseline = history[-thresholds.window :]
    if len(baseline) < thresholds.min_history:
        return None
    mean, stdev = centre_and_spread(baseline, thresholds.baseline)  # the centre and spread of that baseline
    spread = max(stdev, abs(mean) * thresholds.min_spread, 1e-12)
    direction = figures.get(metric).better
    if direction == Direction.NEITHER:  # context, not a goal: nothing to regress
        return None
    worse_by = (value - mean) if direction == Direction.LOWER else (mean - value)  # > 0: worse
    z = worse_by / spread
    relative = worse_by / abs(mean) if mean else math.inf
    if abs(z) < thresholds.z_threshold or abs(relative) < thresholds.min_relative_change.get(metric, 0.10):
        return None
    if abs(worse_by) < figures.get(metric).min_absolute_change:  # e.g. 13 % of a 10 ms sample: timer noise
        return None
    return Finding(
        metric,
        value,
        mean,
        stdev,
        len(baseline),
        round(z, 3),
        round(relative, 4),
        direction,
        Verdict.REGRESSION if worse_by > 0 else Verdict.IMPROVEMENT,
    )


def describe(model: str, dataset: str, f: Finding, stack: Stack = Stack.LOCKED) -> str:
    """One line an alert can carry: what moved, the new value, the baseline, the change, in the right words."""
    where = f"{model} on {dataset}" + ("" if stack == Stack.LOCKED else f" ({stack} stack)")
    change = f"{100 * abs(f.relative_change):.1f} % {'worse' if f.verdict == Verdict.REGRESSION else 'better'}"
    return (
        f"{where}: {f.metric} {f.value:.4g} vs baseline {f.baseline_mean:.4g} "
        f"(±{f.baseline_stdev:.2g}, {f.baseline_runs} runs): {change}, z={abs(f.z_score):.1f}"
    )


# ---------------------------------------------------------------- against the warehouse

# The series of a run's ok jobs (of one stack, if given), each with its last ``depth`` runs up to this one, found
# through the stored series key's index, so the cost is the window's, not the history's; their points are read next
# (analytics.series_history: one per run, series and figure, by the runs' index).
RECENT_RUNS = """
WITH mine AS (
    SELECT DISTINCT series_key FROM analytics.job_results
    WHERE run_id = %(run)s AND status = 'ok' AND (%(stack)s::text IS NULL OR stack = %(stack)s)
)
SELECT m.series_key, r.run_id
FROM mine m CROSS JOIN LATERAL (
    SELECT j.run_id, j.run_started_at FROM analytics.job_results j
    WHERE j.series_key = m.series_key AND j.status = 'ok'
      AND j.run_started_at <= (SELECT started_at FROM analytics.runs WHERE run_id = %(run)s)
    GROUP BY j.run_id, j.run_started_at ORDER BY j.run_started_at DESC, j.run_id DESC LIMIT %(depth)s
) r
"""

_POINTS = """
SELECT model, dataset, metric, series_key, stack, host_cpus, run_id, run_started_at, value, image_inputs_hash
FROM analytics.series_history WHERE run_id = ANY(%(runs)s)
ORDER BY model, dataset, metric, series_key, stack, run_started_at, run_id
"""


def recent_runs(conn: Any, run_id: str, depth: int, stack: Stack | None = None) -> set[tuple[str, str]]:
    """(series key, run id) of the last ``depth`` runs (up to ``run_id``) of every series the run belongs to."""
    rows = conn.execute(RECENT_RUNS, {"run": run_id, "depth": depth, "stack": stack}).fetchall()
    return {(str(k), str(r)) for k, r in rows}


def points(conn: Any, run_id: str, depth: int, stack: Stack | None = None) -> list[tuple[Any, ...]]:
    """The points of the run's series over their last ``depth`` runs: (model, dataset, metric, series key, stack,
    host CPUs, run id, run start, value, image inputs hash), oldest first within each series."""
    wanted = recent_runs(conn, run_id, depth, stack)
    runs = sorted({r for _, r in wanted})
    return [row for row in conn.execute(_POINTS, {"runs": runs}) if (row[3], row[6]) in wanted]


_INSERT = """
INSERT INTO bench.findings (run_id, model, dataset, metric, series_key, stack, host_cpus, value, baseline_mean,
    baseline_stdev, baseline_runs, z_score, relative_change, better, verdict, image_inputs_hash,
    baseline_image_inputs_hashes)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (run_id, model, dataset, metric, series_key, stack) DO UPDATE SET
    value = EXCLUDED.value, baseline_mean = EXCLUDED.baseline_mean, baseline_stdev = EXCLUDED.baseline_stdev,
    baseline_runs = EXCLUDED.baseline_runs, z_score = EXCLUDED.z_score, relative_change = EXCLUDED.relative_change,
    verdict = EXCLUDED.verdict, detected_at = now()
"""


class SeriesKey(NamedTuple):
    """One series: a figure of comparable jobs (the stored series key), named by its model, dataset and stack."""

    model: str
    dataset: str
    stack: Stack
    metric: str
    config: str  # the stored series key
    host_cpus: int


class Point(NamedTuple):
    run_id: str
    value: float
    image: str | None


def series(conn: Any, run_id: str, depth: int = 11) -> dict[SeriesKey, list[Point]]:
    """Every series the run belongs to, its points (one per run: the mean over its seeds) oldest first: the last
    ``depth`` runs up to and including this one."""
    found: dict[SeriesKey, list[Point]] = {}
    for model, dataset, metric, config, stack, cpus, rid, _, value, image in points(conn, run_id, depth):
        key = SeriesKey(model, dataset, Stack(stack), metric, config, cpus)
        found.setdefault(key, []).append(Point(rid, value, image))
    return found


@dataclass(frozen=True)
class Detected:
    model: str
    dataset: str
    finding: Finding
    stack: Stack = Stack.LOCKED

    def __str__(self) -> str:
        return describe(self.model, self.dataset, self.finding, self.stack)


def detect(conn: Any, run_id: str, thresholds: Thresholds = DEFAULTS) -> list[Detected]:
    """Judge every series the run belongs to, store the findings, return them (regressions first)."""
    found = []
    with conn.transaction():
        conn.execute("DELETE FROM bench.findings WHERE run_id = %s", (run_id,))  # re-detection replaces
        for key, points in series(conn, run_id, thresholds.window + 1).items():
            if key.metric not in figures.WATCHED or points[-1].run_id != run_id:
                continue
            history = points[:-1]
            finding = judge(key.metric, [p.value for p in history], points[-1].value, thresholds)
            if finding is None:
                continue
            images = sorted({p.image for p in history[-thresholds.window :] if p.image})
            conn.execute(
                _INSERT,
                (
                    run_id,
                    key.model,
                    key.dataset,
                    key.metric,
                    key.config,
                    key.stack,
                    key.host_cpus,
                    finding.value,
                    finding.baseline_mean,
                    finding.baseline_stdev,
                    finding.baseline_runs,
                    finding.z_score,
                    finding.relative_change,
                    finding.better,
                    finding.verdict,
                    points[-1].image,
                    images,
                ),
            )
            found.append(Detected(key.model, key.dataset, finding, key.stack))
    return sorted(found, key=lambda d: (d.finding.verdict != Verdict.REGRESSION, d.model, d.dataset, d.finding.metric))


@dataclass(frozen=True)
class SeriesStart:
    """A model on a dataset whose series starts with this run, and what changed from the job before it."""

    model: str
    dataset: str
    stack: Stack
    changes: list[tuple[str, Any, Any]]  # (field, before, after)
    before_run: str | None  # the latest earlier run of the model on the dataset, in another series

    def line(self) -> str:
        what = ", ".join(f"{f} {_plain(a)} -> {_plain(b)}" for f, a, b in self.changes) or "no field recorded differs"
        where = f"{self.model} on {self.dataset}" + ("" if self.stack == Stack.LOCKED else f" ({self.stack} stack)")
        if self.before_run is None:
            return f"series started: {where} (its first run)"
        return f"series started: {where}: {what} (since run {self.before_run}; the history before it is not judged)"


def _plain(value: Any) -> str:
    return "-" if value is None else str(value)


_STARTS = """
SELECT mine.model, mine.dataset, mine.stack, mine.series, prior.run_id, prior.series
FROM (SELECT DISTINCT ON (model, dataset, stack) model, dataset, stack, series_key, series, run_started_at
      FROM analytics.job_results WHERE run_id = %(run)s ORDER BY model, dataset, stack, seed) mine
LEFT JOIN LATERAL (
    SELECT j.run_id, j.series_key, j.series FROM analytics.job_results j
    WHERE j.model = mine.model AND j.dataset = mine.dataset AND j.stack = mine.stack
      AND j.run_started_at < mine.run_started_at
    ORDER BY j.run_started_at DESC LIMIT 1
) prior ON true
WHERE prior.run_id IS NULL OR prior.series_key <> mine.series_key
ORDER BY mine.dataset, mine.model, mine.stack
"""


def series_starts(conn: Any, run_id: str) -> list[SeriesStart]:
    """Where the run starts a new series: each such model and dataset, with the fields that changed since the
    latest earlier job of the same model, dataset and stack (or nothing before it at all)."""
    from ganblr_bench.warehouse.series import changed

    found = []
    for model, dataset, stack, mine, before_run, before in conn.execute(_STARTS, {"run": run_id}):
        changes = changed(before or {}, mine or {}) if before_run else []
        found.append(SeriesStart(model, dataset, Stack(stack), changes, before_run))
    return found
