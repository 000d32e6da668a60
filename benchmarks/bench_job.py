"""Benchmark of the benchmark job: Adult, GANBLR (k=0) and GANBLR++ at 1 epoch.

Prints per model: startup, fit, sample, peak memory, CPU %, TSTR/TRTR per classifier;
then the harness overhead: the wall time of ``ganblr-bench run`` (minus its evaluation,
which a direct call does not do) against a bare script that imports ganblr, reads the
same rows, fits and samples. Runs as local processes; ``--image TAG`` also runs the jobs
in containers. Not a test: it prints figures.

    .venv/bin/python benchmarks/bench_job.py [--row-limit N] [--image ganblr-bench:dev]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# A bare ganblr call: the same data preparation and fit/sample, no harness.
DIRECT = r"""
import sys, time
from ganblr_bench import compat, datasets
compat.apply()
from ganblr.models import GANBLR, GANBLRPP
import numpy as np, tensorflow as tf
model, row_limit = sys.argv[1], (int(sys.argv[2]) or None)
p = datasets.prepare("adult", seed=0, model=model, row_limit=row_limit)
np.random.seed(0); tf.keras.utils.set_random_seed(0)
x, y = p.train_x.to_numpy(dtype=object, copy=True), p.train_y.to_numpy(dtype=object)
if model == "ganblr":
    m = GANBLR()
else:
    m = GANBLRPP([list(p.train_x.columns).index(c) for c in p.numeric_columns], random_state=0)
m.fit(x, y, k=0, epochs=1, batch_size=32, warmup_epochs=1, verbose=0)
m.sample(len(x), verbose=0)
"""


def wall(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def show(label: str, r: dict) -> None:
    t, res = r["timings"], r["resources"]
    print(
        f"{label:28} startup {t['startup_s']:7.2f} s  fit {t['fit_s']:8.2f} s  sample {t['sample_s']:6.2f} s  "
        f"peak {res['peak_memory_bytes'] / 2**20:7.0f} MiB ({res['memory_source']})  CPU {res['cpu_percent']:5.0f} %"
    )
    print(
        " " * 28
        + "  ".join(
            f"{s['classifier']} TSTR {s['tstr_accuracy']:.3f} / TRTR {s['trtr_accuracy']:.3f}" for s in r["scores"]
        )
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row-limit", type=int, default=0, help="0 = all of Adult (48,842 rows)")
    ap.add_argument("--image", help="also run each job in a container of this image")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-job-"))
    tmp.chmod(0o777)
    bin_dir = Path(sys.executable).parent
    print(f"Adult, 1 epoch, k=0, row limit {args.row_limit or 'none'}, {os.cpu_count()} CPUs\n")
    for model in ("ganblr", "ganblr++"):
        spec = {
            "model": model,
            "dataset": "adult",
            "seed": 0,
            "row_limit": args.row_limit or None,
            "params": {"k": 0, "epochs": 1},
        }
        folder = tmp / model.replace("+", "p")
        folder.mkdir(mode=0o777)
        (folder / "spec.json").write_text(json.dumps(spec))
        harness = wall(
            [str(bin_dir / "ganblr-bench"), "run", "--spec", str(folder / "spec.json"), "--out", str(folder / "local")]
        )
        result = json.loads((folder / "local" / "result.json").read_text())
        show(f"{model} (process)", result)
        direct = wall([sys.executable, "-c", DIRECT, model, str(args.row_limit)])
        comparable = harness - result["timings"]["evaluate_s"]
        print(
            f"{'':28}harness {harness:.2f} s wall, of which evaluation {result['timings']['evaluate_s']:.2f} s; "
            f"direct ganblr {direct:.2f} s; overhead {comparable - direct:+.2f} s "
            f"({100 * (comparable - direct) / direct:+.1f} %)"
        )
        if args.image:
            from ganblr_bench import sources

            cache = sources.fetch("adult").files["train"].path.parent.parent
            out = folder / "container"
            out.mkdir(mode=0o777)
            t = wall(
                [
                    "docker",
                    "run",
                    "--rm",
                    "--network",
                    "none",
                    "--user",
                    f"{os.getuid()}:{os.getgid()}",
                    "-v",
                    f"{cache}:/data/cache:ro",
                    "-v",
                    f"{folder}:/job",
                    args.image,
                    "run",
                    "--spec",
                    "/job/spec.json",
                    "--out",
                    "/job/container",
                ]
            )
            show(f"{model} (container)", json.loads((out / "result.json").read_text()))
            print(f"{'':28}docker run wall {t:.2f} s")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
