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
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

SETTINGS = {"off": "0", "every 30 s": "30", "every 1 s": "1"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="adult")
    ap.add_argument("--row-limit", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--models", nargs="+", default=["ganblr", "ganblr++"])
    args = ap.parse_args()
    runner = str(Path(sys.executable).parent / "ganblr-bench")
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
        (tmp / "spec.json").write_text(json.dumps(spec))
        times: dict[str, list[float]] = {name: [] for name in SETTINGS}
        for i in range(args.repeat):
            for name, every in SETTINGS.items():  # interleaved: drift on the host hits every setting alike
                out = tmp / f"{i}-{every}"
                env = os.environ | {"GANBLR_BENCH_HEARTBEAT_S": every, "GANBLR_BENCH_TRTR_CACHE": str(tmp / "trtr")}
                cmd = ["taskset", "-c", "0", runner, "run", "--spec", str(tmp / "spec.json"), "--out", str(out)]
                subprocess.run(cmd, check=True, capture_output=True, env=env)
                times[name].append(json.loads((out / "result.json").read_text())["timings"]["execution_s"])
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
