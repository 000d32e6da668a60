"""Every setting ganblr-bench reads from the environment: its name, default, meaning and allowed range, once.

Each variable is read through ``Variable.get`` and validated there: a bad value is a ``SettingsError`` naming
the variable, the value (a short prefix of it) and what is allowed, so no setting ever ends in a traceback.
``VARIABLES`` is the table docs/operations.md shows (a test keeps them equal). ``load()`` gathers what the
scheduler's side needs (the DAG reads it at parse time, the Benchmarks page at start).
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel as _Base
from pydantic import ConfigDict, Field, ValidationError, field_validator, model_validator

from ganblr_bench import figures
from ganblr_bench.errors import SettingsError, quote
from ganblr_bench.states import Backend, Baseline

T = TypeVar("T")
Env = Mapping[str, str]


@dataclass(frozen=True)
class Variable(Generic[T]):
    name: str
    default: str | Callable[[Env], str]  # as it would be written; a function for defaults that depend on others
    meaning: str
    parse: Callable[[str], T]  # raises ValueError saying what is allowed
    shown_default: str = ""  # for the docs, where the default is computed

    def raw(self, env: Env | None = None) -> str:
        env = os.environ if env is None else env
        value = env.get(self.name, "")
        if value.strip():
            return value
        return self.default(env) if callable(self.default) else self.default

    def get(self, env: Env | None = None) -> T:
        raw = self.raw(env)
        try:
            return self.parse(raw)
        except (ValueError, TypeError) as err:
            raise SettingsError(f"{self.name}={quote(raw)}: {err}") from None


# ---------------------------------------------------------------- parsers (each says what is allowed)


def seconds(low: float = 0.0, high: float = 7 * 86_400, zero: bool = False) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        allowed = (zero and value == 0) or low < value <= high
        if not math.isfinite(value) or not allowed:
            floor = f"0 (off) or more than {low:g}" if zero else f"more than {low:g}"
            raise ValueError(f"give a number of seconds, {floor} and at most {high:g}")
        return value

    return parse


def whole(low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ValueError(f"give a whole number from {low} to {high}")
        return value

    return parse


def folder(text: str) -> Path:
    """A folder: it may not exist yet, but it must not be a file."""
    path = Path(text).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ValueError("is a file, not a folder")
    return path


def text(value: str) -> str:
    if any(ord(c) < 32 for c in value):
        raise ValueError("holds a control character")
    return value.strip()


def optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    return lambda value: parse(value) if value.strip() else None


def flag(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered not in ("", "0", "1", "true", "false", "yes", "no", "on", "off"):
        raise ValueError("give 1 or 0 (true/false, yes/no, on/off)")
    return lowered in ("1", "true", "yes", "on")


def choice(enum: type[Any]) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            return enum(value.strip())
        except ValueError:
            raise ValueError(f"choose one of {', '.join(m.value for m in enum)}") from None

    return parse


def schedule(value: str) -> str | None:
    value = value.strip()
    if value.lower() == "none":
        return None
    if len(value.split()) not in (5, 6) and not value.startswith("@"):
        raise ValueError("give a cron expression (5 fields, e.g. '0 2 * * *'), an @preset, or 'none'")
    return value


def duration(text: str) -> float:
    """Seconds of a duration written 26h, 90m, 2d or 3600s (ValueError saying what is allowed)."""
    from datetime import timedelta

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    raw = text.strip().lower()
    try:
        seconds = float(raw[:-1]) * units[raw[-1]] if raw and raw[-1] in units else float(raw)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= 366 * 86400:
        raise ValueError("give a duration such as 26h, 90m or 2d (at most a year)")
    return timedelta(seconds=seconds).total_seconds()


def _default_cache(env: Env) -> str:
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return str(Path(base) / "ganblr-bench" / "datasets")


def _home_below(name: str) -> Callable[[Env], str]:
    return lambda env: str(Path(HOME.raw(env)) / name)


class Strict(_Base):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Thresholds(Strict):
    """The regression detector's settings (``analysis/trends.py`` says what each does)."""

    window: int = Field(10, ge=1, le=1000, description="earlier runs in the baseline")
    min_history: int = Field(5, ge=1, le=1000, description="runs a baseline needs before it judges")
    z_threshold: float = Field(3.0, gt=0, le=100, description="spreads a change must exceed")
    min_relative_change: dict[str, float] = Field(
        default_factory=lambda: {m.key: m.min_relative_change for m in figures.METRICS},
        description="per figure, the smallest relative change worth an alert",
    )
    min_spread: float = Field(0.01, ge=0, le=1, description="the spread's floor, as a share of the centre")
    baseline: Baseline = Baseline.MEDIAN

    @field_validator("min_relative_change")
    @classmethod
    def _known_figures(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - set(figures.BY_KEY))
        if unknown:
            raise ValueError(f"unknown figure(s) {unknown[:5]}")
        if any(not 0 <= v <= 10 for v in value.values()):
            raise ValueError("each minimum relative change must be between 0 and 10")
        defaults = {m.key: m.min_relative_change for m in figures.METRICS}
        return defaults | value

    @model_validator(mode="after")
    def _history_within_window(self) -> Thresholds:
        if self.min_history > self.window:
            raise ValueError("min_history must not exceed window")
        return self


