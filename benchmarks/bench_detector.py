"""False alarms and misses of the regression detector, for both baselines (mean/sd and median/MAD), on
seeded histories whose answer is known. Pure computation: ``trends.judge`` as the pipeline calls it, with
the default thresholds (window 10, min history 5, z 3, execution_s's 10 % minimum change). Not a test.

    .venv/bin/python benchmarks/bench_detector.py [--series 400]

Histories (execution seconds around 20 s):
  steady          normal noise, CV 3 %: every alarm is false
  heavy tails     Student-t noise (3 degrees of freedom), same scale: every alarm is false
  outlier nights  steady, plus one night in ten at +60 % (a noisy neighbour): an alarm on the night itself is
                  right, an alarm on any other night is false
  step +20 %      steady, then a lasting slowdown of 20 %: the first slow run must alarm, else a miss
  step after an outlier
                  an outlier night (+60 %) three runs before the same lasting +20 % step
"""

from __future__ import annotations

import argparse
import random
import sys

from ganblr_bench.analysis import trends

WINDOW = trends.Thresholds().window


def student_t(rng: random.Random, df: int) -> float:
    return rng.gauss(0, 1) / (sum(rng.gauss(0, 1) ** 2 for _ in range(df)) / df) ** 0.5


def series(kind: str, rng: random.Random, n: int = 30) -> tuple[list[float], list[bool]]:
    """Values and, per value, whether an alarm there is right."""
    noise = (lambda: rng.gauss(0, 0.6)) if kind != "heavy tails" else (lambda: 0.6 * student_t(rng, 3))
    values, truth = [], []
    step_at = n - 5
    for i in range(n):
        v, right = 20.0 + noise(), False
        if kind == "outlier nights" and rng.random() < 0.1 and i >= WINDOW:
            v, right = v * 1.6, True
        if kind.startswith("step") and i >= step_at:
            v, right = v * 1.2, i == step_at
        if kind == "step after an outlier" and i == step_at - 3:
            v, right = v * 1.6, True
        values.append(v)
        truth.append(right)
    return values, truth


def count(kind: str, baseline: str, how_many: int) -> tuple[int, int, int, int]:
    """(false alarms, judged normal points, misses, regressions to find)."""
    thresholds = trends.Thresholds(baseline=baseline)
    false_alarms = normal = misses = to_find = 0
    for seed in range(how_many):
        rng = random.Random(seed)
        rng.standard_t = lambda df, rng=rng: (
            rng.gauss(0, 1) / ((sum(rng.gauss(0, 1) ** 2 for _ in range(df)) / df) ** 0.5)
        )
        values, truth = series(kind, rng)
        step_at = len(values) - 5
        for i in range(WINDOW, len(values)):
            if kind.startswith("step") and i > step_at:
                continue  # after the step the baseline is mixed; only the first slow run is judged
            found = trends.judge("execution_s", values[max(0, i - WINDOW) : i], values[i], thresholds)
            alarm = found is not None and found.verdict == "regression"
            if kind.startswith("step") and i == step_at:
                to_find += 1
                misses += not alarm
            elif not truth[i]:
                normal += 1
                false_alarms += alarm
    return false_alarms, normal, misses, to_find


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=400, help="seeded histories per kind")
    args = ap.parse_args()
    kinds = ("steady", "heavy tails", "outlier nights", "step +20 %", "step after an outlier")
    print(f"{args.series} seeded histories per kind; window {WINDOW}, z {trends.Thresholds().z_threshold}\n")
    print(f"{'history':24}{'baseline':>10}{'false alarms':>24}{'misses':>20}")
    for kind in kinds:
        for baseline in trends.BASELINES:
            fa, normal, miss, to_find = count(kind, baseline, args.series)
            alarms = f"{fa} of {normal} ({100 * fa / normal:.2f} %)" if normal else "-"
            missed = f"{miss} of {to_find} ({100 * miss / to_find:.0f} %)" if to_find else "-"
            print(f"{kind:24}{baseline:>10}{alarms:>24}{missed:>20}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
