"""Retention: one documented policy that keeps the disk bounded and deletes nothing it keeps.

``plan`` decides, ``apply`` deletes; ``ganblr-bench prune`` shows the plan (a dry run) and ``--apply`` carries it
out; the maintenance DAG applies it daily. The policy (each number a setting, docs/operations.md#retention):

- **metrics in PostgreSQL are kept forever**: nothing here touches the warehouse;
- a run's **bulky artefacts** (its jobs' ``synthetic.csv``, earlier tries' results and samples) are kept for
  ``keep_days`` or while the run is one of the last ``keep_runs`` runs of one of its series, whichever keeps more;
  a run with a failed job or a regression keeps them until it is resolved (a later run of the same model,
  dataset and stack with every job ok and no regression) or ``problem_days`` pass;
- a run's **whole folder** and its **report** go after ``folder_days`` (the warehouse holds every figure, and
  ``ganblr-bench report`` writes the report again), under the same exceptions;
- a folder whose run is **not recorded** in the warehouse, or still running, is never touched (the spool or a
  later ``db record`` may still need it);
- **TRTR cache** entries unused for ``trtr_days`` go (a hit refreshes an entry);
- **Airflow task logs** older than ``log_days`` go (the maintenance DAG passes Airflow's log folder);
- **images**: of our own repository only (by its label, never anything else on the host), the newest
  ``keep_images`` per stack and every image a run of the last ``keep_days`` used are kept; the rest go, and so do
  the dangling build stages 0.1 left behind (its Dockerfile had two stages; it has one now).

Deleting never follows a link: files are unlinked after an ``lstat``, folders only when they are real folders
inside the root they were planned under.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from ganblr_bench import layout, settings

IMAGE_LABEL = "org.opencontainers.image.title=ganblr-bench"  # the bench stage of our Dockerfile
BUILD_STAGE_LABEL = "io.ganblr-bench.stage=build"  # the build stage of 0.1 builds, left dangling
BULKY = ("synthetic.csv", "synthetic.earlier-*.csv", "result.superseded-*.json", "*.earlier-*")


@dataclass(frozen=True)
class Policy:
    keep_days: int = 30
    keep_runs: int = 10
    problem_days: int = 90
    folder_days: int = 365
    trtr_days: int = 30
    log_days: int = 30
    keep_images: int = 3

    @classmethod
    def configured(cls, env: settings.Env | None = None) -> Policy:
        """The policy as the settings give it (GANBLR_BENCH_KEEP_DAYS and the others)."""
        return cls(
            keep_days=settings.KEEP_DAYS.get(env),
            keep_runs=settings.KEEP_RUNS.get(env),
            problem_days=settings.KEEP_PROBLEM_DAYS.get(env),
            folder_days=settings.KEEP_FOLDER_DAYS.get(env),
            trtr_days=settings.TRTR_CACHE_DAYS.get(env),
            log_days=settings.LOG_DAYS.get(env),
            keep_images=settings.KEEP_IMAGES.get(env),
        )


class Kind(StrEnum):
    ARTEFACTS = "artefacts"
    FOLDER = "run folder"
    REPORT = "report"
    TRTR = "TRTR cache entry"
    LOG = "task log"
    IMAGE = "image"


@dataclass(frozen=True)
class Item:
    kind: Kind
    target: str  # a path, or an image id
    bytes: int
    reason: str
    root: str = ""  # the folder it must lie in when deleted


@dataclass
class Plan:
    delete: list[Item] = field(default_factory=list)
    keep: list[Item] = field(default_factory=list)

    def freed(self) -> int:
        return sum(i.bytes for i in self.delete)


@dataclass(frozen=True)
class RunFacts:
    run_id: str
    started_at: datetime
    finished: bool
    problem: bool  # a failed job or a regression
    resolved: bool
    last_of_series: bool  # among the last keep_runs runs of one of its series


_RUNS = """
WITH problems AS (
    SELECT DISTINCT run_id, model, dataset, stack FROM analytics.failures
    UNION
    SELECT DISTINCT run_id, model, dataset, stack FROM analytics.regressions WHERE verdict = 'regression'
),
clean AS (  -- (run, model, dataset, stack) whose jobs were all ok and had no regression
    SELECT j.run_id, j.model, j.dataset, j.stack, min(j.run_started_at) AS at FROM analytics.job_results j
    GROUP BY j.run_id, j.model, j.dataset, j.stack
    HAVING bool_and(j.status = 'ok')
       AND NOT EXISTS (SELECT 1 FROM analytics.regressions g WHERE g.run_id = j.run_id AND g.model = j.model
                       AND g.dataset = j.dataset AND g.stack = j.stack AND g.verdict = 'regression')
),
ranked AS (
    SELECT run_id, rank() OVER (PARTITION BY series_key ORDER BY run_started_at DESC) AS recency
    FROM (SELECT DISTINCT run_id, series_key, run_started_at FROM analytics.job_results) s
)
SELECT r.run_id, r.started_at, r.finished_at IS NOT NULL,
       EXISTS (SELECT 1 FROM problems p WHERE p.run_id = r.run_id),
       NOT EXISTS (
           SELECT 1 FROM problems p WHERE p.run_id = r.run_id AND NOT EXISTS (
               SELECT 1 FROM clean c WHERE c.model = p.model AND c.dataset = p.dataset AND c.stack = p.stack
                 AND c.at > r.started_at)),
       EXISTS (SELECT 1 FROM ranked k WHERE k.run_id = r.run_id AND k.recency <= %(keep_runs)s),
       r.run_key
