"""Deployment settings, read from the environment once (the DAG reads them at parse time).

| variable | default | meaning |
|---|---|---|
| GANBLR_BENCH_BACKEND | docker | where jobs run: docker (DockerOperator) or process (local subprocess) |
| GANBLR_BENCH_RESULTS | ./var/results | results root as the scheduler's workers see it |
| GANBLR_BENCH_HOST_RESULTS | = RESULTS | the same folder as the Docker host sees it (bind-mount source) |
| GANBLR_BENCH_CACHE | ~/.cache/ganblr-bench/datasets | dataset cache as the workers see it |
| GANBLR_BENCH_HOST_CACHE | = CACHE | the same folder as the Docker host sees it |
| GANBLR_BENCH_BUILD_CONTEXT | the repository root | folder holding the Dockerfile |
| GANBLR_BENCH_RUNNER | ganblr-bench | the job command for the process backend (a venv with the model stack) |
| GANBLR_BENCH_SCHEDULE | 0 2 * * * | cron of the nightly run; `none` for manual runs only |
| DOCKER_HOST | unix:///var/run/docker.sock | the Docker engine that builds and runs |
| GANBLR_BENCH_TASK_TIMEOUT_S | 10800 | hard ceiling of one job task; jobs stop themselves at the run's job_timeout_s |
| GANBLR_BENCH_RUN_TIMEOUT_S | 43200 | a run still going after this fails (and notifies): a hang must not block later nights |
| GANBLR_BENCH_REPORTS | ./var/reports | where per-run comparison reports are written (also kept in the run folder) |
| GANBLR_BENCH_THRESHOLDS | (trends.Thresholds defaults) | JSON, e.g. {"window": 10, "min_history": 5, "z_threshold": 3.0} |
| GANBLR_BENCH_NOTIFIER | none | "module:attribute": an Airflow notifier (or list of them) called when a run fails |
| GANBLR_BENCH_HEARTBEAT_S | 30 | seconds between a running job's heartbeat lines in its log (0: phase lines only) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import heartbeat
from .contract import BACKENDS
from .sources import cache_dir


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    backend: str
    results_root: Path
    host_results_root: Path
    cache: Path
    host_cache: Path
    build_context: Path
    runner: str
    schedule: str | None
    docker_url: str
    task_timeout_s: float
    run_timeout_s: float
    reports_root: Path
    thresholds: dict
    notifier: str | None
    heartbeat_s: float = heartbeat.DEFAULT_EVERY_S


def load(default_context: Path, env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    backend = env.get("GANBLR_BENCH_BACKEND", "docker")
    if backend not in BACKENDS:
        raise SettingsError(f"GANBLR_BENCH_BACKEND={backend!r}: choose one of {', '.join(BACKENDS)}")
    schedule = env.get("GANBLR_BENCH_SCHEDULE", "0 2 * * *").strip()
    results = Path(env.get("GANBLR_BENCH_RESULTS") or "var/results").resolve()
    cache = Path(env.get("GANBLR_BENCH_CACHE") or cache_dir()).resolve()
    timeout = _seconds(env, "GANBLR_BENCH_TASK_TIMEOUT_S", "10800")
    run_timeout = _seconds(env, "GANBLR_BENCH_RUN_TIMEOUT_S", "43200")
    return Settings(
        backend=backend,
        results_root=results,
        host_results_root=Path(env.get("GANBLR_BENCH_HOST_RESULTS") or results),
        cache=cache,
        host_cache=Path(env.get("GANBLR_BENCH_HOST_CACHE") or cache),
        build_context=Path(env.get("GANBLR_BENCH_BUILD_CONTEXT") or default_context).resolve(),
        runner=env.get("GANBLR_BENCH_RUNNER", "ganblr-bench"),
        schedule=None if schedule.lower() == "none" else schedule,
        docker_url=env.get("DOCKER_HOST", "unix:///var/run/docker.sock"),
        task_timeout_s=timeout,
        run_timeout_s=run_timeout,
        reports_root=Path(env.get("GANBLR_BENCH_REPORTS") or "var/reports").resolve(),
        thresholds=_thresholds(env.get("GANBLR_BENCH_THRESHOLDS", "")),
        notifier=env.get("GANBLR_BENCH_NOTIFIER") or None,
        heartbeat_s=_heartbeat(env),
    )


def _heartbeat(env) -> float:
    try:
        return heartbeat.every_from_env(env)
    except ValueError as err:
        raise SettingsError(str(err)) from None


def _seconds(env, name: str, default: str) -> float:
    try:
        value = float(env.get(name, default))
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds") from None
    if not 0 < value < float("inf"):
        raise SettingsError(f"{name} must be a positive, finite number of seconds")
    return value


def thresholds(env: dict[str, str] | None = None):
    """The detector's thresholds as configured (GANBLR_BENCH_THRESHOLDS), for every caller alike."""
    from .trends import Thresholds

    env = os.environ if env is None else env
    return Thresholds(**_thresholds(env.get("GANBLR_BENCH_THRESHOLDS", "")))


def _thresholds(text: str) -> dict:
    """Validated keyword arguments for trends.Thresholds."""
    import json

    from .trends import Thresholds

    if not text.strip():
        return {}
    try:
        values = json.loads(text)
        Thresholds(**values)
    except (ValueError, TypeError) as err:
        raise SettingsError(f"GANBLR_BENCH_THRESHOLDS: {err}") from None
    return values


def load_object(reference: str):
    """The object named "package.module:attribute" (a notifier, say)."""
    import importlib

    module, _, attribute = reference.partition(":")
    if not module or not attribute:
        raise SettingsError(f"{reference!r}: write it as package.module:attribute")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as err:
        raise SettingsError(f"{reference!r}: {err}") from None
