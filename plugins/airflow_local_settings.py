"""The scheduler's side of the job queue (ganblr_bench.run.queue): each job task instance gets its own pool slots
(its cores) and priority (longest expected job first) from its run's queue.json.

Airflow imports this module by name from the plugins folder (or $AIRFLOW_HOME/config) in every component and
calls ``task_instance_mutation_hook`` as task instances are created: a mapped task's instances would otherwise
all carry the branch's pool slots and priority. A deployment with an airflow_local_settings of its own calls
``place_job_task`` from its hook. Never raises: a queue that cannot be read leaves the instance as the DAG
made it (one slot, the default priority) and says so in the scheduler's log.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("ganblr_bench.queue")
DAG_ID = "ganblr_benchmark"


def place_job_task(task_instance: Any) -> None:
    if getattr(task_instance, "dag_id", None) != DAG_ID or getattr(task_instance, "map_index", -1) < 0:
        return
    try:
        from ganblr_bench import settings
        from ganblr_bench.run import queue

        found = queue.place(
            settings.RESULTS.get(), task_instance.run_id, task_instance.task_id, task_instance.map_index
        )
    except Exception as err:  # the scheduler must never fall over a job's queue entry
        log.warning(
            "ganblr-bench queue: %s[%s] of %s: %s",
            task_instance.task_id,
            task_instance.map_index,
            task_instance.run_id,
            err,
        )
        return
    if found is not None:
        task_instance.pool_slots = found.pool_slots
        task_instance.priority_weight = found.priority_weight


def task_instance_mutation_hook(task_instance: Any, dag_run: Any = None) -> None:
    place_job_task(task_instance)


__all__ = ["task_instance_mutation_hook"]
