"""Benchmark of the image: size and cold build time of the lean image beside a naive build.

Both install the same lock (requirements-models.lock) on the same base image. The naive
build is one stage with nothing removed; the lean one is the repository's Dockerfile
(``--target bench``). Each build is cold (``--no-cache``: downloads included) and repeated;
the script prints the median and spread of the build seconds, and the image sizes. Not a
test: it prints figures. Needs the Docker engine (scripts/docker-engine.sh) and the base image.

    .venv/bin/python benchmarks/bench_image.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NAIVE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY docker/extra-ca/ /tmp/extra-ca/
COPY requirements-models.lock /tmp/
RUN set -eu; bundle=/etc/ssl/certs/ca-certificates.crt; \\
    if ls /tmp/extra-ca/*.crt >/dev/null 2>&1; then cat "$bundle" /tmp/extra-ca/*.crt > /tmp/ca.crt; bundle=/tmp/ca.crt; fi; \\
    python3 -m venv /opt/naive; \\
    PIP_CERT=$bundle /opt/naive/bin/pip install --no-cache-dir --require-hashes --no-deps -r /tmp/requirements-models.lock
COPY pyproject.toml README.md /src/
COPY include/ /src/include/
RUN /opt/naive/bin/pip install --no-cache-dir --no-deps --no-build-isolation /src
ENTRYPOINT ["/opt/naive/bin/ganblr-bench"]
"""


def base_image() -> str:
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("ARG BASE_IMAGE="):
            return line.split("=", 1)[1]
    raise SystemExit("no ARG BASE_IMAGE in the Dockerfile")


def build(context: Path, dockerfile: Path, tag: str, *extra: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            "docker",
            "build",
            "--no-cache",
            "--network",
            "host",
            "-q",
            "-f",
            str(dockerfile),
            "-t",
            tag,
            "--build-arg",
            f"BASE_IMAGE={base_image()}",
            *extra,
            str(context),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
        env={"DOCKER_BUILDKIT": "0", "PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    return time.perf_counter() - started


def size(tag: str) -> int:
    return int(
        subprocess.run(
            ["docker", "image", "inspect", "--format", "{{.Size}}", tag], check=True, capture_output=True, text=True
        ).stdout
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        context = Path(tmp) / "context"
        shutil.copytree(ROOT, context, ignore=shutil.ignore_patterns(".git", ".venv*", "var", "__pycache__"))
        (context / "Dockerfile.naive").write_text(NAIVE)
        (context / ".dockerignore").write_text((ROOT / ".dockerignore").read_text() + "!Dockerfile.naive\n")
        builds = {
            "lean (Dockerfile, --target bench)": ("Dockerfile", "ganblr-bench:bench-lean", ("--target", "bench")),
            "naive (one stage, nothing removed)": ("Dockerfile.naive", "ganblr-bench:bench-naive", ()),
        }
        seconds = {name: [] for name in builds}
        for i in range(args.repeat):
            for name, (dockerfile, tag, extra) in builds.items():
                seconds[name].append(build(context, context / dockerfile, tag, *extra))
                print(f"run {i + 1}: {name}: {seconds[name][-1]:.1f} s", flush=True)
    print(f"\n{'image':38}{'size GB':>9}{'cold build s (median)':>23}{'spread (min-max)':>20}")
    for name, (_, tag, _) in builds.items():
        s = seconds[name]
        print(f"{name:38}{size(tag) / 1e9:9.2f}{statistics.median(s):23.1f}{f'{min(s):.1f}-{max(s):.1f}':>20}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