def thresholds_json(value: str) -> Thresholds:
    import json

    if not value.strip():
        return Thresholds()
    try:
        data = json.loads(value)
    except json.JSONDecodeError as err:
        raise ValueError(f"not JSON ({err.msg})") from None
    if not isinstance(data, dict):
        raise ValueError('give a JSON object, e.g. {"window": 10, "min_history": 5}')
    try:
        return Thresholds.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        raise ValueError(f"{'.'.join(str(p) for p in first['loc']) or 'value'}: {first['msg']}") from None


# ---------------------------------------------------------------- the variables

HOME = Variable("GANBLR_BENCH_HOME", "var", "the tool's own folder: embedded database, spool", folder)
BACKEND = Variable(
    "GANBLR_BENCH_BACKEND", "docker", "where jobs run: docker (a container each) or process", choice(Backend)
)
RESULTS = Variable("GANBLR_BENCH_RESULTS", "var/results", "results root as the scheduler's workers see it", folder)
HOST_RESULTS = Variable(
    "GANBLR_BENCH_HOST_RESULTS",
    lambda env: RESULTS.raw(env),
    "the same folder as the Docker host sees it (bind-mount source)",
    folder,
    "= RESULTS",
)
CACHE = Variable("GANBLR_BENCH_CACHE", _default_cache, "dataset cache", folder, "~/.cache/ganblr-bench/datasets")
HOST_CACHE = Variable(
    "GANBLR_BENCH_HOST_CACHE",
    lambda env: CACHE.raw(env),
    "the same folder as the Docker host sees it",
    folder,
    "= CACHE",
)
MIRROR = Variable(
    "GANBLR_BENCH_DATA_MIRROR", "", "a local folder of the UCI files, used before the URL", optional(folder), "none"
)
DATASETS = Variable(
    "GANBLR_BENCH_DATASETS",
    "",
    "a folder of dataset registrations (NAME.json, docs/datasets.md): engineers' own datasets",
    optional(folder),
    "none",
)
OFFLINE = Variable("GANBLR_BENCH_OFFLINE", "", "1: never download a dataset (the cache and mirror only)", flag, "off")
BUILD_CONTEXT = Variable(
    "GANBLR_BENCH_BUILD_CONTEXT", "", "folder holding the Dockerfile", optional(folder), "the repository"
)
WHEELHOUSE = Variable(
    "GANBLR_BENCH_WHEELHOUSE",
    lambda env: (env.get("PIP_FIND_LINKS") or "").split(" ")[0],
    "folder of wheels an image variant's lock names that the package index lacks (PyTorch's CPU build)",
    optional(folder),
    "pip's PIP_FIND_LINKS, else none",
)
RUNNER = Variable(
    "GANBLR_BENCH_RUNNER", "ganblr-bench", "the job command of the process backend (a venv with the model stack)", text
)
SCHEDULE = Variable("GANBLR_BENCH_SCHEDULE", "0 2 * * *", "cron of the nightly run; none: manual runs only", schedule)
DOCKER_URL = Variable("DOCKER_HOST", "unix:///var/run/docker.sock", "the Docker engine that builds and runs", text)
TASK_TIMEOUT_S = Variable(
    "GANBLR_BENCH_TASK_TIMEOUT_S", "10800", "hard ceiling of one job task (jobs stop themselves earlier)", seconds(0)
)
RUN_TIMEOUT_S = Variable(
    "GANBLR_BENCH_RUN_TIMEOUT_S", "43200", "a run still going after this fails and notifies", seconds(0)
)
REPORTS = Variable("GANBLR_BENCH_REPORTS", "var/reports", "where each run's report is served from", folder)
THRESHOLDS = Variable(
    "GANBLR_BENCH_THRESHOLDS", "", "regression detector settings, JSON", thresholds_json, "the detector's"
)
NOTIFIER = Variable(
    "GANBLR_BENCH_NOTIFIER",
    "",
    "module:attribute of an Airflow notifier (or a list) called when a run fails",
    optional(text),
    "none",
)
HEARTBEAT_S = Variable(
    "GANBLR_BENCH_HEARTBEAT_S", "30", "seconds between a running job's heartbeat lines (0: off)", seconds(0, 3600, True)
)
LOCK_TIMEOUT_S = Variable(
    "GANBLR_BENCH_LOCK_TIMEOUT_S",
    "30",
    "how long recording waits for a lock held elsewhere before it spools",
    seconds(0, 3600),
)
SPOOL = Variable("GANBLR_BENCH_SPOOL", _home_below("spool"), "spool folder", folder, "$GANBLR_BENCH_HOME/spool")
DSN = Variable("GANBLR_BENCH_DSN", "", "the metrics database (libpq URI or DSN); else embedded", optional(str), "none")
READER_PASSWORD = Variable(
    "GANBLR_BENCH_READER_PASSWORD", "", "password of the read-only role, set by db upgrade", optional(str), "none"
)
READER_DSN = Variable(
    "GANBLR_BENCH_READER_DSN", "", "the read-only role's DSN, for the Benchmarks page", optional(str), "none"
)
PAGE = Variable("GANBLR_BENCH_PAGE", "on", "off removes the Benchmarks page", flag)
CORES = Variable(
    "GANBLR_BENCH_CORES", "", "the cores jobs may be given, as a CPU list (0-7, 2-5,8)", optional(text), "every core"
)
POOL = Variable(
    "GANBLR_BENCH_POOL",
    "ganblr_bench_cores",
    "the Airflow pool job tasks wait in for their cores: one slot a usable core (docs/operations.md)",
    text,
)
POOL_SLOTS = Variable(
    "GANBLR_BENCH_POOL_SLOTS",
    "",
    "that pool's slots: the usable cores of every host that runs jobs together (set by compose's init)",
    optional(whole(1, 100_000)),
    "this host's usable cores",
)
CORE_LOCKS = Variable(
    "GANBLR_BENCH_CORE_LOCKS",
    lambda env: f"/tmp/ganblr-bench-cores-{os.getuid()}",
    "the folder of core lock files, local to the host the jobs run on",
    folder,
    "/tmp/ganblr-bench-cores-<uid>",
)
# Retention (run/retention.py: the policy), backups and health (docs/operations.md):
KEEP_DAYS = Variable(
    "GANBLR_BENCH_KEEP_DAYS",
    "30",
    "days a run's bulky artefacts (synthetic samples) are kept at least",
    whole(1, 36500),
)
KEEP_RUNS = Variable(
    "GANBLR_BENCH_KEEP_RUNS", "10", "runs of each series whose artefacts are kept, however old", whole(0, 100000)
)
KEEP_PROBLEM_DAYS = Variable(
    "GANBLR_BENCH_KEEP_PROBLEM_DAYS",
    "90",
    "days a run with an unresolved failure or regression keeps everything",
    whole(0, 36500),
)
KEEP_FOLDER_DAYS = Variable(
    "GANBLR_BENCH_KEEP_FOLDER_DAYS", "365", "days a recorded run's folder and report are kept", whole(1, 36500)
)
TRTR_CACHE_DAYS = Variable(
    "GANBLR_BENCH_TRTR_CACHE_DAYS", "30", "days an unused TRTR cache entry is kept", whole(1, 36500)
)
LOG_DAYS = Variable("GANBLR_BENCH_LOG_DAYS", "30", "days Airflow's task logs are kept", whole(1, 36500))
KEEP_IMAGES = Variable(
    "GANBLR_BENCH_KEEP_IMAGES", "3", "our images kept per stack (and every image a recent run used)", whole(1, 1000)
)
AIRFLOW_LOGS = Variable(
    "GANBLR_BENCH_AIRFLOW_LOGS",
    "",
    "Airflow's task log folder, pruned by the maintenance DAG",
    optional(folder),
    "none",
)
BACKUPS = Variable(
    "GANBLR_BENCH_BACKUPS", "", "folder of the maintenance DAG's nightly warehouse backups", optional(folder), "none"
)
KEEP_BACKUPS = Variable("GANBLR_BENCH_KEEP_BACKUPS", "14", "backups kept in that folder", whole(1, 10000))
MAINTENANCE_SCHEDULE = Variable(
    "GANBLR_BENCH_MAINTENANCE_SCHEDULE", "0 5 * * *", "cron of the maintenance DAG (prune, backup, health)", schedule
)
HEALTH_MAX_AGE = Variable(
    "GANBLR_BENCH_HEALTH_MAX_AGE",
    "26h",
    "a successful nightly run must be younger than this to be healthy",
    duration,
)
AIRFLOW_URL = Variable(
    "GANBLR_BENCH_AIRFLOW_URL", "", "Airflow's api-server, for health to read the DAG's state", optional(text), "none"
)
AIRFLOW_USER = Variable("GANBLR_BENCH_AIRFLOW_USER", "admin", "user health logs in to Airflow as", text)
AIRFLOW_PASSWORD = Variable("GANBLR_BENCH_AIRFLOW_PASSWORD", "", "that user's password", optional(str), "none")
# Told to a job by its backend (not set by people):
IMAGE = Variable("GANBLR_BENCH_IMAGE", "", "the image a job runs in (set by the backend)", optional(text), "none")
TRTR_CACHE = Variable(
    "GANBLR_BENCH_TRTR_CACHE", "", "the shared TRTR cache folder (set by the backend)", optional(folder), "none"
)
DEDICATED_CGROUP = Variable(
    "GANBLR_BENCH_DEDICATED_CGROUP", "", "1: the job's cgroup is its own (our image sets it)", flag, "off"
)

