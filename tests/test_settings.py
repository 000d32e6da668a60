"""Deployment settings: defaults, and clear errors for bad values before the DAG is built."""

from pathlib import Path

import pytest

from ganblr_bench import settings


def test_defaults_and_overrides(tmp_path):
    conf = settings.load(tmp_path, env={})
    assert conf.backend == "docker" and conf.schedule == "0 2 * * *" and conf.thresholds == settings.Thresholds()
    assert conf.host_results_root == conf.results_root and conf.build_context == tmp_path
    conf = settings.load(
        tmp_path,
        env={
            "GANBLR_BENCH_SCHEDULE": "none",
            "GANBLR_BENCH_BACKEND": "process",
            "GANBLR_BENCH_THRESHOLDS": '{"window": 20, "z_threshold": 4}',
            "GANBLR_BENCH_RESULTS": "/srv/r",
            "GANBLR_BENCH_HOST_RESULTS": "/host/r",
        },
    )
    assert (
        conf.schedule is None
        and conf.backend == "process"
        and (conf.thresholds.window, conf.thresholds.z_threshold) == (20, 4)
    )
    assert conf.results_root == Path("/srv/r") and conf.host_results_root == Path("/host/r")


@pytest.mark.parametrize(
    "env, words",
    [
        ({"GANBLR_BENCH_BACKEND": "kubernetes"}, "GANBLR_BENCH_BACKEND='kubernetes': choose one of docker, process"),
        (
            {"GANBLR_BENCH_THRESHOLDS": '{"window": 2, "min_history": 5}'},
            'GANBLR_BENCH_THRESHOLDS=\'{"window": 2, "min_history": 5}\': value: Value error, min_history must not exceed window',
        ),
        (
            {"GANBLR_BENCH_THRESHOLDS": '{"windows": 2}'},
            "GANBLR_BENCH_THRESHOLDS='{\"windows\": 2}': windows: Extra inputs",
        ),
        ({"GANBLR_BENCH_THRESHOLDS": "{window"}, "GANBLR_BENCH_THRESHOLDS='{window': not JSON"),
        ({"GANBLR_BENCH_TASK_TIMEOUT_S": "soon"}, "GANBLR_BENCH_TASK_TIMEOUT_S='soon': give a number of seconds"),
        ({"GANBLR_BENCH_TASK_TIMEOUT_S": "nan"}, "GANBLR_BENCH_TASK_TIMEOUT_S='nan': give a number of seconds"),
        ({"GANBLR_BENCH_SCHEDULE": "nightly"}, "GANBLR_BENCH_SCHEDULE='nightly': give a cron expression"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, env, words):
    with pytest.raises(settings.SettingsError, match=words.replace("(", r"\(").replace("[", r"\[")):
        settings.load(tmp_path, env=env)


def test_load_object_resolves_a_notifier_reference():
    assert settings.load_object("builtins:print") is print
    with pytest.raises(settings.SettingsError, match="package.module:attribute"):
        settings.load_object("print")
    with pytest.raises(settings.SettingsError, match="no_such_module"):
        settings.load_object("no_such_module:x")
