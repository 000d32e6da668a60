"""The quick start, parallel against sequential: the same parameters, the same seeds, the run's wall time.

Each repeat runs ``scripts/quickstart.sh`` twice in fresh homes: once as the README's first command runs it (a
real scheduler, LocalExecutor, the branches side by side on cores of their own) and once with
QUICKSTART_SEQUENTIAL=1 (``airflow dags test``: one task after another). Two figures: the DAG run's wall time
(its start to its end as Airflow records it: the target's figure), and the whole command's run step ("the run
took N s": for the parallel run also Airflow's start and stop, for both the metadata's migration; the venv
set-up both share is left out). The ratios are parallel / sequential, repeat by repeat. Then the figures must be the same: every job's synthetic.csv is compared by sha256
between the two runs of a repeat (same seeds, same data, same cores per job).

    .venv/bin/python benchmarks/bench_quickstart.py [--repeats 3] [--conf JSON]

A repeat of the default takes about 13 minutes on 2 cores. Prints each run, then the medians, the spread and
the ratio.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(home: Path, conf: str | None, sequential: bool) -> tuple[float, float, dict[str, str]]:
    env = dict(os.environ, GANBLR_BENCH_HOME=str(home), QUICKSTART_SEQUENTIAL="1" if sequential else "0")
    done = subprocess.run(
        [str(ROOT / "scripts" / "quickstart.sh"), *([conf] if conf else [])],
        capture_output=True,
        text=True,
        env=env,
        timeout=4 * 3600,
    )
    (home.parent / f"{home.name}.log").write_text(done.stdout + done.stderr)
    found = re.search(r"quickstart: the run took (\d+) s", done.stdout)
    if done.returncode != 0 or not found:
        sys.exit(f"bench_quickstart: the {'sequential' if sequential else 'parallel'} run failed; see {home}.log")
    samples = {
        p.parent.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (home / "results").glob("*/*/synthetic.csv")
    }
    run_s = json.loads((home / "quickstart-run.json").read_text())["run_s"]
    return float(run_s), float(found.group(1)), samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--conf", help="run parameters laid over the quick start's defaults (JSON)")
    args = parser.parse_args()
    figures: dict[str, list[float]] = {
        k: [] for k in ("run par", "run seq", "run ratio", "cmd par", "cmd seq", "cmd ratio")
    }
    with tempfile.TemporaryDirectory(prefix="bench-quickstart-") as tmp:
        for i in range(args.repeats):
            # Alternate which goes first, so a drift of the machine's speed does not favour one side.
            order = (False, True) if i % 2 == 0 else (True, False)
            measured = {}
            for seq in order:
                home = Path(tmp) / f"r{i}-{'seq' if seq else 'par'}"
                measured[seq] = run_once(home, args.conf, seq)
                shutil.rmtree(home / "postgres", ignore_errors=True)
            (p_run, p_cmd, p_samples), (s_run, s_cmd, s_samples) = measured[False], measured[True]
            same = p_samples == s_samples and len(p_samples) > 0
            for key, value in (
                ("run par", p_run),
                ("run seq", s_run),
                ("run ratio", p_run / s_run),
                ("cmd par", p_cmd),
                ("cmd seq", s_cmd),
                ("cmd ratio", p_cmd / s_cmd),
            ):
                figures[key].append(value)
            print(
                f"repeat {i + 1}: DAG run parallel {p_run:.0f} s, sequential {s_run:.0f} s, ratio {p_run / s_run:.2f}; "
                f"the command's run step {p_cmd:.0f} s against {s_cmd:.0f} s, ratio {p_cmd / s_cmd:.2f}; "
                f"{len(p_samples)} synthetic samples {'identical' if same else 'DIFFERENT'}",
                flush=True,
            )
            if not same:
                differing = sorted(
                    k for k in p_samples.keys() | s_samples.keys() if p_samples.get(k) != s_samples.get(k)
                )
                print(f"  differing: {', '.join(differing)}")

    def line(name: str, values: list[float], unit: str) -> str:
        return (
            f"{name:21} median {statistics.median(values):7.2f} {unit}  min {min(values):7.2f}  "
            f"max {max(values):7.2f}  (n={len(values)})"
        )

    names = {
        "run par": "DAG run, parallel",
        "run seq": "DAG run, sequential",
        "run ratio": "DAG run, ratio",
        "cmd par": "run step, parallel",
        "cmd seq": "run step, sequential",
        "cmd ratio": "run step, ratio",
    }
    for key, values in figures.items():
        print(line(names[key], values, "x" if "ratio" in key else "s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
