"""The two structures that cross the container boundary: the job spec and the job result.

A job spec goes into a container (``ganblr-bench run --spec spec.json``); a result comes
out (``result.json`` in the results folder). Both are versioned: a reader refuses a
version it does not know rather than guessing. docs/contract.md documents every field;
``ganblr-bench schema`` prints the JSON Schemas generated from these classes.
"""

from __future__ import annotations

import json
import re
import typing
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .catalog import REGISTRY
from .metrics import PHASES

SPEC_VERSION = 2  # 2: cores
RESULT_VERSION = 2  # 2: per-phase resources, model-only headline figures, quality metrics, placement
RUN_VERSION = 1

Model = Literal["ganblr", "ganblr++", "independent", "naive-bayes"]
Classifier = Literal["lr", "mlp", "rf", "xgb"]
Status = Literal["ok", "failed", "timeout", "oom", "skipped"]
Stack = Literal["locked", "latest"]
Backend = Literal["docker", "process"]
MODELS: tuple[str, ...] = typing.get_args(Model)
CLASSIFIERS: tuple[str, ...] = typing.get_args(Classifier)
STATUSES: tuple[str, ...] = typing.get_args(Status)
STACKS: tuple[str, ...] = typing.get_args(Stack)
BACKENDS: tuple[str, ...] = typing.get_args(Backend)
# The models under test, and the reference generators every score is read against (docs/models.md).
UNDER_TEST: tuple[str, ...] = ("ganblr", "ganblr++")
REFERENCES: tuple[str, ...] = ("independent", "naive-bayes")
MODEL_LABELS = {
    "ganblr": "GANBLR",
    "ganblr++": "GANBLR++",
    "independent": "independent (reference: floor)",
    "naive-bayes": "naive Bayes (reference)",
}
# Models that see every numeric column as equal-frequency bins (GANBLR++ keeps its numeric ones as numbers).
DISCRETE_INPUT: tuple[str, ...] = ("ganblr", "independent", "naive-bayes")


def model_slug(model: str) -> str:
    """The model's name where '+' is not allowed: job names, task ids, column prefixes ('ganblr++' -> 'ganblrpp')."""
    return model.replace("+", "p")


# Each knob's limits, written once: the job spec, the run parameters and the per-model overrides share them.
K = Annotated[int, Field(ge=0, le=3, description="GANBLR's k: parents per feature in the kDB structure")]
Epochs = Annotated[int, Field(ge=1, le=10_000, description="adversarial training epochs")]
BatchSize = Annotated[int, Field(ge=1, le=1_000_000)]
WarmupEpochs = Annotated[int, Field(ge=1, le=10_000, description="epochs of the warm-up (ELR) phase")]
SyntheticRows = Annotated[int, Field(ge=1, le=10_000_000, description="rows to sample; empty: the training rows")]
RowLimit = Annotated[int, Field(ge=20, description="cap on the rows used, train and test together; empty: all")]
DiscretiseBins = Annotated[int, Field(ge=2, le=64, description="GANBLR: equal-frequency bins per numeric column")]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
Cores = Annotated[int, Field(ge=1, le=256, description="cores a job gets to itself (cpuset and quota)")]
TimeoutS = Annotated[
    float, Field(gt=0, le=86_400, allow_inf_nan=False, description="a job past this is stopped and recorded as timeout")
]
MEMORY_LIMIT_RANGE = (64 * 2**20, 4 * 2**40)  # below 64 MiB TensorFlow cannot even import; 4 TiB is no real host


def memory_bytes(limit: str) -> int:
    """Bytes of a Docker-style memory limit: '512m' -> 536870912."""
    return int(limit[:-1]) * 2 ** {"k": 10, "m": 20, "g": 30}[limit[-1]]


def _memory_in_range(limit: str) -> str:
    low, high = MEMORY_LIMIT_RANGE
    if not low <= memory_bytes(limit) <= high:
        raise ValueError(f"must be between 64m and 4096g, not {limit}")
    return limit


MemoryLimit = Annotated[
    str,
    Field(pattern=r"^[1-9][0-9]{0,12}[kmg]$", description="container memory limit, 64m to 4096g, e.g. 6g"),
    AfterValidator(_memory_in_range),
]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]

_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")


class ContractError(ValueError):
    """A spec or result that does not validate; the message names the source and field."""


