"""The DAG's task bodies: each step of a run as a plain function on typed values, tested without Airflow.

``dags/ganblr_benchmark.py`` only wires these: it adapts Airflow's context to ``Trigger``, passes the
``RunPlan`` from step to step (parsed once per task), and hands each step its settings and clients. The
steps, in the order they run::

    plan -> fetch_datasets -> build_images -> (the job tasks) -> record -> judge -> problems

The run folder carries what later steps need beyond the plan: ``build_images`` writes the image of every stack
into run.json with ``ready_at`` (the moment the jobs could start), so ``record`` knows whether a job that left
no result never ran (skipped) or died; failures and regressions are read from the warehouse, where ``record``
put them, never again from the job folders.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from ganblr_bench import dataset_registration, layout
from ganblr_bench.contract import ImageFacts, JobSpec, PlannedJob, RunInfo, RunPlan
from ganblr_bench.errors import ImageError
from ganblr_bench.run import candidate, containers, image, plan, postmortem, queue
from ganblr_bench.settings import Settings
from ganblr_bench.states import Backend, RunKind, Stack, Status, Verdict

Say = Callable[[str], None]


@dataclass(frozen=True)
class Trigger:
    """What Airflow says of the run being planned."""

    run_id: str
    run_type: str  # Airflow's DagRunType, as text: "scheduled", "manual", "asset_triggered", ...
    params: dict[str, Any]
    dag_id: str | None = None
    triggered_by: str | None = None

    @classmethod
    def of(cls, dag_run: Any, params: dict[str, Any]) -> Trigger:
        """From Airflow's DagRun (read by its attribute names only: no Airflow import here)."""
        how = getattr(dag_run, "triggered_by", None)
        who = getattr(dag_run, "triggering_user_name", None)
        by = " ".join(str(x).rsplit(".", 1)[-1] for x in (how, who) if x)
        return cls(dag_run.run_id, str(dag_run.run_type), dict(params), dag_run.dag_id, by or None)


class Step(BaseModel):
    """A step's answer, as it crosses to the next task (XCom): JSON both ways."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Recorded(Step):
    run_id: str
    recorded: int
    duplicates: int
    rejected: list[str]


class Judged(Step):
    regressions: list[str]  # of the locked stack: these fail the run
    canary: list[str]  # regressions of the other stacks: news, not a failure
    improvements: list[str]
    previous: str | None  # the baseline's last run
    changed: list[str]  # what changed since it
    report: str  # the report's HTML file


class Problems(Step):
    """What ``alert`` says: ``lines`` fail the run (regressions, failed jobs of the locked stack); ``canary``
    lines are only printed."""

    lines: list[str]
    canary: list[str]

    def message(self, page: str) -> str:
        return f"{len(self.lines)} problem(s) in this run (report: {page}):\n" + "\n".join(self.lines)


class RunProblems(RuntimeError):
    """The run needs a look: the alert step fails with this, naming each problem and the run's page."""


def run_kind(run_type: str) -> RunKind:
    """A nightly run is 'scheduled'; anything a person or another DAG started is 'manual'."""
    return RunKind.SCHEDULED if run_type.lower().rsplit(".", 1)[-1] == "scheduled" else RunKind.MANUAL


def git_sha(repo: Path) -> str | None:
    """The commit the benchmark code is at, or None outside a git checkout."""
    try:
        out = subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--verify", "HEAD^{commit}"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    sha = out.stdout.strip()
    return sha if out.returncode == 0 and len(sha) == 40 else None


def page_url(base_url: str, run_id: str) -> str:
    """The run's page on the Benchmarks page, for people to click (not a worker's file path)."""
    return f"{base_url.rstrip('/')}/ganblr-bench/runs/{quote(run_id, safe='')}"


# ---------------------------------------------------------------- the steps


def expected_from_history(dsn: str | None, say: Say = print) -> Callable[[list[JobSpec]], dict[str, float]]:
    """The jobs' expected seconds from their series in the warehouse; none (every job from its model's cost),
    said, when the warehouse cannot answer: an estimate never fails a run."""
    from ganblr_bench.warehouse import database

    def read(specs: list[JobSpec]) -> dict[str, float]:
        try:
            with database.connect(dsn or database.read_dsn()) as conn:  # a read: never a new embedded server
                return queue.history(conn, specs)
        except Exception as err:  # any failure to read: the defaults do
            say(f"queue: no history from the warehouse ({type(err).__name__}: {err}); jobs expected from their cost")
            return {}

    return read


