"""A year of nights, simulated: does the disk level off under the retention policy?

Each night of ``--days`` (365): the default nightly matrix (4 generators x car and adult x 3 seeds = 24 jobs) is
written as a run folder from real results re-stamped with the night's date (a real run folder is the template;
each job's synthetic sample is the real one, repeated to the rows a full-size job samples: adult's 32,561 training
rows, car's 1,382), recorded through the real recorder (``store.record_paths``), reported through the real report
(plots included); a lock change once a month adds an image and its TRTR cache entries; then the maintenance
DAG's retention step runs (``retention.plan`` and ``apply`` with the default policy, at that night's date). The
engine's images are counted, not built: a stand-in engine holds their records (a benchmark, not a test; each
counts as the bench image's 1.37 GB, as if no layer were shared).

Printed at day 30, 180 and 365 (and the last): the run folders, the reports, the TRTR cache, the database and
the images the policy keeps. They must level off, not grow with the nights. Uses a fresh embedded database (or
GANBLR_BENCH_DSN) in a temporary folder it removes.

    .venv/bin/python benchmarks/bench_year.py RUN_FOLDER [--days 365]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from ganblr_bench import layout
from ganblr_bench.analysis import report, trends
from ganblr_bench.present import report as rendered
from ganblr_bench.run import retention
from ganblr_bench.warehouse import database, migrate, store

START = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)
ROWS = {"adult": 32_561, "car": 1_382}
IMAGE_BYTES = int(1.37e9)


class Engine:
    """A stand-in for the Docker engine's image list: what retention reads and removes (images are counted)."""

    def __init__(self) -> None:
        self.images_: list[dict[str, object]] = []

    def add(self, tag: str, created: datetime) -> None:
        labels = {"org.opencontainers.image.title": "ganblr-bench", "io.ganblr-bench.stack": "locked"}
        self.images_.append(
            {
                "Id": f"sha256:{uuid.uuid4().hex}",
                "RepoTags": [tag],
                "Created": created.timestamp(),
                "Size": IMAGE_BYTES,
                "Labels": labels,
            }
        )

    def images(self, filters: dict[str, object]) -> list[dict[str, object]]:
        if filters.get("dangling"):
            return []
        return list(self.images_)

    def remove_image(self, image_id: str) -> None:
        self.images_ = [i for i in self.images_ if i["Id"] != image_id]


def size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink()) if path.exists() else 0


def templates(folder: Path) -> dict[str, Path]:
    found = {}
    for job in layout.job_folders(folder):
        result = layout.load_result(job / layout.RESULT_FILE)
        if result.status == "ok":
            found.setdefault(result.spec.model, job)
    return found


def full_size_sample(sample: Path, rows: int) -> str:
    lines = sample.read_text().splitlines()
    header, body = lines[0], lines[1:] or [""]
    return "\n".join([header] + [body[i % len(body)] for i in range(rows)]) + "\n"