class Strict(BaseModel):
    """Frozen, and unknown fields are errors: a typo must not fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelParams(Strict):
    """The knobs of ganblr 0.1.3's ``fit``; GANBLR++ adds its numeric columns."""

    k: K = 0
    epochs: Epochs = 10
    batch_size: BatchSize = 32
    warmup_epochs: WarmupEpochs = 1
    numeric_columns: list[str] | None = Field(
        None, description="GANBLR++ only: columns its DMM discretiser treats as numeric (default: the dataset's)"
    )


class JobSpec(Strict):
    """One benchmark job: one model on one dataset with one seed."""

    spec_version: Literal[1, 2] = SPEC_VERSION
    job_id: str | None = Field(None, description="stable name of the job; default model-dataset-sSEED")
    model: Model
    dataset: str = Field(min_length=1)
    seed: Seed = 0
    params: ModelParams = ModelParams()
    synthetic_rows: SyntheticRows | None = None
    row_limit: RowLimit | None = None
    test_fraction: float = Field(
        0.2, gt=0.0, lt=1.0, description="held-out share where the dataset has no official split"
    )
    discretise_bins: DiscretiseBins = 5
    classifiers: list[Classifier] = Field(default_factory=lambda: list(CLASSIFIERS), min_length=1)
    timeout_s: TimeoutS | None = None
    cores: Cores = 1
    stack: Stack = Field(
        "locked",
        description="the image's library stack: the locked pins, or the newest releases "
        "of the direct requirements (the canary)",
    )

    @field_validator("job_id")
    @classmethod
    def _job_id_is_a_name(cls, value: str | None) -> str | None:
        if value is not None and not _JOB_ID.match(value):
            raise ValueError("must be 1-128 letters, digits or _.+- and start with a letter or digit")
        return value

    @field_validator("classifiers")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a classifier twice")
        return value

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, value: str) -> str:
        if value not in REGISTRY:
            raise ValueError(f"unknown dataset {value!r}; known: {', '.join(sorted(REGISTRY))}")
        return value

    @model_validator(mode="after")
    def _numeric_columns_only_for_ganblrpp(self) -> JobSpec:
        if self.params.numeric_columns is not None and self.model != "ganblr++":
            raise ValueError("params.numeric_columns applies to ganblr++ only")
        return self

    @property
    def name(self) -> str:
        if self.job_id:
            return self.job_id
        return f"{model_slug(self.model)}-{self.dataset}-s{self.seed}" + ("-latest" if self.stack == "latest" else "")


class Timings(Strict):
    """Seconds. ``execution_s`` is fit + sample: the figure users compare."""

    startup_s: NonNegative | None = None
    load_s: NonNegative | None = None
    fit_s: NonNegative | None = None
    sample_s: NonNegative | None = None
    evaluate_s: NonNegative | None = None
    execution_s: NonNegative | None = None
    wall_s: NonNegative | None = None


Phase = Literal[PHASES]
MemorySource = Literal["process-peak-rss", "cgroup-v2", "cgroup-v1", "rusage"]


class PhaseUsage(Strict):
    """One phase of a job: its wall seconds, the process's CPU seconds, and its peak resident memory."""

    wall_s: NonNegative
    cpu_s: NonNegative
    peak_memory_bytes: Count | None = Field(
        None, description="the process's peak resident set during the phase (its high-water mark, reset at the start)"
    )


class Resources(Strict):
    """The headline figures are the model's: fit + sample. The job as a whole and each phase are kept apart."""

    peak_memory_bytes: Count | None = Field(None, description="peak resident memory of the process in fit and sample")
    memory_source: MemorySource | None = None
    cpu_seconds: NonNegative | None = Field(None, description="CPU seconds of fit + sample")
    cpu_percent: NonNegative | None = Field(
        None, description="CPU seconds / wall seconds of fit + sample x 100; 100 = one core busy"
    )
    cpus_available: Annotated[float, Field(gt=0)] | None = None
    cpu_percent_of_available: NonNegative | None = None
    phases: dict[Phase, PhaseUsage] = Field(default_factory=dict, description="per phase: wall, CPU, peak memory")
    job_peak_memory_bytes: Count | None = Field(
        None, description="the whole job's peak: the container's cgroup high-water mark (page cache included)"
    )
    job_memory_source: MemorySource | None = None
    job_cpu_seconds: NonNegative | None = Field(None, description="CPU seconds of the whole job, startup included")