def plan_run(conf: Settings, trigger: Trigger, dsn: str | None = None, say: Say = print) -> RunPlan:
    planned = plan.plan_run(
        trigger.params,
        trigger.run_id,
        conf.results_root,
        kind=run_kind(trigger.run_type),
        triggered_by=trigger.triggered_by,
        dag_id=trigger.dag_id,
        backend=conf.backend,
        git_sha=git_sha(conf.build_context),
        history=expected_from_history(dsn, say),
    )
    for job in planned.jobs:
        say(f"queue: {job.name} expected {job.expected_s:.0f} s on {job.cores} core(s)")
    return planned


def fetch_datasets(run: RunPlan, conf: Settings) -> list[str]:
    """Every dataset's verified files into the cache the job containers mount read-only (made, even when every
    dataset ships inside a package: the containers mount it all the same)."""
    conf.cache.mkdir(parents=True, exist_ok=True)
    for name in run.datasets:
        dataset_registration.fill_cache(name, cache=conf.cache)
    return run.datasets


def _update_run(run: RunPlan, **changes: Any) -> RunInfo:
    path = Path(run.folder) / layout.RUN_FILE
    info = layout.load_run(path, path.parent).model_copy(update=changes)
    layout.write_text_atomic(path, info.model_dump_json(indent=2))
    return info


def build_images(
    run: RunPlan, conf: Settings, client: Callable[[], Any] | None, say: Say = print
) -> dict[str, ImageFacts]:
    """The image of every stack of the run, built unless its tag exists (or ``force_rebuild``): our stacks
    (locked, latest, candidate) and the model stack of each generator that has one of its own (an image variant).

    A stack other than ``locked`` whose image does not build has its jobs recorded as failed, and the run goes
    on; the locked image's failure fails the step. The images and the moment the jobs could start go into
    run.json. The process backend builds nothing.
    """
    built: dict[Stack, ImageFacts] = {}
    variants: dict[str, ImageFacts] = {}
    if conf.backend == Backend.DOCKER:
        assert client is not None
        for stack in sorted(run.stacks, key=lambda s: s != Stack.LOCKED):  # the candidate is built on the locked
            try:
                if stack == Stack.CANDIDATE:
                    if Stack.LOCKED not in built or run.candidate is None:
                        raise ImageError("the candidate is built on the locked image, which did not build")
                    facts = candidate.ensure(
                        client(), conf.build_context, built[Stack.LOCKED], run.candidate, run.force_rebuild, say
                    ).facts
                else:
                    facts = image.ensure(
                        client(), conf.build_context, run.force_rebuild, image.stack_args(stack), say
                    ).facts
            except ImageError as err:
                if stack == Stack.LOCKED:
                    raise
                _no_image(run, [j for j in run.of_stack(stack) if plan.variant(j) is None], str(stack), err, say)
                continue
            say(f"{stack} image {facts.ref}: {'cached' if facts.cached else f'built in {facts.build_s} s'}")
            built[stack] = facts
        for variant in sorted({v for j in run.jobs if (v := plan.variant(j)) is not None}):
            try:
                facts = image.ensure_variant(
                    client(), conf.build_context, variant, conf.wheelhouse, run.force_rebuild, say
                ).facts
            except ImageError as err:
                _no_image(run, [j for j in run.jobs if plan.variant(j) == variant], variant, err, say)
                continue
            say(f"{variant} image {facts.ref}: {'cached' if facts.cached else f'built in {facts.build_s} s'}")
            variants[variant] = facts
    _update_run(run, images=built, variants=variants, image=built.get(Stack.LOCKED), ready_at=datetime.now(UTC))
    return {str(k): v for k, v in built.items()} | variants


def _no_image(run: RunPlan, jobs: list[PlannedJob], stack: str, err: ImageError, say: Say) -> None:
    for job in jobs:
        postmortem.complete_missing(
            Path(run.folder), job.name, Status.FAILED, f"the {stack} stack's image did not build: {err}"
        )
    say(f"{stack} image: did not build: {err}")