FROM analytics.runs r
"""


def _size(path: Path) -> int:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 0
    if stat.S_ISDIR(info.st_mode):
        return sum(_size(Path(root) / f) for root, _, files in os.walk(path) for f in files)
    return info.st_size


def _bulky(folder: Path) -> Iterator[Path]:
    for job in layout.job_folders(folder):
        seen = set()
        for pattern in BULKY:
            for path in job.glob(pattern):
                if path not in seen and not path.is_dir():
                    seen.add(path)
                    yield path


def _run_facts(conn: Any, keep_runs: int) -> dict[str, RunFacts]:
    facts = {}
    for run_id, started, finished, problem, resolved, last, key in conn.execute(_RUNS, {"keep_runs": keep_runs}):
        facts[key or layout.run_key(run_id)] = RunFacts(run_id, started, finished, problem, resolved, last)
    return facts


def _why_kept(run: RunFacts, age: timedelta, policy: Policy, days: int) -> str | None:
    if age <= timedelta(days=days):
        return f"younger than {days} days"
    if run.last_of_series:
        return f"one of the last {policy.keep_runs} runs of its series"
    if run.problem and not run.resolved and age <= timedelta(days=policy.problem_days):
        return f"holds a failure or regression, unresolved, younger than {policy.problem_days} days"
    return None


def plan(
    conn: Any,
    results_root: Path,
    reports_root: Path,
    policy: Policy = Policy(),
    now: datetime | None = None,
    logs_root: Path | None = None,
    docker: Any = None,
    image_label: str = IMAGE_LABEL,
) -> Plan:
    """What the policy deletes and keeps now (nothing is touched)."""
    now = now or datetime.now(UTC)
    out = Plan()
    runs = _run_facts(conn, policy.keep_runs)
    results_root, reports_root = Path(results_root), Path(reports_root)
    for folder in (
        sorted(p for p in results_root.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
        if results_root.is_dir()
        else []
    ):
        run = runs.get(folder.name)
        if run is None or not run.finished:
            out.keep.append(
                Item(Kind.FOLDER, str(folder), _size(folder), "not recorded yet" if run is None else "running")
            )
            continue
        age = now - run.started_at
        whole = _why_kept(run, age, policy, policy.folder_days)
        if whole is None:
            out.delete.append(
                Item(Kind.FOLDER, str(folder), _size(folder), f"recorded, {age.days} days old", str(results_root))
            )
            report = reports_root / folder.name
            if report.is_dir() and not report.is_symlink():
                out.delete.append(
                    Item(Kind.REPORT, str(report), _size(report), "its run folder goes", str(reports_root))
                )
            continue
        bulky = list(_bulky(folder))
        artefacts = _why_kept(run, age, policy, policy.keep_days)
        if artefacts is None and bulky:
            for path in bulky:
                out.delete.append(Item(Kind.ARTEFACTS, str(path), _size(path), f"{age.days} days old", str(folder)))
        elif bulky:
            out.keep.append(Item(Kind.ARTEFACTS, str(folder), sum(_size(p) for p in bulky), artefacts or whole))
    cache = layout.trtr_cache(results_root)
    if cache.is_dir() and not cache.is_symlink():
        for entry in cache.iterdir():
            info = os.lstat(entry)
            if stat.S_ISREG(info.st_mode) and now - datetime.fromtimestamp(info.st_mtime, UTC) > timedelta(
                days=policy.trtr_days
            ):
                out.delete.append(
                    Item(Kind.TRTR, str(entry), info.st_size, f"unused for {policy.trtr_days} days", str(cache))
                )
    if logs_root is not None and Path(logs_root).is_dir():
        for base, _, files in os.walk(logs_root):
            for name in files:
                path = Path(base) / name
                info = os.lstat(path)
                if stat.S_ISREG(info.st_mode) and now - datetime.fromtimestamp(info.st_mtime, UTC) > timedelta(
                    days=policy.log_days
                ):
                    out.delete.append(
                        Item(Kind.LOG, str(path), info.st_size, f"older than {policy.log_days} days", str(logs_root))
                    )
    if docker is not None:
        _images(conn, docker, policy, now, out, image_label)
    return out


def _images(conn: Any, docker: Any, policy: Policy, now: datetime, out: Plan, label: str) -> None:
    used = {
        value
        for row in conn.execute(
            "SELECT r.image_ref, r.image_digest, j.job_image FROM analytics.runs r "
            "LEFT JOIN analytics.job_results j USING (run_id) WHERE r.started_at > %s",
            (now - timedelta(days=policy.keep_days),),
        )
        for value in row
        if value
    }
    by_stack: dict[str, list[dict[str, Any]]] = {}
    for image in docker.images(filters={"label": label}):
        labels = image.get("Labels") or {}
        stack, lock = labels.get("io.ganblr-bench.stack", "locked"), labels.get("io.ganblr-bench.models-lock")
        if lock and lock != "requirements-models.lock":  # an image variant's: a stack of its own, kept apart
            stack = lock.removeprefix("requirements-").removesuffix(".lock")
        by_stack.setdefault(stack, []).append(image)
    for stack, images in by_stack.items():
        for i, image in enumerate(sorted(images, key=lambda im: im["Created"], reverse=True)):
            refs = set(image.get("RepoTags") or []) | {image["Id"]}
            name = next(iter(sorted(image.get("RepoTags") or [])), image["Id"][:19])
            if i < policy.keep_images:
                out.keep.append(
                    Item(
                        Kind.IMAGE,
                        name,
                        image.get("Size", 0),
                        f"one of the newest {policy.keep_images} of the {stack} stack",
                    )
                )
            elif refs & used:
                out.keep.append(
                    Item(Kind.IMAGE, name, image.get("Size", 0), f"a run of the last {policy.keep_days} days used it")
                )
            else:
                out.delete.append(
                    Item(Kind.IMAGE, image["Id"], image.get("Size", 0), f"an older {stack} image ({name})")
                )
    for image in docker.images(filters={"label": BUILD_STAGE_LABEL, "dangling": True}):
        out.delete.append(Item(Kind.IMAGE, image["Id"], image.get("Size", 0), "a dangling build stage of our image"))


def _inside(path: Path, root: str) -> bool:
    real, top = os.path.realpath(path.parent), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def apply(todo: Plan, docker: Any = None) -> tuple[int, list[str]]:
    """Delete what the plan says; return the bytes freed and one line per item that could not go (and why)."""
    freed, problems = 0, []
    for item in todo.delete:
        try:
            if item.kind == Kind.IMAGE:
                if docker is None:
                    continue
                docker.remove_image(item.target)
                freed += item.bytes
                continue
            path = Path(item.target)
            if not _inside(path, item.root):
                problems.append(f"{path}: no longer inside {item.root}: left alone")
                continue
            info = os.lstat(path)
            if item.kind in (Kind.FOLDER, Kind.REPORT):
                if not stat.S_ISDIR(info.st_mode):
                    problems.append(f"{path}: no longer a folder: left alone")
                    continue
                shutil.rmtree(path)  # removes links inside, never follows them
            else:
                os.unlink(path)  # a link is unlinked, never followed
            freed += item.bytes
        except FileNotFoundError:
            continue
        except Exception as err:  # an image in use, a permission: say so, go on
            problems.append(
                f"{item.target}: {type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
            )
    if any(i.kind == Kind.LOG for i in todo.delete):
        for root in {i.root for i in todo.delete if i.kind == Kind.LOG}:
            for base, dirs, files in os.walk(root, topdown=False):
                if not dirs and not files and base != root:
                    os.rmdir(base)
    return freed, problems
