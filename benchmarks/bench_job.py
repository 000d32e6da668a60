"""Benchmark of the benchmark job: Adult, GANBLR (k=0) and GANBLR++ at 1 epoch, repeated.

Prints per model: startup, fit, sample, peak memory, CPU %, TSTR/TRTR per classifier;
then the harness overhead: the wall time of ``ganblr-bench run`` (minus its evaluation,
which a direct call does not do) against a bare script that imports ganblr, reads the
same rows, fits and samples. Runs as local processes; ``--image TAG`` also runs the jobs
in containers. Not a test: it prints figures.

    .venv/bin/python benchmarks/bench_job.py [--row-limit N] [--repeat 3] [--image ganblr-bench:dev]

Printed: the median of the runs and their range (min-max). Containers run hardened as the DAG's do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# A bare ganblr call: the same data preparation and fit/sample, no harness.
DIRECT = r"""
import sys, time
from ganblr_bench.job import compat, preparation
compat.apply()
from ganblr.models import GANBLR, GANBLRPP
import numpy as np, tensorflow as tf
model, row_limit = sys.argv[1], (int(sys.argv[2]) or None)
p = preparation.prepare("adult", seed=0, model=model, row_limit=row_limit)
np.random.seed(0); tf.keras.utils.set_random_seed(0)
x, y = p.train_x.to_numpy(dtype=object, copy=True), p.train_y.to_numpy(dtype=object)
if model == "ganblr":
    m = GANBLR()
else:
    m = GANBLRPP([list(p.train_x.columns).index(c) for c in p.numeric_columns], random_state=0)
m.fit(x, y, k=0, epochs=1, batch_size=32, warmup_epochs=1, verbose=0)
m.sample(len(x), verbose=0)
"""


def job_arguments(ap: argparse.ArgumentParser, row_limit: int, epochs: int, repeat: int, repeat_help: str) -> None:
    """The knobs of a benchmark that runs real jobs of both models on one dataset."""
    ap.add_argument("--dataset", default="adult")
    ap.add_argument("--row-limit", type=int, default=row_limit, help="0 = every row")
    ap.add_argument("--epochs", type=int, default=epochs)
    ap.add_argument("--repeat", type=int, default=repeat, help=repeat_help)
    ap.add_argument("--models", nargs="+", default=["ganblr", "ganblr++"])


def job_on_core_0(folder: Path, spec: dict, out: Path, env: dict[str, str]) -> dict:
    """``ganblr-bench run`` of this venv pinned to core 0 (as a job with one core of its own): its result."""
    (folder / "spec.json").write_text(json.dumps(spec))
    runner = str(Path(sys.executable).parent / "ganblr-bench")
    cmd = ["taskset", "-c", "0", runner, "run", "--spec", str(folder / "spec.json"), "--out", str(out)]
    subprocess.run(cmd, check=True, capture_output=True, env=os.environ | env)
    return json.loads((out / "result.json").read_text())


def wall(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - t0


def host_config(client, folder: Path, cache: Path, trtr: Path | None = None, cores: list[int] | None = None):
    """A job container's host config, hardened as the DAG's (containers.host_config_extras); pinned if ``cores``."""
    from ganblr_bench.run import containers

    binds = {
        str(folder): {"bind": containers.CONTAINER_JOB, "mode": "rw"},
        str(cache): {"bind": containers.CONTAINER_CACHE, "mode": "ro"},
    }
    if trtr is not None:
        binds[str(trtr)] = {"bind": containers.CONTAINER_TRTR, "mode": "rw"}
    pin = containers.docker_pinning(cores) if cores else {}
    return client.create_host_config(
        network_mode="none", mem_limit="6g", binds=binds, **containers.host_config_extras("6g"), **pin
    )


def in_container(image: str, folder: Path, cache: Path) -> float:
    """Wall seconds of the job in a container hardened as the DAG's are (containers.host_config_extras)."""
    import docker
    from ganblr_bench.run import containers

    client = docker.APIClient()
    host = host_config(client, folder, cache)
    job = containers.CONTAINER_JOB
    container = client.create_container(
        image,
        ["run", "--spec", f"{job}/spec.json", "--out", f"{job}/container"],
        user=f"{os.getuid()}:{os.getgid()}",
        host_config=host,
    )
    t0 = time.perf_counter()
    client.start(container)
    code = client.wait(container)["StatusCode"]
    seconds = time.perf_counter() - t0
    client.remove_container(container, force=True)
    if code != 0:
        raise SystemExit(f"the container job exited {code}")
    return seconds


def show(label: str, results: list[dict]) -> None:
    """Median (min-max) of each figure over the runs; accuracies are the same every run (same seed)."""
    t = lambda key: [r["timings"][key] for r in results]  # noqa: E731
    res = lambda key: [r["resources"][key] for r in results]  # noqa: E731
    print(
        f"{label:28} startup {spread(t('startup_s'))} s  fit {spread(t('fit_s'))} s  sample {spread(t('sample_s'))} s  "
        f"evaluate {spread(t('evaluate_s'))} s"
    )
    print(
        f"{'':28}peak {spread([v / 2**20 for v in res('peak_memory_bytes')], '{:.0f}')} MiB "
        f"({results[0]['resources']['memory_source']})  CPU {spread(res('cpu_percent'), '{:.0f}')} %"
    )
    print(
        " " * 28
        + "  ".join(
            f"{s['classifier']} TSTR {s['tstr_accuracy']:.3f} / TRTR {s['trtr_accuracy']:.3f}"
            for s in results[0]["scores"]
        )
    )


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    """median (min-max) of repeated runs."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--row-limit", type=int, default=0, help="0 = all of Adult (48,842 rows)")
    ap.add_argument("--image", help="also run each job in a container of this image")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each job; medians and min-max are printed")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-job-"))
    tmp.chmod(0o777)
    bin_dir = Path(sys.executable).parent
    print(
        f"Adult, 1 epoch, k=0, row limit {args.row_limit or 'none'}, {os.cpu_count()} CPUs, {args.repeat} runs each\n"
    )
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
        runs: dict[str, list] = {"process": [], "container": [], "overhead": [], "overhead_pct": [], "docker_wall": []}
        for _ in range(args.repeat):
            harness = wall(
                [
                    str(bin_dir / "ganblr-bench"),
                    "run",
                    "--spec",
                    str(folder / "spec.json"),
                    "--out",
                    str(folder / "local"),
                ]
            )
            result = json.loads((folder / "local" / "result.json").read_text())
            runs["process"].append(result)
            direct = wall([sys.executable, "-c", DIRECT, model, str(args.row_limit)])
            comparable = harness - result["timings"]["evaluate_s"]  # a direct call does not evaluate
            runs["overhead"].append(comparable - direct)
            runs["overhead_pct"].append(100 * (comparable - direct) / direct)
            if args.image:
                from ganblr_bench import dataset_files

                cache = dataset_files.fetch("adult").files["train"].path.parent.parent
                (folder / "container").mkdir(mode=0o777, exist_ok=True)
                runs["docker_wall"].append(in_container(args.image, folder, cache))
                runs["container"].append(json.loads((folder / "container" / "result.json").read_text()))
        for where in ("process", "container"):
            if runs[where]:
                show(f"{model} ({where})", runs[where])
        print(
            f"{'':28}harness overhead vs a bare ganblr fit + sample: {spread(runs['overhead'])} s, "
            f"{spread(runs['overhead_pct'], '{:+.1f}')} %"
        )
        if runs["docker_wall"]:
            print(f"{'':28}docker run wall {spread(runs['docker_wall'])} s")
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