def container_requests(run: RunPlan, model: str, conf: Settings) -> list[dict[str, Any]]:
    """The containers of ``model``'s jobs, each in the image its stack was built as (a variant's, for a generator
    with a model stack of its own)."""
    info = layout.load_run(Path(run.folder) / layout.RUN_FILE, Path(run.folder))
    images = {str(stack): facts.ref for stack, facts in info.images.items()}
    images |= {variant: facts.ref for variant, facts in info.variants.items()}
    site = containers.DockerSite(conf.host_results_root, conf.host_cache)
    return containers.container_requests(run, model, images, site, conf.heartbeat_s)


def job_folders(run: RunPlan, model: str) -> list[str]:
    return [str(Path(run.folder) / job.name) for job in run.of_model(model)]


def record(
    run: RunPlan, conf: Settings, dsn: str | None, client: Callable[[], Any] | None, say: Say = print
) -> Recorded:
    """Settle every job (a result for each, however it ended), stamp the run's end, record it all."""
    from ganblr_bench.warehouse import store

    folder = Path(run.folder)
    if conf.backend == Backend.DOCKER and client is not None:
        for line in containers.settle_containers(client, folder, run.key):
            say(f"unsettled: {line}")
    info = layout.load_run(folder / layout.RUN_FILE, folder)
    postmortem.complete_all_missing(folder, info)
    _update_run(run, finished_at=datetime.now(UTC))
    outcome = store.record_paths([folder], dsn=dsn)  # raises Spooled: the task's retry replays
    for problem in outcome.rejected:
        say(f"rejected: {problem}")
    say(f"run {run.key}: {outcome}")
    return Recorded(
        run_id=run.run_id, recorded=outcome.recorded, duplicates=outcome.duplicates, rejected=outcome.rejected
    )


def judge(run: RunPlan, conf: Settings, dsn: str | None, say: Say = print) -> Judged:
    """Judge the run against its history (findings go to the warehouse) and write its report."""
    from ganblr_bench.analysis import report, trends
    from ganblr_bench.present import report as rendered
    from ganblr_bench.warehouse import database

    with database.connect(dsn) as conn:
        found = trends.detect(conn, run.run_id, conf.thresholds)
        built = report.build(conn, run.run_id, thresholds=conf.thresholds)
    paths = rendered.write(built, conf.reports_root / run.key)
    say(f"report: {paths['html']}")
    regressions = [d for d in found if d.finding.verdict == Verdict.REGRESSION]
    return Judged(
        regressions=[str(d) for d in regressions if d.stack == Stack.LOCKED],
        canary=[str(d) for d in regressions if d.stack != Stack.LOCKED],
        improvements=[str(d) for d in found if d.finding.verdict == Verdict.IMPROVEMENT],
        previous=built.previous,
        changed=[c.line() for c in built.changed],
        report=str(paths["html"]),
    )


def problems(run: RunPlan, judged: Judged, dsn: str | None) -> Problems:
    """What needs a look: regressions with what changed since the baseline, and failed jobs (from the warehouse)."""
    from ganblr_bench.warehouse import database, views

    with database.connect(dsn) as conn:
        failed = views.rows(
            conn,
            "SELECT job, status, error, stack FROM analytics.failures WHERE run_id = %s ORDER BY job",
            (run.run_id,),
        )
    lines = [f"regression: {r}" for r in judged.regressions]
    if lines and judged.previous:  # a regression comes with its likely causes: what changed since the baseline
        since = f"what changed since run {judged.previous}"
        lines += [f"{since}: {c}" for c in judged.changed] or [f"{since}: nothing recorded (look at the host)"]
    failure = [(f, f"{f['job']}: {f['status']}: {(f['error'] or '').strip()}") for f in failed]
    lines += [f"job failed: {text}" for f, text in failure if f["stack"] == Stack.LOCKED]
    canary = judged.canary + [text for f, text in failure if f["stack"] != Stack.LOCKED]
    return Problems(lines=lines, canary=canary)


def alert(run: RunPlan, judged: Judged, dsn: str | None, base_url: str, say: Say = print) -> None:
    """Print the canary's news; raise RunProblems naming every regression and failed job, with the run's page."""
    found = problems(run, judged, dsn)
    for line in found.canary:
        say(f"canary (latest stack): {line}")
    if found.lines:
        raise RunProblems(found.message(page_url(base_url, run.run_id)))
