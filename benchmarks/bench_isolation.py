"""Benchmark of isolation: the same job (a) one at a time, (b) two at a time on shared cores,
(c) two at a time on cores of their own; and the harness's overhead against a bare ganblr call.

Each job runs in a container of the image, hardened as the DAG's (``containers.host_config_extras``):
(a) pinned to core 0 with a one-core quota, alone (and, for reference, (a*) alone with every core:
what a model can use when nothing else runs); (b) two copies started together with neither
cpuset nor quota (what DockerOperator's ``cpus`` alone gives: a relative weight); (c) two copies
started together, on cores 0 and 1, one-core quota each (what the DAG's core lease gives).
Printed per mode: median and coefficient of variation (sd / mean) of execution time (fit + sample)
and the model's CPU %, over every job of every repetition; for the pairs, how far apart the two jobs of a
pair are (they ran at the same moment: what one costs the other) beside the CV of the pairs' means (the
machine's drift from one repetition to the next, which moves both cores alike).

Harness overhead: ``ganblr-bench run`` as a process pinned to core 0 (its execution_s) against a bare
script pinned the same way that prepares the same rows and times the same fit + sample; median and
range of the repetitions. Not a test: it prints figures.

    GANBLR_BENCH_DATA_MIRROR=../shared/datasets .venv/bin/python benchmarks/bench_isolation.py \\
        --image ganblr-bench:test [--row-limit 10000] [--epochs 1] [--repeat 5] [--modes a c] [--no-harness]
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

BARE = r"""
import sys, time
from ganblr_bench.job import compat, preparation
compat.apply()
from ganblr.models import GANBLR, GANBLRPP
import numpy as np, tensorflow as tf
model, row_limit, epochs = sys.argv[1], (int(sys.argv[2]) or None), int(sys.argv[3])
p = preparation.prepare("adult", seed=0, model=model, row_limit=row_limit)
np.random.seed(0); tf.keras.utils.set_random_seed(0)
x, y = p.train_x.to_numpy(dtype=object, copy=True), p.train_y.to_numpy(dtype=object)
t0 = time.perf_counter()
if model == "ganblr":
    m = GANBLR()
else:
    m = GANBLRPP([list(p.train_x.columns).index(c) for c in p.numeric_columns], random_state=0)