Fraction = Annotated[float, Field(ge=0, le=1)]


class Score(Strict):
    classifier: Classifier
    tstr_accuracy: Fraction | None = Field(None, description="train on synthetic, test on real")
    trtr_accuracy: Fraction | None = Field(None, description="train on real, test on real")
    tstr_macro_f1: Fraction | None = None
    trtr_macro_f1: Fraction | None = None
    tstr_roc_auc: Fraction | None = Field(None, description="binary targets only")
    trtr_roc_auc: Fraction | None = None
    trtr_cached: bool | None = Field(None, description="TRTR read from the cache, not computed by this job")


# Fidelity and privacy of a synthetic sample against the real training rows (docs/contract.md).
QualityMetric = Literal[
    "column_shapes",
    "column_pair_trends",
    "dcr_overfitting_protection",
    "dcr_closer_to_train",
    "dcr_train_median",
    "dcr_holdout_median",
]
QUALITY_METRICS: tuple[str, ...] = typing.get_args(QualityMetric)


class DatasetFacts(Strict):
    name: str
    checksum: str = Field(description="sha256 of the file, or of its files' 'name sha256' lines for several")
    files: dict[str, str] = Field(description="file name -> sha256")
    train_rows: Count
    test_rows: Count
    synthetic_rows: Count | None = None
    features: Count
    numeric_columns: list[str] = Field(description="columns numeric in the model's input")
    rows_dropped: int = Field(0, description="rows dropped for a missing numeric value")


IMAGE_ENV = "GANBLR_BENCH_IMAGE"  # how a backend tells a job which image it runs in
TRTR_CACHE_ENV = "GANBLR_BENCH_TRTR_CACHE"  # ... and where the shared TRTR cache is (evaluate.TrtrCache)


class Environment(Strict):
    versions: dict[str, str]
    host_cpus: int | None = None
    hostname: str | None = None
    in_container: bool = False
    image: str | None = Field(None, description="image reference, passed in by the scheduler")
    cores: list[int] | None = Field(None, description="the cores the job could run on, seen from inside it")
    cpuset: str | None = Field(None, description="its cgroup's cpuset, as the kernel lists it")
    host_load_1m: list[NonNegative] | None = Field(None, description="the host's 1-minute load at the job's start, end")


class Placement(Strict):
    """Where the scheduler put a job: written beside its result (placement.json) by whoever leased its cores."""

    cores: list[int] = Field(min_length=1, description="cores leased to the job alone")
    waited_s: NonNegative = Field(description="seconds waited for free cores")
    peers: Count = Field(description="other jobs that held cores on the host while this one ran")
    host: str | None = None
    worker: str | None = Field(
        None, description="the host name of the process that leased the cores (an Airflow worker)"
    )


class JobResult(Strict):
    result_version: Literal[1, 2] = RESULT_VERSION
    job: str
    spec: JobSpec
    status: Status
    error: str | None = None
    started_at: datetime
    finished_at: datetime
    timings: Timings = Timings()
    resources: Resources = Resources()
    scores: list[Score] = []
    quality: dict[QualityMetric, float] = Field(default_factory=dict, description="fidelity and privacy")
    dataset: DatasetFacts | None = None
    environment: Environment | None = None
    placement: Placement | None = None
    artifacts: dict[str, str] = Field(default_factory=dict, description="name -> path relative to the result folder")

    @model_validator(mode="after")
    def _ok_means_complete(self) -> JobResult:
        if self.status == "ok":
            missing = [n for n in ("fit_s", "sample_s", "execution_s") if getattr(self.timings, n) is None]
            if missing or not self.scores or self.dataset is None:
                raise ValueError(f"status ok but figures are missing: {', '.join(missing) or 'scores/dataset'}")
        elif not self.error:
            raise ValueError(f"status {self.status} needs an error text")
        return self


class ImageFacts(Strict):
    ref: str = Field(description="tag the jobs ran, e.g. ganblr-bench:inputs-3f2a...")
    digest: str | None = Field(None, description="image id (sha256) of that tag")
    inputs_hash: str | None = Field(None, description="hash of the build inputs: the image's fingerprint")
    build_s: float | None = Field(None, ge=0, description="build seconds; 0 when the build was skipped")
    cached: bool | None = Field(None, description="true when the tag existed and the build was skipped")


class HostFacts(Strict):
    name: str | None = None
    cpus: int | None = Field(None, gt=0)
    memory_bytes: int | None = Field(None, gt=0)


