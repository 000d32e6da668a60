"""The structures that cross a process boundary: the job spec, the job result, the run facts, the run plan.

A job spec goes into a container (``ganblr-bench run --spec spec.json``); a result comes out (``result.json``
in the results folder); ``run.json`` holds the run's facts; the plan goes from the DAG's first task to the
others (XCom). Each is versioned: a reader refuses a version it does not know rather than guessing.
docs/contract.md documents every field; ``ganblr-bench schema`` prints the JSON Schemas generated from these
classes. Files are read through ``layout`` (the one safe reader); this module only validates.

What PostgreSQL or JSON cannot hold is refused at the door, naming the field: non-finite numbers, timestamps
outside 2000-2100, text with a NUL or a lone surrogate, text longer than ``MAX_TEXT``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import typing
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ganblr_bench.dataset_catalog import REGISTRY, DataFile, DatasetInfo
from ganblr_bench.errors import ContractError, quote
from ganblr_bench.generator_catalog import GENERATOR_NAME, GENERATORS, MODELS, InputKind
from ganblr_bench.states import Backend, RunKind, Stack, Status

# Versions: spec 2 added cores, 3 memory_limit and run; result 2 per-phase resources, model-only headline figures,
# quality, placement; run 2 images per stack, ready_at and release, 3 the variants' images. The newest is each version field's default.

Classifier = Literal["lr", "mlp", "rf", "xgb"]
CLASSIFIERS: tuple[str, ...] = typing.get_args(Classifier)
MAX_TEXT = 64 << 10  # characters of any text field; the runner cuts error texts long before this
ERROR_TEXT = 16 << 10  # what the runner keeps of an error text (its head and its tail)
TIMESTAMPS = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")


def _a_name(value: str) -> str:
    if not _NAME.fullmatch(value):
        raise ValueError("must be 1-128 letters, digits or _.+- and start with a letter or digit")
    return value


def _known_model(value: str) -> str:
    if value not in GENERATORS:
        raise ValueError(f"unknown model {value!r}; known: {', '.join(MODELS)}")
    return value


def _a_generator_name(value: str) -> str:
    if not GENERATOR_NAME.fullmatch(value):
        raise ValueError(f"{quote(value)} is not a generator's name (1-40 of a-z, 0-9, + . _ -)")
    return value


def _in_time(value: datetime) -> datetime:
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)
    if not TIMESTAMPS[0] <= aware < TIMESTAMPS[1]:
        raise ValueError(f"{value.isoformat()} is outside 2000-2100")
    return value


Name = Annotated[str, AfterValidator(_a_name)]
# A generator a run may ask for: one this process knows (built in, or from an installed package's entry point).
KnownModel = Annotated[str, AfterValidator(_known_model), Field(json_schema_extra={"enum": list(MODELS)})]
# A generator a file names: any well-formed name, so a result outlives the package that made it.
Model = Annotated[
    str, AfterValidator(_a_generator_name), Field(json_schema_extra={"pattern": f"^{GENERATOR_NAME.pattern}$"})
]
Timestamp = Annotated[datetime, AfterValidator(_in_time)]


def model_slug(model: str) -> str:
    """The model's name where '+' is not allowed: job names, task ids, column prefixes ('ganblr++' -> 'ganblrpp')."""
    return model.replace("+", "p")


# Each knob's limits, written once: the job spec, the run parameters and the per-model overrides share them.
K = Annotated[int, Field(ge=0, le=3, description="GANBLR's k: parents per feature in the kDB structure")]
Epochs = Annotated[int, Field(ge=1, le=10_000, description="adversarial training epochs")]
BatchSize = Annotated[int, Field(ge=1, le=1_000_000, description="rows per training batch")]
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
    return int(limit[:-1]) * int(2 ** {"k": 10, "m": 20, "g": 30}[limit[-1]])


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
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]


class Strict(BaseModel):
    """Frozen, unknown fields are errors (a typo must not fall back to a default), and numbers are finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Knobs(Strict):
    """The knobs of ganblr 0.1.3's ``fit``, their defaults and limits: the one home of each, read by the job
    spec, the run parameters and the per-model overrides alike."""

    k: K = 0
    epochs: Epochs = 10
    batch_size: BatchSize = 32
    warmup_epochs: WarmupEpochs = 1


KNOBS: tuple[str, ...] = tuple(Knobs.model_fields)


class ModelParams(Knobs):
    """The knobs a job's model is built with; GANBLR++ adds its numeric columns."""

    numeric_columns: list[Annotated[str, Field(max_length=256)]] | None = Field(
        None, description="GANBLR++ only: columns its DMM discretiser treats as numeric (default: the dataset's)"
    )


