"""
### ganblr_benchmark

Nightly, and whenever an engineer triggers it with parameters:

    plan ─► fetch_datasets ─► build_image ─┬─► ganblr   (dataset × seed jobs) ─┬─► record ─► compare ─► alert
                                           └─► ganblrpp (dataset × seed jobs) ─┘

* **plan** validates the parameters (a bad value fails the run here, naming the field) and
  writes the run folder: `run.json` and one `spec.json` per job.
* **build_image** builds the shared image from the repository's Dockerfile, tagged by a hash
  of its inputs, and skips the build when that tag exists.
* **ganblr / ganblrpp** run the jobs in parallel, each in its own container (`docker`
  backend, no network, memory limit) or process (`process` backend).
* **record** writes the run and every job result, failures included, to PostgreSQL.
* **compare** checks every figure against its history (regressions stored in the warehouse)
  and writes the run's comparison report (HTML and Markdown) beside its results.
* **alert** fails the run, naming them, when a figure regressed or a job failed; notifiers
  (Slack, e-mail) hang on it through `GANBLR_BENCH_NOTIFIER`.

Results: `$GANBLR_BENCH_RESULTS/<run>/<job>/result.json`. Settings: `ganblr_bench.settings`.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Param, TaskGroup, dag, get_current_context, task

from ganblr_bench import plan, settings
from ganblr_bench.contract import RESULT_FILE, ImageFacts, run_param_schemas

CONF = settings.load(default_context=Path(__file__).resolve().parents[1])
# The hook point for Slack, e-mail, ...: GANBLR_BENCH_NOTIFIER names a notifier (docs/operations.md).
_notifier = settings.load_object(CONF.notifier) if CONF.notifier else None
NOTIFIERS = [] if _notifier is None else list(_notifier) if isinstance(_notifier, (list, tuple)) else [_notifier]
METRICS_CONN_ID = "ganblr_bench_metrics"
MODELS = {"ganblr": "ganblr", "ganblrpp": "ganblr++"}  # task group id -> model
CONTAINER_RESULTS, CONTAINER_CACHE = "/results", "/data/cache"
JOB_LABEL, RUN_LABEL = "io.ganblr-bench.job", "io.ganblr-bench.run"

# Retrying helps with a Docker daemon hiccup or a database blip, never with bad parameters.
TRANSIENT = dict(retries=2, retry_delay=timedelta(seconds=20), retry_exponential_backoff=True,
                 max_retry_delay=timedelta(minutes=5))


def _metrics_dsn() -> str | None:
    """The metrics database from the Airflow connection, if one is defined (else settings/embedded)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from psycopg.conninfo import make_conninfo

    try:
        conn = BaseHook.get_connection(METRICS_CONN_ID)
    except AirflowNotFoundException:  # not defined: GANBLR_BENCH_DSN or the embedded server
        return None
    parts = {"host": conn.host, "port": conn.port, "user": conn.login, "password": conn.password,
             "dbname": conn.schema}
    return make_conninfo(**{k: v for k, v in parts.items() if v})


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(CONF.build_context), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10)
    except OSError:
        return None
    return out.stdout.strip() or None


def _docker_client():
    from airflow.providers.docker.hooks.docker import DockerHook

    return DockerHook(docker_conn_id=None, base_url=CONF.docker_url).api_client  # no registry login: nothing is pulled