def night(day: int, jobs: dict[str, Path], results: Path, samples: dict[tuple[str, str], str], image: str) -> Path:
    started = START + timedelta(days=day)
    run_id = f"scheduled__{started:%Y-%m-%dT%H:%M:%S}"
    folder = results / layout.run_key(run_id)
    for model, job in jobs.items():
        for dataset in ("car", "adult"):
            for seed in (0, 1, 2):
                result = json.loads((job / layout.RESULT_FILE).read_text())
                spec = result["spec"] | {"dataset": dataset, "seed": seed, "run": folder.name, "job_id": None}
                name = f"{model.replace('+', 'p')}-{dataset}-s{seed}"
                target = folder / name
                target.mkdir(parents=True)
                result.update(
                    job=name,
                    spec=spec,
                    started_at=started.isoformat(),
                    finished_at=(started + timedelta(minutes=5)).isoformat(),
                )
                result["environment"]["image"] = image
                (target / layout.SPEC_FILE).write_text(json.dumps(spec))
                (target / layout.RESULT_FILE).write_text(json.dumps(result))
                (target / layout.SYNTHETIC_FILE).write_text(samples[(model, dataset)])
    run = {
        "run_id": run_id,
        "kind": "scheduled",
        "started_at": started.isoformat(),
        "finished_at": (started + timedelta(minutes=40)).isoformat(),
        "backend": "docker",
        "image": {
            "ref": image,
            "digest": f"sha256:{image[-8:]:0>64}",
            "inputs_hash": image[-8:],
            "build_s": 0,
            "cached": True,
        },
        "params": {"datasets": ["car", "adult"], "seeds": [0, 1, 2]},
        "host": {"name": "bench-1", "cpus": 2},
    }
    (folder / layout.RUN_FILE).write_text(json.dumps(run))
    return folder


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_folder", type=Path, help="a real run folder with ok results of all four models")
    ap.add_argument("--days", type=int, default=365)
    args = ap.parse_args()
    jobs = templates(args.run_folder)
    work = Path(tempfile.mkdtemp(prefix="bench-year-"))
    results, reports = work / "results", work / "reports"
    (results / ".trtr-cache").mkdir(parents=True)
    samples = {(m, d): full_size_sample(j / layout.SYNTHETIC_FILE, ROWS[d]) for m, j in jobs.items() for d in ROWS}
    if not os.environ.get("GANBLR_BENCH_DSN"):  # its own embedded server, in the folder it removes
        os.environ["GANBLR_BENCH_HOME"] = str(work)
    admin = database.dsn().replace(f"/{database.DATABASE}?", "/postgres?")
    name = f"year_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = admin.replace("/postgres?", f"/{name}?")
    engine = Engine()
    checkpoints = sorted({30, 180, 365, args.days} & set(range(1, args.days + 1)))
    print(
        f"{'day':>5}{'run folders':>14}{'reports':>11}{'TRTR cache':>12}{'database':>11}{'images kept':>13}{'s/night':>9}"
    )
    try:
        with psycopg.connect(dsn) as conn:
            migrate.upgrade(conn)
        t0 = time.perf_counter()
        image = "ganblr-bench:inputs-0"
        for day in range(args.days):
            now = START + timedelta(days=day, hours=3)
            if day % 30 == 0:  # a lock change: a new image, and TRTR entries for its libraries
                image = f"ganblr-bench:inputs-{day // 30}"
                engine.add(image, now)
                for i in range(16):
                    entry = results / ".trtr-cache" / f"{day:04d}-{i}.json"
                    entry.write_text(json.dumps({"facts": {"day": day}, "scores": {"accuracy": 0.8}}))
                    os.utime(entry, (now.timestamp(), now.timestamp()))
            folder = night(day, jobs, results, samples, image)
            store.record_paths([folder], dsn, work / "spool")
            with psycopg.connect(dsn) as conn:
                trends.detect(conn, layout.load_run(folder / layout.RUN_FILE).run_id)
                built = report.build(conn, layout.load_run(folder / layout.RUN_FILE).run_id)
            rendered.write(built, reports / folder.name)
            with psycopg.connect(dsn) as conn:
                todo = retention.plan(conn, results, reports, retention.Policy(), now, docker=engine)
            retention.apply(todo, engine)
            if day + 1 in checkpoints:
                with psycopg.connect(dsn) as conn:
                    db = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
                rate = (time.perf_counter() - t0) / (day + 1)
                kept = len(engine.images_)
                print(
                    f"{day + 1:>5}{size(results) / 2**20:>11.0f} MiB{size(reports) / 2**20:>7.0f} MiB"
                    f"{size(results / '.trtr-cache') / 2**10:>8.0f} KiB{db / 2**20:>7.0f} MiB"
                    f"{kept:>4} = {kept * IMAGE_BYTES / 1e9:.1f} GB{rate:>8.2f}"
                )
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        database.stop_embedded(work / "postgres")
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
