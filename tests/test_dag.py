"""The DAG as Airflow loads it: no import errors, the pipeline's shape, Params that reject bad values."""

import json
import os
import subprocess

import pytest
from airflow_stack import ROOT, airflow_python

pytestmark = pytest.mark.airflow

BAD = [
    ({"epochs": 0}, "epochs"),
    ({"models": ["ctgan"]}, "ctgan"),
    ({"datasets": ["adulty"]}, "adulty"),
    ({"seeds": [-1]}, "-1"),
    ({"memory_limit": "lots"}, "lots"),
    ({"model_overrides": {"ganblr++": {"epochs": 0}}}, "model_overrides"),
    ({"preset": "nightlyy"}, "nightlyy"),
]
GOOD = [{}, {"models": ["ganblr"], "datasets": ["iris"], "seeds": [1, 2], "row_limit": 100}, {"preset": "smoke"}]


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow-probe")
    confs = GOOD + [c for c, _ in BAD]
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PATH": "/usr/bin:/bin",
        "GANBLR_BENCH_RESULTS": str(home / "results"),
        "GANBLR_BENCH_NOTIFIER": "builtins:print",
        **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},  # a work tree's own core, if set
    }  # any callable stands in for a Slack or e-mail notifier
    out = subprocess.run(
        [airflow_python(), str(ROOT / "tests" / "airflow_probe.py"), str(ROOT / "dags"), json.dumps(confs)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    line = next((l for l in out.stdout.splitlines() if l.startswith("PROBE")), None)
    assert line, out.stderr[-3000:]
    return json.loads(line[5:])


def test_dag_loads_without_import_errors(probe):
    assert probe["import_errors"] == {}
    assert probe["max_active_runs"] == 1 and probe["catchup"] is False
    assert "0 2 * * *" in probe["schedule"]


def test_model_and_reference_branches_depend_only_on_the_build_and_feed_record(probe):
    tasks = probe["tasks"]
    # the built-ins, and the generator the shipped package declares (found by its entry point when the DAG is parsed)
    groups = ("ganblr", "ganblrpp", "independent", "naive-bayes", "katabatic-ganblr")
    for group in groups:
        assert tasks[f"{group}.jobs"]["upstream"] == ["build_image", "plan_run"]
        assert tasks[f"{group}.run"]["upstream"] == [f"{group}.jobs"]
        assert tasks[f"{group}.run"]["type"] == "BenchDockerOperator"  # DockerOperator, hardened (bench_operator.py)
    assert tasks["build_image"]["upstream"] == ["fetch_datasets", "plan_run"]
    assert set(tasks["record"]["upstream"]) == {f"{g}.run" for g in groups} | {"plan_run"}
    assert tasks["record"]["trigger_rule"].lower().endswith("all_done")
    assert set(tasks["compare"]["upstream"]) == {"record", "plan_run"}
    assert set(tasks["alert"]["upstream"]) == {"compare", "plan_run"}


def test_the_notifiers_hang_on_the_run_so_any_failed_step_and_a_hung_run_tell_someone(probe):
    assert probe["dag_callbacks"] == 1  # GANBLR_BENCH_NOTIFIER: builtins:print in this probe
    assert all(t["callbacks"] == 0 for t in probe["tasks"].values())  # not twice for a failed alert
    assert probe["dagrun_timeout_s"] == 43200


def test_retries_where_they_help_and_timeouts_everywhere(probe):
    tasks = probe["tasks"]
    assert tasks["plan_run"]["retries"] == 0  # bad parameters never get better
    assert tasks["build_image"]["retries"] >= 2 and tasks["record"]["retries"] >= 2
    assert all(t["timeout_s"] for name, t in tasks.items() if name != "plan_run" and not name.endswith(".jobs"))


def test_params_accept_good_confs_and_name_the_bad_field(probe, fault_row):
    results = probe["params"]
    assert results[: len(GOOD)] == ["ok"] * len(GOOD)
    for (conf, word), verdict in zip(BAD, results[len(GOOD) :], strict=True):
        assert verdict.startswith("ParamValidationError") and word in verdict, (conf, verdict)
    fault_row("bad parameters in the trigger form (Params)", f"{len(BAD)} refused, each naming its field", (0, 0), "-")


def test_jobs_show_their_names_in_the_grid_and_recording_updates_the_metrics_asset(probe):
    tasks = probe["tasks"]
    for group in ("ganblr", "ganblrpp", "independent", "naive-bayes"):
        assert tasks[f"{group}.run"]["map_index_template"] == "{{ task.labels['io.ganblr-bench.job'] }}"
    assert tasks["record"]["outlets"] == ["ganblr_bench_metrics"]
    assert all(not t["outlets"] for name, t in tasks.items() if name != "record")


def test_the_trigger_form_groups_and_describes_every_parameter(probe):
    from ganblr_bench.params import DEFAULT_PRESET, SECTIONS, presets

    form = probe["param_form"]
    assert form["preset"]["enum"] == list(presets()) and form["preset"]["default"] == DEFAULT_PRESET  # the schedule's
    assert set(form) == {name for names in SECTIONS.values() for name in names}  # no parameter left ungrouped
    for name, field in form.items():
        assert field["section"] in SECTIONS and name in SECTIONS[field["section"]], name
        assert len(field["description"]) > 10, name


def test_the_maintenance_dag_prunes_backs_up_and_checks_health_daily_and_tells_the_notifiers(probe):
    maintenance = probe["maintenance"]
    assert maintenance is not None and "0 5 * * *" in maintenance["schedule"]
    assert maintenance["tasks"] == {"prune": [], "backup": ["prune"], "health": ["backup"]}
    assert maintenance["callbacks"] == 1  # a stale nightly fails health: the notifiers hear of it
