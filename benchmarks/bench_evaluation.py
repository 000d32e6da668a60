"""Benchmark of the evaluation's cost against the model's: evaluate_s over fit + sample, TRTR cold and cached.

Each job runs as ``ganblr-bench run`` pinned to core 0 (as a job with one core of its own), with a
fresh TRTR cache: the first run computes TRTR (cold), the next ones read it (what every later job and
run does). Printed per model: the cold run, then the median and range of the cached runs. Not a test.

    GANBLR_BENCH_DATA_MIRROR=../shared/datasets .venv/bin/python benchmarks/bench_evaluation.py \\
        [--dataset adult] [--row-limit 0] [--epochs 10] [--repeat 2] [--models ganblr ganblr++]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path


def main() -> int:
    from bench_job import job_arguments, job_on_core_0

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    job_arguments(ap, row_limit=0, epochs=10, repeat=2, repeat_help="runs with TRTR cached, after the cold one")
    args = ap.parse_args()
    print(f"{args.dataset}, {args.epochs} epochs, row limit {args.row_limit or 'none'}, core 0, all four classifiers\n")
    for model in args.models:
        tmp = Path(tempfile.mkdtemp(prefix="bench-evaluation-"))
        env = {"GANBLR_BENCH_TRTR_CACHE": str(tmp / "trtr")}
        spec = {
            "model": model,
            "dataset": args.dataset,
            "seed": 0,
            "row_limit": args.row_limit or None,
            "params": {"epochs": args.epochs},
        }
        runs = []
        for i in range(1 + args.repeat):
            r = job_on_core_0(tmp, spec, tmp / f"run-{i}", env)
            t = r["timings"]
            runs.append((t["evaluate_s"], t["execution_s"], all(s["trtr_cached"] for s in r["scores"])))
        cold, cached = runs[0], runs[1:]
        print(f"{model}: execution (fit + sample) {cold[1]:.1f} s")
        print(f"  TRTR computed: evaluation {cold[0]:.1f} s = {100 * cold[0] / cold[1]:.1f} % of execution")
        if cached:
            shares = [100 * e / x for e, x, _ in cached]
            assert all(c for _, _, c in cached), "the later runs should have read TRTR from the cache"
            print(
                f"  TRTR cached:   evaluation {statistics.median(e for e, _, _ in cached):.1f} s = "
                f"{statistics.median(shares):.1f} % of execution (range {min(shares):.1f}-{max(shares):.1f} %)\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