Sha256 = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="sha256, 64 lower-case hex digits")]
ColumnName = Annotated[str, Field(min_length=1, max_length=256)]


FILENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}")  # a data file's name in the cache: no path, no surprise


class DefinedFile(Strict):
    filename: Annotated[str, Field(pattern=f"^{FILENAME.pattern}$")]
    sha256: Sha256
    skip_lines: Annotated[int, Field(ge=0, le=1000)] = 1  # the header line


class DatasetDefinition(Strict):
    """A registered dataset as a job reads it (``dataset_registration.py`` checks it): its files by checksum, its
    columns and their kinds. A job's spec carries it, so the spec alone says what data the job read."""

    name: Name
    title: str = Field(max_length=200)
    columns: list[ColumnName] = Field(min_length=2, max_length=10_000)
    target: ColumnName
    numeric: list[ColumnName] = Field(default_factory=list, max_length=10_000)
    files: dict[Literal["data", "train", "test"], DefinedFile]
    sep: str = Field(",", min_length=1, max_length=1)
    missing: str = Field("?", max_length=16)
    citation: str = Field(min_length=1, max_length=500)
    rows: Count

    @model_validator(mode="after")
    def _consistent(self) -> DatasetDefinition:
        if set(self.files) not in ({"data"}, {"train", "test"}):
            raise ValueError("files: give 'data', or 'train' and 'test'")
        if self.target not in self.columns:
            raise ValueError(f"target: {quote(self.target)} is not a column")
        unknown = [c for c in self.numeric if c not in self.columns or c == self.target]
        if unknown:
            raise ValueError(f"numeric: {quote(unknown)} are not feature columns")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError("columns: a column name appears twice")
        return self

    @property
    def checksum(self) -> str:
        """sha256 of the files' checksums and the definition (columns, kinds, parsing): a changed definition of the
        same file is other data, and starts a new series."""
        canonical = json.dumps(self.model_dump(mode="json", exclude={"title", "citation"}), sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()

    def info(self) -> DatasetInfo:
        """The facts loading needs, with the files in the cache's folder for this definition."""
        return DatasetInfo(
            name=self.name,
            title=self.title,
            columns=tuple(self.columns),
            target=self.target,
            numeric=tuple(self.numeric),
            files={role: DataFile(f.filename, "", f.sha256, f.skip_lines) for role, f in self.files.items()},
            folder=f"registered/{self.name}-{self.checksum[:16]}",
            sep=self.sep,
            missing=self.missing,
            citation=self.citation,
            rows=self.rows,
        )


class JobSpec(Strict):
    """One benchmark job: one model on one dataset with one seed."""

    spec_version: Literal[1, 2, 3, 4] = 4
    job_id: Name | None = Field(None, description="stable name of the job; default model-dataset-sSEED")
    run: Name | None = Field(None, description="the key of the run folder the job belongs to (set by planning)")
    model: Model
    dataset: str = Field(min_length=1, max_length=128)
    seed: Seed = 0
    params: ModelParams = ModelParams()
    synthetic_rows: SyntheticRows | None = None
    row_limit: RowLimit | None = None
    test_fraction: float = Field(
        0.2, gt=0.0, lt=1.0, description="held-out share where the dataset has no official split"
    )
    discretise_bins: DiscretiseBins = 5
    classifiers: list[Classifier] = Field(default_factory=lambda: list(CLASSIFIERS), min_length=1)  # type: ignore[arg-type]
    timeout_s: TimeoutS | None = None
    cores: Cores = 1
    memory_limit: MemoryLimit | None = Field(None, description="the container's memory limit (docker backend)")
    stack: Stack = Field(
        Stack.LOCKED,
        description="the image's library stack: the locked pins, or the newest releases "
        "of the direct requirements (the canary)",
    )
    dataset_definition: DatasetDefinition | None = Field(
        None, description="a registered dataset's definition (set by planning); none for the built-in datasets"
    )

    @field_validator("classifiers")
    @classmethod
    def _no_repeats(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("lists a classifier twice")
        return value

    @model_validator(mode="after")
    def _known_dataset(self) -> JobSpec:
        if self.dataset_definition is not None:
            if self.dataset_definition.name != self.dataset:
                raise ValueError(f"dataset_definition: defines {self.dataset_definition.name!r}, not {self.dataset!r}")
            if self.dataset in REGISTRY:
                raise ValueError(f"dataset_definition: {self.dataset!r} is a built-in dataset")
        elif self.dataset not in REGISTRY:
            raise ValueError(
                f"dataset: unknown dataset {self.dataset!r} (a registered one comes with its dataset_definition); "
                f"built in: {', '.join(sorted(REGISTRY))}"
            )
        return self

    @model_validator(mode="after")
    def _numeric_columns_only_for_mixed_input(self) -> JobSpec:
        known = GENERATORS.get(self.model)
        if self.params.numeric_columns is not None and known is not None and known.input is not InputKind.MIXED:
            raise ValueError("params.numeric_columns applies to ganblr++ only")
        return self

    @property
    def name(self) -> str:
        if self.job_id:
            return self.job_id
        suffix = "" if self.stack == Stack.LOCKED else f"-{self.stack}"
        return f"{model_slug(self.model)}-{self.dataset}-s{self.seed}{suffix}"


class Timings(Strict):
    """Seconds. ``execution_s`` is fit + sample: the figure users compare."""

    startup_s: NonNegative | None = None
    load_s: NonNegative | None = None
    fit_s: NonNegative | None = None
    sample_s: NonNegative | None = None
    evaluate_s: NonNegative | None = None
    execution_s: NonNegative | None = None
    wall_s: NonNegative | None = None


Phase = Literal["startup", "fit", "sample", "evaluate"]  # figures.PHASES (a test keeps them equal)
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


class ColumnMarginal(Strict):
    """One column's distribution, real against synthetic, in the view every model's fidelity is measured in."""

    column: str = Field(max_length=256)
    score: Fraction = Field(description="its TVComplement: 1 = the same shares")
    labels: list[Annotated[str, Field(max_length=64)]] = Field(max_length=32)
    real: list[Fraction] = Field(max_length=32, description="each value's share of the real training rows")
    synthetic: list[Fraction] = Field(max_length=32, description="its share of the synthetic rows")


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
    result_version: Literal[1, 2] = 2
    job: Name
    spec: JobSpec
    status: Status
    error: str | None = None
    started_at: Timestamp
    finished_at: Timestamp
    timings: Timings = Timings()
    resources: Resources = Resources()
    scores: list[Score] = []
    quality: dict[QualityMetric, float] = Field(default_factory=dict, description="fidelity and privacy")
    marginals: list[ColumnMarginal] = Field(
        default_factory=list, max_length=8, description="the most distorted columns, real against synthetic"
    )
    dataset: DatasetFacts | None = None
    environment: Environment | None = None
    placement: Placement | None = None
    artifacts: dict[Annotated[str, Field(max_length=64)], str] = Field(
        default_factory=dict, description="name -> path relative to the result folder"
    )

    @field_validator("artifacts")
    @classmethod
    def _inside_the_folder(cls, value: dict[str, str]) -> dict[str, str]:
        for name, path in value.items():
            if path.startswith("/") or ".." in path.split("/") or "\\" in path:
                raise ValueError(f"{name}: {quote(path)} is not a path inside the result folder")
        return value

    @model_validator(mode="after")
    def _ok_means_complete(self) -> JobResult:
        if self.status == Status.OK:
            missing = [n for n in ("fit_s", "sample_s", "execution_s") if getattr(self.timings, n) is None]
            if missing or not self.scores or self.dataset is None:
                raise ValueError(f"status ok but figures are missing: {', '.join(missing) or 'scores/dataset'}")
        elif not self.error:
            raise ValueError(f"status {self.status} needs an error text")
        return self


class ImageFacts(Strict):
    ref: str = Field(max_length=256, description="tag the jobs ran, e.g. ganblr-bench:inputs-3f2a...")
    digest: str | None = Field(None, max_length=256, description="image id (sha256) of that tag")
    inputs_hash: str | None = Field(
        None, max_length=128, description="hash of the build inputs: the image's fingerprint"
    )
    build_s: float | None = Field(None, ge=0, description="build seconds; 0 when the build was skipped")
    cached: bool | None = Field(None, description="true when the tag existed and the build was skipped")
    cold: bool | None = Field(
        None, description="the build ran every RUN step, none from the layer cache: its build_s is a cold build's"
    )
    size_bytes: int | None = Field(None, ge=0, description="the image's size, as the engine reports it")
    models_lock: str | None = Field(None, max_length=256, description="the lock of its model stack")
    conflicts: list[Annotated[str, Field(max_length=2048)]] = Field(
        default_factory=list,
        max_length=100,
        description="an image variant's: why its stack cannot share our image (the resolver's, per pin)",
    )


class HostFacts(Strict):
    name: str | None = Field(None, max_length=256)
    cpus: int | None = Field(None, gt=0)
    memory_bytes: int | None = Field(None, gt=0)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_GIT_SHA = re.compile(r"[0-9a-f]{40}")


def _printable(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("holds a control character (a newline, a tab, ...)")
    return value


def _a_git_sha(value: str | None) -> str | None:
    if value is not None and not _GIT_SHA.fullmatch(value):
        raise ValueError(f"{quote(value)} is not a commit (40 hex digits)")
    return value


class RunInfo(Strict):
    """One pipeline run: written as run.json beside its jobs' result folders."""

    run_version: Literal[1, 2, 3] = 3
    run_id: Annotated[str, Field(min_length=1, max_length=250), AfterValidator(_printable)]
    kind: RunKind = RunKind.CLI
    triggered_by: str | None = Field(None, max_length=256)
    dag_id: str | None = Field(None, max_length=250)
    params: dict[str, Any] = Field(default_factory=dict)
    backend: Backend | None = None
    started_at: Timestamp
    ready_at: Timestamp | None = Field(
        None, description="when the datasets were fetched and the images built: the jobs could start"
    )
    finished_at: Timestamp | None = None
    git_sha: Annotated[str | None, AfterValidator(_a_git_sha)] = None
    release: Annotated[str, Field(max_length=32, pattern=r"^[0-9]+\.[0-9]+\.[0-9]+([a-z0-9.+-]*)$")] | None = Field(
        None, description="the ganblr-bench release that planned the run"
    )
    image: ImageFacts | None = Field(None, description="the locked stack's image (the run's main image)")
    images: dict[Stack, ImageFacts] = Field(default_factory=dict, description="stack -> the image its jobs ran in")
    variants: dict[Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")], ImageFacts] = Field(
        default_factory=dict,
        max_length=32,
        description="a generator's own model stack (generator_catalog.GeneratorInfo.stack) -> the image its jobs ran in",
    )
    host: HostFacts = HostFacts()


class PlannedJob(Strict):
    """One job as the pipeline's later steps need it: where it runs and what it may use."""

    name: Name
    model: Model
    stack: Stack
    cores: Cores
    memory_limit: MemoryLimit
    expected_s: NonNegative = Field(0.0, description="how long the job is expected to take (run/queue.py)")


class QueuedJob(Strict):
    """One job task's place in Airflow's queue (queue.json): the pool slots it takes and its priority."""

    task_id: str = Field(description="the job task of its branch, '<model slug>.run'")
    map_index: Count = Field(description="its index in the branch's mapped task")
    job: Name
    pool_slots: Cores = Field(description="its cores: slots of the core pool it holds while it runs")
    priority_weight: int = Field(ge=1, description="higher starts first: the longest expected job is the highest")
    expected_s: NonNegative = Field(description="expected seconds, startup and job together")
    expected_from: Literal["history", "default"] = Field(
        description="history: the median of the series' recent runs; default: the model's rough cost, new series"
    )


class JobQueue(Strict):
    """What the scheduler reads (plugins/airflow_local_settings.py) to size and order a run's job tasks."""

    queue_version: Literal[1] = 1
    run_id: str
    jobs: list[QueuedJob]


class RunPlan(Strict):
    """What planning a run hands the pipeline's later steps (through XCom): everything they need, parsed once."""

    run_id: str
    kind: RunKind
    folder: str = Field(description="the run folder as the scheduler's workers see it")
    key: Name = Field(description="the folder's name: the run id made safe for paths and container names")
    jobs: list[PlannedJob] = Field(description="longest expected first (matrix order among equals)")
    datasets: list[str]
    stacks: list[Stack]
    force_rebuild: bool = False
    candidate: str | None = Field(None, description="the candidate build of ganblr, as the run parameter names it")

    def of_model(self, model: str) -> list[PlannedJob]:
        return [j for j in self.jobs if j.model == model]

    def of_stack(self, stack: Stack) -> list[PlannedJob]:
        return [j for j in self.jobs if j.stack == stack]


# ---------------------------------------------------------------- parsing


def _explain(source: str, err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        shown = "input" in e and e["type"] != "missing" and not isinstance(e["input"], dict | list)
        parts.append(f"{field}: {msg}" + (f" (got {quote(e['input'])})" if shown else ""))
    return f"{source}: " + "; ".join(parts[:5]) + (f"; and {len(parts) - 5} more" if len(parts) > 5 else "")


def text_problems(data: Any, path: str = "") -> list[str]:
    """Where a value is one PostgreSQL or JSON cannot hold: a text with a NUL or a lone surrogate, or too long;
    a number that is not finite (NaN, Infinity)."""
    if isinstance(data, float) and not math.isfinite(data):
        return [f"{path or '(top level)'}: {data} is not a finite number"]
    if isinstance(data, str):
        where = path or "(top level)"
        if "\x00" in data:
            return [f"{where}: text holds a NUL character"]
        try:
            data.encode("utf-8")
        except UnicodeEncodeError:
            return [f"{where}: text holds a character UTF-8 cannot encode (a lone surrogate)"]
        return [f"{where}: text of {len(data)} characters, more than {MAX_TEXT}"] if len(data) > MAX_TEXT else []
    if isinstance(data, dict):
        return [
            f
            for k, v in data.items()
            for f in text_problems(k, path) + text_problems(v, f"{path}.{k}" if path else str(k))
        ]
    if isinstance(data, list):
        return [f for i, v in enumerate(data) for f in text_problems(v, f"{path}.{i}")]
    return []


def parse(cls: type[BaseModel], data: Any, source: str, strict: bool = False) -> Any:
    """``data`` validated as ``cls``; a ContractError naming ``source`` and each bad field otherwise.

    ``strict``: no coercion ("7" is not 7, true is not 1): for what people write (specs, run parameters).
    Validation goes through JSON, as every input arrives, so enumerations take their text.
    """
    if not isinstance(data, dict):
        raise ContractError(f"{source}: expected a JSON object, got {type(data).__name__}")
    field = next((name for name in cls.model_fields if name.endswith("_version")), None)
    known = typing.get_args(cls.model_fields[field].annotation) if field else ()
    if field and data.get(field, known[-1]) not in known:
        readable = ", ".join(str(v) for v in known)
        raise ContractError(
            f"{source}: {field} {quote(data[field])} is not supported (this ganblr-bench reads {readable})"
        )
    problems = text_problems(data)
    if problems:
        raise ContractError(f"{source}: " + "; ".join(problems[:3]))
    try:
        text = json.dumps(data, allow_nan=False, default=_jsonable)
    except (ValueError, TypeError) as err:
        raise ContractError(f"{source}: {err}") from None
    try:
        return cls.model_validate_json(text, strict=strict)
    except ValidationError as err:
        raise ContractError(_explain(source, err)) from None


def _jsonable(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"a {type(value).__name__} is not JSON")


def parse_spec(data: dict[str, Any], source: str = "job spec") -> JobSpec:
    """A job to run: its model must be one this process can build (a result may name any generator)."""
    spec: JobSpec = parse(JobSpec, data, source, strict=True)
    if spec.model not in GENERATORS:
        raise ContractError(f"{source}: model: unknown model {quote(spec.model)}; known: {', '.join(MODELS)}")
    return spec


def parse_result(data: dict[str, Any], source: str = "job result") -> JobResult:
    result: JobResult = parse(JobResult, data, source)
    return result


def parse_run(data: dict[str, Any], source: str = "run info") -> RunInfo:
    run: RunInfo = parse(RunInfo, data, source)
    return run


def storable(text: str, limit: int = ERROR_TEXT) -> str:
    """``text`` as a result can hold it: NULs and lone surrogates escaped, cut to ``limit`` characters (its head
    and tail, with a marker saying how much was left out)."""
    text = text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) <= limit:
        return text
    keep = (limit - 80) // 2
    return f"{text[:keep]}\n[... {len(text) - 2 * keep} characters left out ...]\n{text[-keep:]}"


def cpu_list(cores: list[int]) -> str:
    """The cores as a Linux CPU list, the form files and the warehouse keep: [3, 0] -> '0,3'."""
    return ",".join(str(c) for c in sorted(cores))


def content_sha256(result: JobResult) -> str:
    """sha256 of the canonical JSON (sorted keys): the same result hashes the same after any round trip."""
    canonical = json.dumps(result.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def json_schemas() -> dict[str, Any]:
    return {
        "job_spec": JobSpec.model_json_schema(),
        "job_result": JobResult.model_json_schema(),
        "run_info": RunInfo.model_json_schema(),
        "job_queue": JobQueue.model_json_schema(),
    }
