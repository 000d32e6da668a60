"""
### ganblr_benchmark

Nightly, and whenever an engineer triggers it with parameters:

    plan ─► fetch_datasets ─► build_image ─┬─► ganblr      (dataset × seed jobs) ─┬─► record ─► compare ─► alert
                                           ├─► ganblrpp    (dataset × seed jobs) ─┤
                                           ├─► independent (reference: the floor) ┤
                                           └─► naive-bayes (reference)           ─┘

* **plan** validates the parameters (a bad value fails the run here, naming the field) and
  writes the run folder: `run.json` and one `spec.json` per job.
* **build_image** builds the shared image from the repository's Dockerfile, tagged by a hash
  of its inputs, and skips the build when that tag exists; with `stacks` including `latest`,
  also the canary image from the newest releases (a failed canary build fails its jobs only).
* **ganblr / ganblrpp** run the jobs in parallel, each in its own container (`docker`
  backend, no network, memory limit) or process (`process` backend), on cores of its own:
  a job task leases `cores_per_job` cores of the host (no two running jobs share one; a task
  waits while too few are free) and pins its container or process to them.
* **independent / naive-bayes** run the reference generators the same way (the run
  parameter `references` turns them off): every score is read between the floor and TRTR.
* **record** writes the run and every job result, failures included, to PostgreSQL.
* **compare** checks every figure against its history (regressions stored in the warehouse)
  and writes the run's comparison report (HTML and Markdown) beside its results.
* **alert** fails the run, naming them, when a figure regressed or a job failed; notifiers
  (Slack, e-mail) hang on it through `GANBLR_BENCH_NOTIFIER`.

Results: `$GANBLR_BENCH_RESULTS/<run>/<job>/result.json`. Settings: `ganblr_bench.settings`.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, TaskGroup, dag, get_current_context, task

from ganblr_bench import backends, rundir, settings
from ganblr_bench.contract import MODELS, ImageFacts, RunPlan, model_slug
from ganblr_bench.params import param_schemas

CONF = settings.load(default_context=Path(__file__).resolve().parents[1])
# The hook point for Slack, e-mail, ...: GANBLR_BENCH_NOTIFIER names a notifier (docs/operations.md).
_notifier = settings.load_object(CONF.notifier) if CONF.notifier else None
NOTIFIERS = [] if _notifier is None else list(_notifier) if isinstance(_notifier, (list, tuple)) else [_notifier]
METRICS_CONN_ID = "ganblr_bench_metrics"
# Updated when a run's metrics are recorded: analysts' DAGs schedule on it (schedule=[Asset("ganblr_bench_metrics")]);
# each event's extra names the run and what was recorded.
METRICS = Asset("ganblr_bench_metrics")
SITE = backends.DockerSite(CONF.host_results_root, CONF.host_cache)

# Retrying helps with a Docker daemon hiccup or a database blip, never with bad parameters.
TRANSIENT = dict(
    retries=2, retry_delay=timedelta(seconds=20), retry_exponential_backoff=True, max_retry_delay=timedelta(minutes=5)
)


def _metrics_dsn() -> str | None:
    """The metrics database from the Airflow connection, if one is defined (else settings/embedded)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from psycopg.conninfo import make_conninfo

    try:
        conn = BaseHook.get_connection(METRICS_CONN_ID)
    except AirflowNotFoundException:  # not defined: GANBLR_BENCH_DSN or the embedded server
        return None
    parts = {"host": conn.host, "port": conn.port, "user": conn.login, "password": conn.password, "dbname": conn.schema}
    return make_conninfo(**{k: v for k, v in parts.items() if v})


def _git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(CONF.build_context), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def _page_url(run_id: str) -> str:
    """The run's page on the Benchmarks page, for people to click (not a worker's file path)."""
    from urllib.parse import quote

    from airflow.configuration import conf

    base = conf.get("api", "base_url", fallback="http://localhost:8080").rstrip("/")
    return f"{base}/ganblr-bench/runs/{quote(run_id, safe='')}"