@dag(
    dag_id="ganblr_benchmark",
    schedule=CONF.schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    params={name: Param(default, **schema) for name, (default, schema) in run_param_schemas().items()},
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
        who = " ".join(str(x) for x in (getattr(run, "triggered_by", None), getattr(run, "triggering_user_name", None)) if x)
        planned = plan.plan_run(dict(ctx["params"]), run.run_id, CONF.results_root, kind=kind,
                                triggered_by=who or None, dag_id=run.dag_id, backend=CONF.backend, git_sha=_git_sha())
        return {"folder": str(planned.folder), "key": planned.folder.name, "jobs": planned.jobs,
                "datasets": planned.datasets, "memory_limits": planned.memory_limits}

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=30))
    def fetch_datasets(planned: dict) -> list[str]:
        from ganblr_bench import catalog, sources

        for name in planned["datasets"]:
            if not catalog.get(name).package:  # packaged sets (iris) need no fetching
                sources.fetch(name, cache=CONF.cache)
        return planned["datasets"]

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=60))
    def build_image(planned: dict, fetched: list[str]) -> dict:
        from ganblr_bench import image

        if CONF.backend != "docker":
            return {"run": planned, "image": None}
        force = bool(get_current_context()["params"]["force_rebuild"])
        built = image.ensure(_docker_client(), CONF.build_context, force=force)
        print(f"image {built.facts.ref}: {'cached' if built.facts.cached else f'built in {built.facts.build_s} s'}")
        return {"run": planned, "image": built.facts.model_dump()}

    def docker_branch(group: str, built):
        from airflow.providers.docker.operators.docker import DockerOperator
        from docker.types import Mount

        @task(task_id="jobs")
        def container_kwargs(built: dict) -> list[dict]:
            run, ref = built["run"], built["image"]["ref"]
            return [{
                "image": ref,
                "command": ["run", "--spec", f"{CONTAINER_RESULTS}/{run['key']}/{job}/spec.json",
                            "--out", f"{CONTAINER_RESULTS}/{run['key']}/{job}"],
                "container_name": f"gbb-{run['key'][:60]}-{job}-try{{{{ ti.try_number }}}}",
                "labels": {RUN_LABEL: run["key"], JOB_LABEL: job},
                "mem_limit": run["memory_limits"][MODELS[group]],
                "environment": {"GANBLR_BENCH_IMAGE": ref},
            } for job in run["jobs"].get(MODELS[group], [])]

        return DockerOperator.partial(
            task_id="run",
            docker_conn_id=None,
            docker_url=CONF.docker_url,
            network_mode="none",
            mount_tmp_dir=False,
            # Containers stay until record has read how they ended (OOM kill, stop), then it removes them.
            # ("success" would not do: provider 4.6.1 removes the container on failure too.)
            auto_remove="never",
            user=f"{os.getuid()}:{os.getgid()}",
            mounts=[Mount(CONTAINER_RESULTS, str(CONF.host_results_root), type="bind"),
                    Mount(CONTAINER_CACHE, str(CONF.host_cache), type="bind", read_only=True)],
            execution_timeout=timedelta(seconds=CONF.task_timeout_s),
            retries=1, retry_delay=timedelta(seconds=30),
        ).expand_kwargs(container_kwargs(built))

    def process_branch(group: str, built):
        @task(task_id="jobs")
        def job_folders(built: dict) -> list[str]:
            run = built["run"]
            return [str(Path(run["folder"]) / job) for job in run["jobs"].get(MODELS[group], [])]

        @task(task_id="run", execution_timeout=timedelta(seconds=CONF.task_timeout_s), retries=1,
              retry_delay=timedelta(seconds=30))
        def run_process(folder: str) -> str:
            job = Path(folder)
            env = dict(os.environ, GANBLR_BENCH_CACHE=str(CONF.cache), GANBLR_BENCH_OFFLINE="1")
            proc = subprocess.run([CONF.runner, "run", "--spec", str(job / "spec.json"), "--out", str(job)],
                                  capture_output=True, text=True, env=env, timeout=CONF.task_timeout_s)
            print(proc.stdout[-4000:], proc.stderr[-4000:])
            if not (job / RESULT_FILE).exists():
                status, error = plan.classify_exit(False, proc.returncode, proc.stderr)
                plan.complete_missing(job.parent, job.name, status, error)
            if proc.returncode != 0:
                raise RuntimeError(f"job {job.name} did not succeed (exit code {proc.returncode}); see result.json")
            return job.name

        return run_process.expand(folder=job_folders(built))

    @task(**TRANSIENT, trigger_rule="all_done", execution_timeout=timedelta(minutes=30))
    def record(planned: dict) -> dict:
        from ganblr_bench import store

        folder = Path(planned["folder"])
        built = get_current_context()["ti"].xcom_pull(task_ids="build_image")
        facts = ImageFacts(**built["image"]) if built and built.get("image") else None
        if CONF.backend == "docker":
            _settle_containers(folder, planned["key"])
        for job in plan.missing_results(folder):
            why = "the job did not run: an earlier step (dataset fetch or image build) failed"
            plan.complete_missing(folder, job, "skipped" if built is None else "failed",
                                  why if built is None else "the job's task ended without a result")
        plan.finish_run(folder, facts)
        outcome = store.record_paths([folder], dsn=_metrics_dsn())  # raises Spooled -> retry replays
        for problem in outcome.rejected:
            print(f"rejected: {problem}")
        print(f"run {planned['key']}: {outcome}")
        return {"recorded": outcome.recorded, "duplicates": outcome.duplicates, "rejected": len(outcome.rejected)}

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=20))
    def compare(planned: dict, recorded: dict) -> dict:
        """Judge the run against its history (findings go to the warehouse) and write its report."""
        from ganblr_bench import database, report, trends

        run_id = get_current_context()["dag_run"].run_id
        with database.connect(_metrics_dsn()) as conn:
            found = trends.detect(conn, run_id, trends.Thresholds(**CONF.thresholds))
            built = report.build(conn, run_id)
        paths = report.write(built, Path(planned["folder"]) / "report")
        report.write(built, CONF.reports_root / planned["key"])
        print(f"report: {paths['html']}")
        return {"regressions": [str(d) for d in found if d.finding.verdict == "regression"],
                "improvements": [str(d) for d in found if d.finding.verdict == "improvement"],
                "report": str(paths["html"])}

    @task(retries=0, execution_timeout=timedelta(minutes=10), on_failure_callback=NOTIFIERS)
    def alert(planned: dict, compared: dict) -> None:
        """Fail, naming them, when a figure regressed or a job failed: the run's state tells ops to look."""
        failed = plan.failures(Path(planned["folder"]))
        lines = [f"regression: {r}" for r in compared["regressions"]] + [f"job failed: {f}" for f in failed]
        if lines:
            raise RuntimeError(f"{len(lines)} problem(s) in this run (report: {compared['report']}):\n"
                               + "\n".join(lines))

    planned = plan_run()
    built = build_image(planned, fetch_datasets(planned))
    branches = []
    for group in MODELS:
        with TaskGroup(group_id=group):
            branches.append(docker_branch(group, built) if CONF.backend == "docker" else process_branch(group, built))
    recorded = record(planned)
    branches >> recorded
    alert(planned, compare(planned, recorded))


def _settle_containers(folder: Path, key: str) -> None:
    """Write results for jobs whose container died (OOM kill, stop, crash), then remove the run's containers."""
    missing = plan.missing_results(folder)
    client = _docker_client()
    containers = client.containers(all=True, filters={"label": f"{RUN_LABEL}={key}"})
    latest = {}
    for c in sorted(containers, key=lambda c: c["Created"]):
        latest[c["Labels"].get(JOB_LABEL)] = c
    for job in missing:
        if job in latest:
            state = client.inspect_container(latest[job]["Id"])["State"]
            logs = client.logs(latest[job]["Id"], tail=5).decode(errors="replace")
            status, error = plan.classify_exit(state.get("OOMKilled", False), state.get("ExitCode"), logs)
            plan.complete_missing(folder, job, status, error)
    for c in containers:
        client.remove_container(c["Id"], force=True)


ganblr_benchmark()