m.fit(x, y, k=0, epochs=epochs, batch_size=32, warmup_epochs=1, verbose=0)
m.sample(len(x), verbose=0)
print("EXECUTION", time.perf_counter() - t0)
"""


def start(client, image: str, folder: Path, cache: Path, trtr: Path, cores: list[int] | None):
    from bench_job import host_config

    from ganblr_bench import settings
    from ganblr_bench.run import containers

    host = host_config(client, folder, cache, trtr, cores)
    job = containers.CONTAINER_JOB
    container = client.create_container(
        image,
        ["run", "--spec", f"{job}/spec.json", "--out", job],
        user=f"{os.getuid()}:{os.getgid()}",
        environment={settings.TRTR_CACHE.name: containers.CONTAINER_TRTR},
        host_config=host,
    )
    client.start(container)
    return container


def finish(client, container, folder: Path) -> dict:
    code = client.wait(container)["StatusCode"]
    client.remove_container(container, force=True)
    result = json.loads((folder / "result.json").read_text())
    if code != 0 or result["status"] != "ok":
        raise SystemExit(f"job in {folder} ended {code}: {result.get('error')}")
    return result


MODES = ("a", "a*", "b", "c")


def pair_means(times: list[float]) -> list[float]:
    return [(x + y) / 2 for x, y in zip(times[::2], times[1::2])]


def stats(values: list[float]) -> str:
    median = statistics.median(values)
    cv = statistics.stdev(values) / statistics.fmean(values) if len(values) > 1 else 0.0
    return f"{median:8.2f} (CV {100 * cv:4.1f} %)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--image", required=True)
    ap.add_argument("--row-limit", type=int, default=10000, help="0 = all of Adult")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--models", nargs="+", default=["ganblr", "ganblr++"])
    ap.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="(a) is always run: the baseline")
    ap.add_argument("--no-harness", action="store_true", help="skip the harness-vs-bare comparison")
    args = ap.parse_args()
    import docker
    from ganblr_bench import dataset_files

    client = docker.APIClient()
    cache = dataset_files.fetch("adult").files["train"].path.parent.parent
    tmp = Path(tempfile.mkdtemp(prefix="bench-isolation-"))
    tmp.chmod(0o777)
    trtr = tmp / "trtr"
    trtr.mkdir(mode=0o777)
    n = 0

    def folder_for(model: str) -> Path:
        nonlocal n
        n += 1
        folder = tmp / f"{model.replace('+', 'p')}-{n}"
        folder.mkdir(mode=0o777)
        spec = {
            "model": model,
            "dataset": "adult",
            "seed": 0,
            "row_limit": args.row_limit or None,
            "params": {"k": 0, "epochs": args.epochs},
        }
        (folder / "spec.json").write_text(json.dumps(spec))
        return folder

    print(
        f"Adult, {args.epochs} epoch(s), k=0, row limit {args.row_limit or 'none'}, {os.cpu_count()} CPUs, "
        f"{args.repeat} repetitions; image {args.image}\n"
    )
    for model in args.models:
        modes: dict[str, list[dict]] = {m: [] for m in MODES if m == "a" or m in args.modes}
        for _ in range(args.repeat):
            folder = folder_for(model)
            modes["a"].append(finish(client, start(client, args.image, folder, cache, trtr, [0]), folder))
            if "a*" in modes:
                folder = folder_for(model)
                modes["a*"].append(finish(client, start(client, args.image, folder, cache, trtr, None), folder))
            for mode, pinned in (("b", False), ("c", True)):
                if mode in modes:
                    pair = [folder_for(model) for _ in range(2)]
                    started = [
                        start(client, args.image, f, cache, trtr, [i] if pinned else None) for i, f in enumerate(pair)
                    ]
                    modes[mode] += [finish(client, c, f) for c, f in zip(started, pair)]
        print(f"{model}: execution s (fit + sample) and the model's CPU %, median (CV)")
        names = {
            "a": "(a) one at a time, own core",
            "a*": "(a*) one at a time, every core",
            "b": "(b) two at a time, shared",
            "c": "(c) two at a time, own cores",
        }
        for mode, results in modes.items():
            execution = [r["timings"]["execution_s"] for r in results]
            cpu = [r["resources"]["cpu_percent"] for r in results]
            evaluate = [r["timings"]["evaluate_s"] / r["timings"]["execution_s"] for r in results]
            print(
                f"  {names[mode]:32} execution {stats(execution)}  CPU % {stats(cpu)}  "
                f"evaluation / execution {100 * statistics.median(evaluate):.0f} %"
            )
        # The two jobs of a pair ran at the same moment: how far apart they are is what the other job costs one,
        # while the CV over repetitions also holds the machine's drift between repetitions (both cores alike).
        for mode in [m for m in ("b", "c") if m in modes]:
            times = [r["timings"]["execution_s"] for r in modes[mode]]
            apart = [100 * abs(x - y) / ((x + y) / 2) for x, y in zip(times[::2], times[1::2])]
            print(
                f"  {names[mode]}: the two jobs of a pair {statistics.median(apart):.1f} % apart (median; max "
                f"{max(apart):.1f} %); pair means over repetitions CV "
                f"{100 * statistics.stdev(pair_means(times)) / statistics.fmean(times):.1f} %"
            )
        a = statistics.median(r["timings"]["execution_s"] for r in modes["a"])
        for mode in [m for m in modes if m != "a"]:
            m = statistics.median(r["timings"]["execution_s"] for r in modes[mode])
            print(f"  {names[mode]} vs (a): median execution {100 * (m - a) / a:+.1f} %")

        harness, bare = [], []
        for _ in range(0 if args.no_harness else args.repeat):
            folder = folder_for(model)
            env = os.environ | {"GANBLR_BENCH_TRTR_CACHE": str(trtr)}
            runner = str(Path(sys.executable).parent / "ganblr-bench")
            subprocess.run(
                ["taskset", "-c", "0", runner, "run", "--spec", str(folder / "spec.json"), "--out", str(folder)],
                check=True,
                capture_output=True,
                env=env,
            )
            harness.append(json.loads((folder / "result.json").read_text())["timings"]["execution_s"])
            out = subprocess.run(
                ["taskset", "-c", "0", sys.executable, "-c", BARE, model, str(args.row_limit), str(args.epochs)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            bare.append(float(out.split("EXECUTION")[1].split()[0]))
        overhead = [100 * (h - b) / b for h, b in zip(harness, bare)]
        if not overhead:
            continue
        print(
            f"  harness vs bare ganblr (process, core 0): execution {statistics.median(harness):.2f} s vs "
            f"{statistics.median(bare):.2f} s; overhead median {statistics.median(overhead):+.1f} % "
            f"(range {min(overhead):+.1f} to {max(overhead):+.1f} %)\n"
        )
        time.sleep(1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