def _docker_client():
    from airflow.providers.docker.hooks.docker import DockerHook

    return DockerHook(docker_conn_id=None, base_url=CONF.docker_url).api_client  # no registry login: nothing is pulled


@dag(
    dag_id="ganblr_benchmark",
    schedule=CONF.schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # A hung run fails after this (and notifies): with one active run, a hang would block every later night.
    dagrun_timeout=timedelta(seconds=CONF.run_timeout_s),
    # Any failed step, not only alert, tells someone: the notifiers hang on the run.
    on_failure_callback=NOTIFIERS,
    params={name: Param(default, **schema) for name, (default, schema) in param_schemas().items()},
    default_args={"owner": "ganblr-bench", "retries": 0},
    tags=["ganblr-bench", "benchmark"],
    doc_md=__doc__,
)
def ganblr_benchmark():
    @task(retries=0)
    def plan_run() -> dict:
        ctx = get_current_context()
        run = ctx["dag_run"]
        kind = "scheduled" if str(run.run_type).lower().endswith("scheduled") else "manual"
        who = " ".join(
            str(x) for x in (getattr(run, "triggered_by", None), getattr(run, "triggering_user_name", None)) if x
        )
        return rundir.plan_run(
            dict(ctx["params"]),
            run.run_id,
            CONF.results_root,
            kind=kind,
            triggered_by=who or None,
            dag_id=run.dag_id,
            backend=CONF.backend,
            git_sha=_git_sha(),
        ).model_dump(mode="json")

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=30))
    def fetch_datasets(planned: dict) -> list[str]:
        from ganblr_bench import sources

        for name in RunPlan(**planned).datasets:
            sources.fill_cache(name, cache=CONF.cache)
        return planned["datasets"]

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=60))
    def build_image(planned: dict, fetched: list[str]) -> dict:
        """stack -> image facts; a stack whose image failed to build has its jobs recorded as failed."""
        from ganblr_bench import image

        if CONF.backend != "docker":
            return {}
        plan = RunPlan(**planned)
        force = bool(get_current_context()["params"]["force_rebuild"])
        built = {}
        for stack in dict.fromkeys(plan.stacks.values()):
            try:
                facts = image.ensure(
                    _docker_client(), CONF.build_context, force=force, build_args=image.stack_args(stack), say=print
                ).facts
            except image.ImageError as err:
                if stack == "locked":
                    raise
                backends.fail_stack(plan, stack, f"the {stack} stack's image did not build: {err}")
                continue
            print(f"{stack} image {facts.ref}: {'cached' if facts.cached else f'built in {facts.build_s} s'}")
            built[stack] = facts.model_dump()
        return built

    def docker_branch(model: str, built):
        from bench_operator import BenchDockerOperator

        @task(task_id="jobs")
        def container_requests(planned: dict, built: dict) -> list[dict]:
            images = {s: f["ref"] for s, f in built.items()}
            return backends.container_requests(RunPlan(**planned), model, images, SITE, CONF.heartbeat_s)

        return BenchDockerOperator.partial(
            task_id="run",
            docker_conn_id=None,
            docker_url=CONF.docker_url,
            **backends.container_options(SITE),
            map_index_template="{{ task.labels['" + backends.JOB_LABEL + "'] }}",  # the job's name in the grid
            execution_timeout=timedelta(seconds=CONF.task_timeout_s),
            retries=1,
            retry_delay=timedelta(seconds=30),
        ).expand_kwargs(container_requests(planned, built))

    def process_branch(model: str, built):
        @task(task_id="jobs")
        def job_folders(planned: dict, built: dict) -> list[str]:
            plan = RunPlan(**planned)
            return [str(Path(plan.folder) / job) for job in plan.jobs.get(model, [])]

        @task(
            task_id="run",
            execution_timeout=timedelta(seconds=CONF.task_timeout_s),
            retries=1,
            retry_delay=timedelta(seconds=30),
            map_index_template="{{ job }}",  # the job's name in the grid
        )
        def run_process(folder: str) -> str:
            from airflow.sdk.exceptions import AirflowFailException

            get_current_context()["job"] = Path(folder).name
            try:
                return backends.run_process(Path(folder), CONF.runner, CONF.cache, CONF.task_timeout_s)
            except backends.JobFailed as err:
                if err.retryable:
                    raise
                raise AirflowFailException(str(err)) from err  # another try cannot change the verdict

        return run_process.expand(folder=job_folders(planned, built))

    @task(**TRANSIENT, trigger_rule="all_done", execution_timeout=timedelta(minutes=30), outlets=[METRICS])
    def record(planned: dict) -> dict:
        from ganblr_bench import store

        plan = RunPlan(**planned)
        folder = Path(plan.folder)
        built = get_current_context()["ti"].xcom_pull(task_ids="build_image")
        if CONF.backend == "docker":
            for line in backends.settle_containers(_docker_client, folder, plan.key):
                print(f"unsettled: {line}")
        rundir.complete_all_missing(folder, earlier_step_failed=built is None)
        main = (built or {}).get("locked") or next(iter((built or {}).values()), None)
        rundir.finish_run(folder, ImageFacts(**main) if main else None)
        outcome = store.record_paths([folder], dsn=_metrics_dsn())  # raises Spooled -> retry replays
        for problem in outcome.rejected:
            print(f"rejected: {problem}")
        print(f"run {plan.key}: {outcome}")
        get_current_context()["outlet_events"][METRICS].extra = {
            "run_id": plan.run_id,
            "recorded": outcome.recorded,
            "duplicates": outcome.duplicates,
        }
        return {"recorded": outcome.recorded, "duplicates": outcome.duplicates, "rejected": len(outcome.rejected)}

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=20))
    def compare(planned: dict, recorded: dict) -> dict:
        """Judge the run against its history (findings go to the warehouse) and write its report."""
        from ganblr_bench import database, report, trends

        plan = RunPlan(**planned)
        with database.connect(_metrics_dsn()) as conn:
            thresholds = trends.Thresholds(**CONF.thresholds)
            found = trends.detect(conn, plan.run_id, thresholds)
            built = report.build(conn, plan.run_id, thresholds=thresholds)
        paths = report.write(built, Path(plan.folder) / rundir.REPORT_DIR)
        report.write(built, CONF.reports_root / plan.key)
        print(f"report: {paths['html']}")
        regressions = [d for d in found if d.finding.verdict == "regression"]
        return {
            "regressions": [str(d) for d in regressions if d.stack == "locked"],
            "canary_regressions": [str(d) for d in regressions if d.stack == "latest"],
            "improvements": [str(d) for d in found if d.finding.verdict == "improvement"],
            "previous": built.previous,
            "changed": built.changed,
            "report": str(paths["html"]),
        }

    @task(retries=0, execution_timeout=timedelta(minutes=10))
    def alert(planned: dict, compared: dict) -> None:
        """Fail, naming them, when a figure regressed or a job failed: the run's state tells ops to look.

        The canary (latest stack) warns instead: an upstream release that breaks a model is news for the
        engineers (the report says which versions moved), not a failure of the nightly benchmark.
        """
        folder = Path(planned["folder"])
        for line in compared["canary_regressions"] + rundir.failures(folder, "latest"):
            print(f"canary (latest stack): {line}")
        lines = [f"regression: {r}" for r in compared["regressions"]]
        if lines and compared["previous"]:  # a regression comes with its likely causes: what changed since the baseline
            since = f"what changed since run {compared['previous']}"
            lines += [f"{since}: {c}" for c in compared["changed"]] or [f"{since}: nothing recorded (look at the host)"]
        lines += [f"job failed: {f}" for f in rundir.failures(folder, "locked")]
        if lines:
            raise RuntimeError(
                f"{len(lines)} problem(s) in this run (report: {_page_url(planned['run_id'])}):\n" + "\n".join(lines)
            )

    planned = plan_run()
    built = build_image(planned, fetch_datasets(planned))
    branches = []
    for model in MODELS:
        with TaskGroup(group_id=model_slug(model)):
            branches.append(docker_branch(model, built) if CONF.backend == "docker" else process_branch(model, built))
    recorded = record(planned)
    branches >> recorded
    alert(planned, compare(planned, recorded))


ganblr_benchmark()
