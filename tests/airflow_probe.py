"""Run with the Airflow venv's python: loads the DAG folder the way Airflow does and prints,
as JSON, the import errors, the task graph, and how the DAG's Params judge given confs."""

import copy
import json
import sys

from airflow.dag_processing.dagbag import DagBag

sys.path.append(sys.argv[1])  # as Airflow 3 does for a DAG bundle's folder (the DAG imports bench_operator.py)
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags.get("ganblr_benchmark")
report = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "tasks": {}, "params": []}
if dag is not None:
    report["schedule"] = str(dag.schedule)
    report["max_active_runs"] = dag.max_active_runs
    report["catchup"] = dag.catchup
    report["dag_callbacks"] = (
        len(dag.on_failure_callback or [])
        if isinstance(dag.on_failure_callback, list)
        else int(dag.on_failure_callback is not None)
    )
    report["dagrun_timeout_s"] = dag.dagrun_timeout.total_seconds() if dag.dagrun_timeout else None
    for t in dag.tasks:
        report["tasks"][t.task_id] = {
            "upstream": sorted(t.upstream_task_ids),
            "retries": t.retries,
            "trigger_rule": str(t.trigger_rule),
            "type": t.task_type,
            "callbacks": len(t.on_failure_callback or []),
            "timeout_s": t.execution_timeout.total_seconds() if t.execution_timeout else None,
            "outlets": [getattr(o, "name", str(o)) for o in (t.outlets or [])],
            "map_index_template": getattr(t, "map_index_template", None),
        }
    report["param_form"] = {
        name: {
            "section": param.schema.get("section"),
            "description": param.description,
            "enum": param.schema.get("enum"),
            "default": param.value,
        }
        for name, param in ((n, dag.params.get_param(n)) for n in dag.params)
    }
    for conf in json.loads(sys.argv[2]):
        params = copy.deepcopy(dag.params)
        try:
            for key, value in conf.items():  # as a trigger does: each value checked against its Param
                params[key] = value
            params.validate()
            report["params"].append("ok")
        except Exception as err:  # ParamValidationError: reported, asserted by the test
            report["params"].append(f"{type(err).__name__}: {err}")
maintenance = bag.dags.get("ganblr_maintenance")
report["maintenance"] = (
    None
    if maintenance is None
    else {
        "schedule": str(maintenance.schedule),
        "tasks": {t.task_id: sorted(t.upstream_task_ids) for t in maintenance.tasks},
        "callbacks": len(maintenance.on_failure_callback or [])
        if isinstance(maintenance.on_failure_callback, list)
        else 0,
    }
)
print("PROBE" + json.dumps(report))
