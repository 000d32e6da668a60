"""Regression detection over the warehouse's history.

A **series** is one model x dataset x watched metric (``metrics.WATCHED``: time, the model's
memory and CPU, the job's peak, every TSTR/TRTR score, fidelity, privacy), on comparable jobs: the same job
configuration (``config_hash``: the spec without seed, name, timeout and stack) on the
same library stack (locked or latest), on hosts with the same CPU count. Each run
contributes one point, the mean over its seeds. The image
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
z 3.0, and each metric's minimum relative change from ``metrics.py`` (10 % for
time/memory/CPU, 2 % for accuracy); an improvement by the same rules is recorded as
such, and does not alert.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field

from . import metrics


@dataclass(frozen=True)
class Thresholds:
    window: int = 10
    min_history: int = 5
    z_threshold: float = 3.0
    min_relative_change: dict[str, float] = field(
        default_factory=lambda: {m.key: m.min_relative_change for m in metrics.METRICS}
    )
    min_spread: float = 0.01
    baseline: str = "median"

    def __post_init__(self):
        if self.window < 1 or self.min_history < 1 or self.min_history > self.window:
            raise ValueError("need 1 <= min_history <= window")
        if self.z_threshold <= 0 or self.min_spread < 0:
            raise ValueError("z_threshold must be > 0 and min_spread >= 0")
        if self.baseline not in BASELINES:
            raise ValueError(f"baseline must be one of {', '.join(BASELINES)}, not {self.baseline!r}")


BASELINES = ("median", "mean")
MAD_TO_SD = 1.4826  # the median absolute deviation of normal noise times this is its standard deviation


def centre_and_spread(values: list[float], kind: str = "median") -> tuple[float, float]:
    """The baseline of ``values``: (mean, sd) or (median, 1.4826 x MAD). One definition for the detector and
    the report's band."""
    if kind == "mean":
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
    better: str
    verdict: str  # regression | improvement


def judge(metric: str, history: list[float], value: float, thresholds: Thresholds = Thresholds()) -> Finding | None:
    """Compare ``value`` with the last ``window`` points of ``history`` (oldest first)."""
    baseline = history[-thresholds.window :]
    if len(baseline) < thresholds.min_history:
        return None
    mean, stdev = centre_and_spread(baseline, thresholds.baseline)  # the centre and spread of that baseline
    spread = max(stdev, abs(mean) * thresholds.min_spread, 1e-12)
    direction = metrics.get(metric).better
    worse_by = (value - mean) if direction == "lower" else (mean - value)  # > 0: worse
    z = worse_by / spread
    relative = worse_by / abs(mean) if mean else math.inf
    if abs(z) < thresholds.z_threshold or abs(relative) < thresholds.min_relative_change.get(metric, 0.10):
        return None
    if abs(worse_by) < metrics.get(metric).min_absolute_change:  # e.g. 13 % of a 10 ms sample: timer noise
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
        "regression" if worse_by > 0 else "improvement",
    )


def describe(model: str, dataset: str, f: Finding, stack: str = "locked") -> str:
    """One line an alert can carry: what moved, the new value, the baseline, the change, in the right words."""
    where = f"{model} on {dataset}" + (" (latest stack)" if stack == "latest" else "")
    change = f"{100 * abs(f.relative_change):.1f} % {'worse' if f.verdict == 'regression' else 'better'}"
    return (
        f"{where}: {f.metric} {f.value:.4g} vs baseline {f.baseline_mean:.4g} "
        f"(±{f.baseline_stdev:.2g}, {f.baseline_runs} runs): {change}, z={abs(f.z_score):.1f}"
    )


# ---------------------------------------------------------------- against the warehouse

_SERIES = """
WITH points AS (
    SELECT run_id, run_started_at, model, dataset, metric, config_hash, stack, coalesce(host_cpus, 0) AS host_cpus,
           avg(value) AS value, min(image_inputs_hash) AS image_inputs_hash
    FROM analytics.metric_history
    WHERE (model, dataset, config_hash, stack, coalesce(host_cpus, 0)) IN (
        SELECT model, dataset, config_hash, stack, coalesce(host_cpus, 0) FROM analytics.metric_history
        WHERE run_id = %(run)s)
      AND run_started_at <= (SELECT started_at FROM bench.runs WHERE run_id = %(run)s)
      AND NOT (metric = 'image_build_s' AND value = 0)
    GROUP BY run_id, run_started_at, model, dataset, metric, config_hash, stack, coalesce(host_cpus, 0)
)
SELECT model, dataset, metric, config_hash, stack, host_cpus, run_id, value, image_inputs_hash
FROM points ORDER BY model, dataset, metric, config_hash, stack, host_cpus, run_started_at, run_id
"""

_INSERT = """
INSERT INTO bench.findings (run_id, model, dataset, metric, config_hash, stack, host_cpus, value, baseline_mean,
    baseline_stdev, baseline_runs, z_score, relative_change, better, verdict, image_inputs_hash,
    baseline_image_inputs_hashes)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (run_id, model, dataset, metric, config_hash, stack) DO UPDATE SET
    value = EXCLUDED.value, baseline_mean = EXCLUDED.baseline_mean, baseline_stdev = EXCLUDED.baseline_stdev,
    baseline_runs = EXCLUDED.baseline_runs, z_score = EXCLUDED.z_score, relative_change = EXCLUDED.relative_change,
    verdict = EXCLUDED.verdict, detected_at = now()
"""


@dataclass(frozen=True)
class Detected:
    model: str
    dataset: str
    finding: Finding
    stack: str = "locked"

    def __str__(self) -> str:
        return describe(self.model, self.dataset, self.finding, self.stack)


def detect(conn, run_id: str, thresholds: Thresholds = Thresholds()) -> list[Detected]:
    """Judge every series the run belongs to, store the findings, return them (regressions first)."""
    rows = conn.execute(_SERIES, {"run": run_id}).fetchall()
    series: dict[tuple, list[tuple]] = {}
    for model, dataset, metric, config, stack, cpus, rid, value, image in rows:
        series.setdefault((model, dataset, metric, config, stack, cpus), []).append((rid, value, image))
    found = []
    with conn.transaction():
        conn.execute("DELETE FROM bench.findings WHERE run_id = %s", (run_id,))  # re-detection replaces
        for (model, dataset, metric, config, stack, cpus), points in series.items():
            if metric not in metrics.WATCHED or points[-1][0] != run_id:
                continue
            history = points[:-1]
            finding = judge(metric, [v for _, v, _ in history], points[-1][1], thresholds)
            if finding is None:
                continue
            images = sorted({img for _, _, img in history[-thresholds.window :] if img})
            conn.execute(
                _INSERT,
                (
                    run_id,
                    model,
                    dataset,
                    metric,
                    config,
                    stack,
                    cpus,
                    finding.value,
                    finding.baseline_mean,
                    finding.baseline_stdev,
                    finding.baseline_runs,
                    finding.z_score,
                    finding.relative_change,
                    finding.better,
                    finding.verdict,
                    points[-1][2],
                    images,
                ),
            )
            found.append(Detected(model, dataset, finding, stack))
    return sorted(found, key=lambda d: (d.finding.verdict != "regression", d.model, d.dataset, d.finding.metric))
