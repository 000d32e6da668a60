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
  also the canary image from the newest releases, and the image variant of each other model
  stack the run's generators need (a failed canary or variant build fails its jobs only).
* **ganblr / ganblrpp** run the jobs in parallel, each in its own container (`docker`
  backend, no network, memory limit) or process (`process` backend), on cores of its own.
* **independent / naive-bayes** run the reference generators the same way (the run
  parameter `references` turns them off): every score is read between the floor and TRTR.
* a generator from an installed package (entry point `ganblr_bench.generators`, e.g.
  **katabatic-ganblr**) gets a branch of its own, its jobs in the image of its model stack
  (an image variant built from the same Dockerfile when its stack conflicts with ours).
* **record** writes the run and every job result, failures included, to PostgreSQL.
* **compare** checks every figure against its history (regressions stored in the warehouse)
  and writes the run's comparison report (HTML and Markdown).
* **alert** fails the run, naming them, when a figure regressed or a job failed; notifiers
  (Slack, e-mail) hang on it through `GANBLR_BENCH_NOTIFIER`.

Every step's body is a function of `ganblr_bench.run.pipeline`; this file only wires them.
Results: `$GANBLR_BENCH_RESULTS/<run>/<job>/result.json`. Settings: `ganblr_bench.settings`.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Asset, Param, TaskGroup, dag, get_current_context, task
from airflow_edges import docker_client, metrics_dsn, notifiers

from ganblr_bench import settings
from ganblr_bench.contract import RunPlan
from ganblr_bench.generator_catalog import DISCOVERED, MODELS, slug
from ganblr_bench.params import param_schemas
from ganblr_bench.run import pipeline
from ganblr_bench.states import Backend

CONF = settings.load(default_context=Path(__file__).resolve().parents[1])
for problem in DISCOVERED.problems:  # the dag-processor's log says why a generator has no branch
    logging.getLogger(__name__).warning(problem)
# Updated when a run's metrics are recorded: analysts' DAGs schedule on it (schedule=[Asset("ganblr_bench_metrics")]);
# each event's extra names the run and what was recorded.
METRICS = Asset("ganblr_bench_metrics")

# A job task waits in the core pool, not in a worker: each job's slots (its cores) and priority (longest expected
# first) are set on its task instance from the run's queue.json (plugins/airflow_local_settings.py, run/queue.py).
JOB_QUEUE = dict(pool=CONF.pool, pool_slots=1, execution_timeout=timedelta(seconds=CONF.task_timeout_s))
# Retrying helps with a Docker daemon hiccup or a database blip, never with bad parameters.
TRANSIENT = dict(
    retries=2, retry_delay=timedelta(seconds=20), retry_exponential_backoff=True, max_retry_delay=timedelta(minutes=5)
)


def _docker_client():
    return docker_client(CONF)


def _plan(planned: dict) -> RunPlan:
    return RunPlan.model_validate(planned)


@dag(
    dag_id="ganblr_benchmark",
    schedule=CONF.schedule,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    # A hung run fails after this (and notifies): with one active run, a hang would block every later night.
    dagrun_timeout=timedelta(seconds=CONF.run_timeout_s),
    # Any failed step, not only alert, tells someone: the notifiers hang on the run.
    on_failure_callback=notifiers(CONF),
    params={name: Param(default, **schema) for name, (default, schema) in param_schemas().items()},
    default_args={"owner": "ganblr-bench", "retries": 0},
    tags=["ganblr-bench", "benchmark"],
    doc_md=__doc__,
)
def ganblr_benchmark():
    @task(retries=0)
    def plan_run() -> dict:
        ctx = get_current_context()
        trigger = pipeline.Trigger.of(ctx["dag_run"], ctx["params"])
        return pipeline.plan_run(CONF, trigger, metrics_dsn()).model_dump(mode="json")

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=30))
    def fetch_datasets(planned: dict) -> list[str]:
        return pipeline.fetch_datasets(_plan(planned), CONF)

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=60))
    def build_image(planned: dict) -> dict:
        built = pipeline.build_images(_plan(planned), CONF, _docker_client)
        return {stack: facts.model_dump(mode="json") for stack, facts in built.items()}

    def docker_branch(model: str):
        from bench_operator import BenchDockerOperator

        from ganblr_bench.run import containers

        @task(task_id="jobs")
        def container_requests(planned: dict) -> list[dict]:
            return pipeline.container_requests(_plan(planned), model, CONF)

        return BenchDockerOperator.partial(
            task_id="run",
            docker_conn_id=None,
            docker_url=CONF.docker_url,
            **containers.container_options(containers.DockerSite(CONF.host_results_root, CONF.host_cache)),
            map_index_template="{{ task.labels['" + containers.JOB_LABEL + "'] }}",  # the job's name in the grid
            **JOB_QUEUE,
            retries=1,
            retry_delay=timedelta(seconds=30),
        ).expand_kwargs(container_requests(planned))

    def process_branch(model: str):
        @task(task_id="jobs")
        def job_folders(planned: dict) -> list[str]:
            return pipeline.job_folders(_plan(planned), model)

        @task(
            task_id="run",
            **JOB_QUEUE,
            retries=1,
            retry_delay=timedelta(seconds=30),
            map_index_template="{{ job }}",  # the job's name in the grid
        )
        def run_process(folder: str) -> str:
            from airflow.sdk.exceptions import AirflowFailException

            from ganblr_bench.errors import JobFailed
            from ganblr_bench.run import process

            get_current_context()["job"] = Path(folder).name
            try:
                return process.run_process(Path(folder), CONF.runner, CONF.cache, CONF.task_timeout_s)
            except JobFailed as err:
                if err.retryable:
                    raise
                raise AirflowFailException(str(err)) from err  # another try cannot change the verdict

        return run_process.expand(folder=job_folders(planned))

    @task(**TRANSIENT, trigger_rule="all_done", execution_timeout=timedelta(minutes=30), outlets=[METRICS])
    def record(planned: dict) -> dict:
        recorded = pipeline.record(_plan(planned), CONF, metrics_dsn(), _docker_client)
        get_current_context()["outlet_events"][METRICS].extra = recorded.model_dump(exclude={"rejected"})
        return recorded.model_dump(mode="json")

    @task(**TRANSIENT, execution_timeout=timedelta(minutes=20))
    def compare(planned: dict) -> dict:
        """Judge the run against its history (findings go to the warehouse) and write its report."""
        return pipeline.judge(_plan(planned), CONF, metrics_dsn()).model_dump(mode="json")

    @task(retries=0, execution_timeout=timedelta(minutes=10))
    def alert(planned: dict, judged: dict) -> None:
        """Fail, naming them, when a figure regressed or a job failed: the run's state tells ops to look.

        The canary (latest stack) warns instead: an upstream release that breaks a model is news for the
        engineers (the report says which versions moved), not a failure of the nightly benchmark.
        """
        from airflow.configuration import conf

        base = conf.get("api", "base_url", fallback="http://localhost:8080")
        pipeline.alert(_plan(planned), pipeline.Judged.model_validate(judged), metrics_dsn(), base)

    planned = plan_run()
    built = build_image(planned)
    fetch_datasets(planned) >> built
    branch = {Backend.DOCKER: docker_branch, Backend.PROCESS: process_branch}[CONF.backend]
    branches = []
    for model in MODELS:
        with TaskGroup(group_id=slug(model)) as group:
            branch(model)
        built >> group
        branches.append(group)
    recorded = record(planned)
    branches >> recorded
    judged = compare(planned)
    recorded >> judged
    alert(planned, judged)


ganblr_benchmark()