VARIABLES: tuple[Variable[Any], ...] = tuple(v for v in globals().values() if isinstance(v, Variable))


@dataclass(frozen=True)
class Settings:
    """What the scheduler's side reads once: the DAG at parse time, the Benchmarks page at start."""

    backend: Backend
    results_root: Path
    host_results_root: Path
    cache: Path
    host_cache: Path
    build_context: Path
    wheelhouse: Path | None
    runner: str
    schedule: str | None
    docker_url: str
    task_timeout_s: float
    run_timeout_s: float
    reports_root: Path
    thresholds: Thresholds
    notifier: str | None
    heartbeat_s: float
    pool: str


def load(default_context: Path, env: Env | None = None) -> Settings:
    env = os.environ if env is None else env
    return Settings(
        backend=BACKEND.get(env),
        results_root=RESULTS.get(env),
        host_results_root=HOST_RESULTS.get(env),
        cache=CACHE.get(env),
        host_cache=HOST_CACHE.get(env),
        build_context=BUILD_CONTEXT.get(env) or Path(default_context).resolve(),
        wheelhouse=WHEELHOUSE.get(env),
        runner=RUNNER.get(env),
        schedule=SCHEDULE.get(env),
        docker_url=DOCKER_URL.get(env),
        task_timeout_s=TASK_TIMEOUT_S.get(env),
        run_timeout_s=RUN_TIMEOUT_S.get(env),
        reports_root=REPORTS.get(env),
        thresholds=THRESHOLDS.get(env),
        notifier=NOTIFIER.get(env),
        heartbeat_s=HEARTBEAT_S.get(env),
        pool=POOL.get(env),
    )


def load_object(reference: str) -> Any:
    """The object named "package.module:attribute" (a notifier, say)."""
    module, _, attribute = reference.partition(":")
    if not module or not attribute:
        raise SettingsError(f"{quote(reference)}: write it as package.module:attribute")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as err:
        raise SettingsError(f"{quote(reference)}: {err}") from None
