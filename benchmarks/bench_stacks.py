"""Benchmark of "one image or several": per model stack, its image's cold build, size and job startup.

The shared image (requirements-models.lock: GANBLR, GANBLR++) and the katabatic variant (requirements-katabatic.lock:
Katabatic's GANBLR) are each built cold, through the DAG's own build path (``run/image.py``, without the layer
cache: downloads included), interleaved and repeated; then the same small job (Car, 1 epoch, logistic
regression only) runs in each image, repeated, on one core, and its startup (process start to the model ready, as
every result measures it) is read from its result. Prints medians and spreads. Not a test: it prints figures.
Needs the Docker engine (scripts/docker-engine.sh), the base image, the dataset cache holding car (``ganblr-bench
data fetch car``) and the wheelhouse with PyTorch's CPU wheel (GANBLR_BENCH_WHEELHOUSE).

    .venv/bin/python benchmarks/bench_stacks.py [--builds 3] [--jobs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
from pathlib import Path

import docker
from ganblr_bench import settings
from ganblr_bench.layout import load_result
from ganblr_bench.params import parse_params
from ganblr_bench.run import image

ROOT = Path(__file__).resolve().parents[1]
MODELS = {"models": "ganblr", "katabatic": "katabatic-ganblr"}  # a stack, and the generator its job runs


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} ({min(values):.1f}-{max(values):.1f})"


def job_startup(ref: str, model: str, seed: int, cache: Path) -> float:
    spec = parse_params(
        {
            "models": [model],
            "datasets": ["car"],
            "seeds": [seed],
            "epochs": 1,
            "classifiers": ["lr"],
            "references": False,
        }
    ).specs(run="bench-stacks")[0]
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o777)  # the image's user writes there
        (Path(tmp) / "spec.json").write_text(spec.model_dump_json())
        subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--cpuset-cpus", "1", "-v", f"{tmp}:/job",
             "-v", f"{cache}:/data/cache:ro", ref, "run", "--spec", "/job/spec.json", "--out", "/job"],
            check=True, capture_output=True,
        )  # fmt: skip
        return load_result(Path(tmp) / "result.json").timings.startup_s


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--builds", type=int, default=3, help="cold builds of each image")
    parser.add_argument("--jobs", type=int, default=3, help="jobs in each image, for their startup")
    args = parser.parse_args()
    client = docker.APIClient(base_url=settings.DOCKER_URL.get(), timeout=3600)
    wheelhouse = settings.WHEELHOUSE.get()
    builds: dict[str, list[float]] = {s: [] for s in MODELS}
    built = {}
    for i in range(args.builds):
        for stack in MODELS:
            if stack == "models":
                facts = image.ensure(client, ROOT, force=True, cold=True).facts
            else:
                facts = image.ensure_variant(client, ROOT, stack, wheelhouse, force=True, cold=True).facts
            assert facts.cold and facts.build_s, facts
            builds[stack].append(facts.build_s)
            built[stack] = facts
            print(f"build {i + 1}: {stack}: {facts.build_s:.1f} s, {facts.size_bytes / 1e9:.2f} GB", flush=True)
    cache = settings.CACHE.get()
    startups = {s: [job_startup(built[s].ref, m, seed, cache) for seed in range(args.jobs)] for s, m in MODELS.items()}
    print(f"\n{'stack':12}{'lock':30}{'size GB':>9}{'cold build s: median (range)':>30}{'job startup s':>22}")
    for stack in MODELS:
        lock = built[stack].models_lock or "-"
        row = f"{stack:12}{lock:30}{built[stack].size_bytes / 1e9:9.2f}"
        print(f"{row}{spread(builds[stack]):>30}{spread(startups[stack]):>22}")
    for conflict in built["katabatic"].conflicts:
        print(f"conflict: {conflict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
