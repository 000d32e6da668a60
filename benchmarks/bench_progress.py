"""Benchmark of what live progress costs a job: execution (fit + sample) with heartbeats off, every 30 s
(the default) and every 1 s (far more often than anyone needs), interleaved, pinned to core 0.

Heartbeats on also means ganblr prints its per-epoch line (verbose=2, read by the epoch reader); off is the
job as it ran before progress existed (verbose=0, no thread). Printed per model and setting: the median
execution seconds, its spread (min-max) and the median's change against off. Not a test.

    GANBLR_BENCH_DATA_MIRROR=../shared/datasets .venv/bin/python benchmarks/bench_progress.py \\
        [--dataset adult] [--row-limit 5000] [--epochs 5] [--repeat 5] [--models ganblr ganblr++]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

SETTINGS = {"off": "0", "every 30 s": "30", "every 1 s": "1"}


def main() -> int:
    from bench_job import job_arguments, job_on_core_0

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    job_arguments(ap, row_limit=5000, epochs=5, repeat=5, repeat_help="runs per setting")
    args = ap.parse_args()
    print(f"{args.dataset}, {args.row_limit} rows, {args.epochs} epochs, core 0, {args.repeat} runs per setting\n")
    for model in args.models:
        tmp = Path(tempfile.mkdtemp(prefix="bench-progress-"))
        spec = {
            "model": model,
            "dataset": args.dataset,
            "seed": 0,
            "row_limit": args.row_limit or None,
            "params": {"epochs": args.epochs},
            "classifiers": ["lr"],
        }
        times: dict[str, list[float]] = {name: [] for name in SETTINGS}
        for i in range(args.repeat):
            for name, every in SETTINGS.items():  # interleaved: drift on the host hits every setting alike
                env = {"GANBLR_BENCH_HEARTBEAT_S": every, "GANBLR_BENCH_TRTR_CACHE": str(tmp / "trtr")}
                result = job_on_core_0(tmp, spec, tmp / f"{i}-{every}", env)
                times[name].append(result["timings"]["execution_s"])
        base = statistics.median(times["off"])
        print(f"{model}:")
        for name, values in times.items():
            median = statistics.median(values)
            print(
                f"  {name:11} execution median {median:7.2f} s (min {min(values):.2f}, max {max(values):.2f})"
                f"  {100 * (median - base) / base:+.1f} % vs off"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