class RunInfo(Strict):
    """One pipeline run: written as run.json beside its jobs' result folders."""

    run_version: Literal[1] = RUN_VERSION
    run_id: str = Field(min_length=1, max_length=250)
    kind: Literal["scheduled", "manual", "cli", "test"] = "cli"
    triggered_by: str | None = None
    dag_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    backend: Backend | None = None
    started_at: datetime
    finished_at: datetime | None = None
    git_sha: str | None = None
    image: ImageFacts | None = None
    host: HostFacts = HostFacts()


class RunPlan(Strict):
    """What planning a run hands the pipeline's later steps (through XCom): its folder and its jobs."""

    run_id: str
    folder: str = Field(description="the run folder as the scheduler's workers see it")
    key: str = Field(description="the folder's name: the run id made safe for paths and container names")
    jobs: dict[Model, list[str]] = Field(description="model -> job names, in matrix order")
    cores: dict[Model, Cores] = Field(default_factory=dict, description="model -> cores per job")
    stacks: dict[str, Stack] = Field(default_factory=dict, description="job name -> the stack its image is built from")
    datasets: list[str]
    memory_limits: dict[Model, MemoryLimit]


def _explain(source: str, err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(
            f"{field}: {msg}"
            + (
                f" (got {e['input']!r})"
                if "input" in e and e["type"] != "missing" and not isinstance(e["input"], dict)
                else ""
            )
        )
    return f"{source}: " + "; ".join(parts)


def _nul_fields(data: Any, path: str = "") -> list[str]:
    """Where a string holds a NUL character (PostgreSQL's text cannot store one)."""
    if isinstance(data, str):
        return [path or "(top level)"] if "\x00" in data else []
    if isinstance(data, dict):
        return [f for k, v in data.items() for f in _nul_fields(v, f"{path}.{k}" if path else str(k))]
    if isinstance(data, list):
        return [f for i, v in enumerate(data) for f in _nul_fields(v, f"{path}.{i}")]
    return []


def parse(cls: type[BaseModel], data: Any, source: str, strict: bool = False) -> Any:
    """``data`` validated as ``cls``; a ContractError naming ``source`` and each bad field otherwise.

    ``strict``: no coercion ("7" is not 7, true is not 1): for what people write (specs, run parameters).
    """
    field = next((name for name in cls.model_fields if name.endswith("_version")), None)
    known = typing.get_args(cls.model_fields[field].annotation) if field else ()
    if field and isinstance(data, dict) and data.get(field, known[-1]) not in known:
        readable = ", ".join(str(v) for v in known)
        raise ContractError(f"{source}: {field} {data[field]!r} is not supported (this ganblr-bench reads {readable})")
    if not isinstance(data, dict):
        raise ContractError(f"{source}: expected a JSON object, got {type(data).__name__}")
    nul = _nul_fields(data)
    if nul:
        raise ContractError(f"{source}: {', '.join(nul)}: text holds a NUL character")
    try:
        return cls.model_validate(data, strict=strict)
    except ValidationError as err:
        raise ContractError(_explain(source, err)) from None


def parse_spec(data: dict[str, Any], source: str = "job spec") -> JobSpec:
    return parse(JobSpec, data, source, strict=True)


def parse_result(data: dict[str, Any], source: str = "job result") -> JobResult:
    return parse(JobResult, data, source)


def parse_run(data: dict[str, Any], source: str = "run info") -> RunInfo:
    return parse(RunInfo, data, source)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ContractError(f"{path}: is a folder, not a JSON file") from None
    except PermissionError:
        raise ContractError(f"{path}: not readable (permission denied)") from None
    except UnicodeDecodeError as err:
        raise ContractError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise ContractError(f"{path}: not valid JSON ({err})") from None


def load_spec(path: Path) -> JobSpec:
    return parse_spec(_read_json(path), str(path))


def load_result(path: Path) -> JobResult:
    return parse_result(_read_json(path), str(path))


def load_placement(path: Path) -> Placement:
    return parse(Placement, _read_json(path), str(path))


def load_run(path: Path) -> RunInfo:
    return parse_run(_read_json(path), str(path))


def json_schemas() -> dict[str, Any]:
    return {
        "job_spec": JobSpec.model_json_schema(),
        "job_result": JobResult.model_json_schema(),
        "run_info": RunInfo.model_json_schema(),
    }
