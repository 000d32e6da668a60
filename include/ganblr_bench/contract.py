"""The two structures that cross the container boundary: the job spec and the job result.

A job spec goes into a container (``ganblr-bench run --spec spec.json``); a result comes
out (``result.json`` in the results folder). Both are versioned: a reader refuses a
version it does not know rather than guessing. docs/contract.md documents every field;
``ganblr-bench schema`` prints the JSON Schemas generated from these classes.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .catalog import REGISTRY

SPEC_VERSION = 1
RESULT_VERSION = 1
RUN_VERSION = 1

# The files of a run folder: <run>/run.json, <run>/<job>/spec.json, <run>/<job>/result.json.
RUN_FILE = "run.json"
SPEC_FILE = "spec.json"
RESULT_FILE = "result.json"

MODELS = ("ganblr", "ganblr++")
CLASSIFIERS = ("lr", "mlp", "rf", "xgb")
STATUSES = ("ok", "failed", "timeout", "oom", "skipped")

Model = Literal["ganblr", "ganblr++"]
Classifier = Literal["lr", "mlp", "rf", "xgb"]
Status = Literal["ok", "failed", "timeout", "oom", "skipped"]

_JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")


class ContractError(ValueError):
    """A spec or result that does not validate; the message names the source and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelParams(_Strict):
    """The knobs of ganblr 0.1.3's ``fit``; GANBLR++ adds its numeric columns."""

    k: int = Field(0, ge=0, le=3, description="GANBLR's k: parents per feature in the kDB structure")
    epochs: int = Field(10, ge=1, le=10_000, description="adversarial training epochs")
    batch_size: int = Field(32, ge=1, le=1_000_000)
    warmup_epochs: int = Field(1, ge=1, le=10_000, description="epochs of the warm-up (ELR) phase")
    numeric_columns: list[str] | None = Field(
        None, description="GANBLR++ only: columns its DMM discretiser treats as numeric (default: the dataset's)"
    )


class JobSpec(_Strict):
    """One benchmark job: one model on one dataset with one seed."""

    spec_version: Literal[1] = SPEC_VERSION
    job_id: str | None = Field(None, description="stable name of the job; default model-dataset-sSEED")
    model: Model
    dataset: str = Field(min_length=1)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    params: ModelParams = ModelParams()
    synthetic_rows: int | None = Field(None, ge=1, le=10_000_000, description="default: as many as the training rows")
    row_limit: int | None = Field(None, ge=20, description="cap on the rows used, train and test together")
    test_fraction: float = Field(0.2, gt=0.0, lt=1.0, description="held-out share where the dataset has no official split")
    discretise_bins: int = Field(5, ge=2, le=64, description="GANBLR only: equal-frequency bins per numeric column")
    classifiers: list[Classifier] = Field(default_factory=lambda: list(CLASSIFIERS), min_length=1)
    timeout_s: float | None = Field(None, gt=0, description="the runner stops the job and records status timeout")

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
        return self.job_id or f"{self.model.replace('+', 'p')}-{self.dataset}-s{self.seed}"


class Timings(_Strict):
    """Seconds. ``execution_s`` is fit + sample: the figure users compare."""

    startup_s: float | None = None
    load_s: float | None = None
    fit_s: float | None = None
    sample_s: float | None = None
    evaluate_s: float | None = None
    execution_s: float | None = None
    wall_s: float | None = None


class Resources(_Strict):
    peak_memory_bytes: int | None = None
    memory_source: Literal["cgroup-v2", "cgroup-v1", "rusage"] | None = None
    cpu_seconds: float | None = None
    cpu_percent: float | None = Field(None, description="CPU seconds / wall seconds x 100; 100 = one core busy")
    cpus_available: float | None = None
    cpu_percent_of_available: float | None = None


class Score(_Strict):
    classifier: Classifier
    tstr_accuracy: float | None = Field(None, ge=0, le=1, description="train on synthetic, test on real")
    trtr_accuracy: float | None = Field(None, ge=0, le=1, description="train on real, test on real")


class DatasetFacts(_Strict):
    name: str
    checksum: str = Field(description="sha256 of the file, or of its files' 'name sha256' lines for several")
    files: dict[str, str] = Field(description="file name -> sha256")
    train_rows: int
    test_rows: int
    synthetic_rows: int | None = None
    features: int
    numeric_columns: list[str] = Field(description="columns numeric in the model's input")
    rows_dropped: int = Field(0, description="rows dropped for a missing numeric value")


class Environment(_Strict):
    versions: dict[str, str]
    host_cpus: int | None = None
    hostname: str | None = None
    in_container: bool = False
    image: str | None = Field(None, description="image reference, passed in by the scheduler")


class JobResult(_Strict):
    result_version: Literal[1] = RESULT_VERSION
    job: str
    spec: JobSpec
    status: Status
    error: str | None = None
    started_at: datetime
    finished_at: datetime
    timings: Timings = Timings()
    resources: Resources = Resources()
    scores: list[Score] = []
    dataset: DatasetFacts | None = None
    environment: Environment | None = None
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


class ImageFacts(_Strict):
    ref: str = Field(description="tag the jobs ran, e.g. ganblr-bench:inputs-3f2a...")
    digest: str | None = Field(None, description="image id (sha256) of that tag")
    inputs_hash: str | None = Field(None, description="hash of the build inputs: the image's fingerprint")
    build_s: float | None = Field(None, ge=0, description="build seconds; 0 when the build was skipped")
    cached: bool | None = Field(None, description="true when the tag existed and the build was skipped")


class HostFacts(_Strict):
    name: str | None = None
    cpus: int | None = Field(None, gt=0)
    memory_bytes: int | None = Field(None, gt=0)


class RunInfo(_Strict):
    """One pipeline run: written as run.json beside its jobs' result folders."""

    run_version: Literal[1] = RUN_VERSION
    run_id: str = Field(min_length=1, max_length=250)
    kind: Literal["scheduled", "manual", "cli", "test"] = "cli"
    triggered_by: str | None = None
    dag_id: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    backend: Literal["docker", "process"] | None = None
    started_at: datetime
    finished_at: datetime | None = None
    git_sha: str | None = None
    image: ImageFacts | None = None
    host: HostFacts = HostFacts()


class ModelOverride(_Strict):
    """Per-model changes to a run's parameters (e.g. more epochs or memory for GANBLR++)."""

    epochs: int | None = Field(None, ge=1, le=10_000)
    k: int | None = Field(None, ge=0, le=3)
    batch_size: int | None = Field(None, ge=1, le=1_000_000)
    warmup_epochs: int | None = Field(None, ge=1, le=10_000)
    job_timeout_s: float | None = Field(None, gt=0, le=86_400)
    memory_limit: str | None = Field(None, pattern=r"^[1-9][0-9]*[kmg]$")


class RunParams(_Strict):
    """A pipeline run's parameters: what engineers pass when they trigger a run by hand.

    The DAG's Params are generated from this class (``run_param_schemas``), so the form,
    the REST API and the pipeline validate the same rules.
    """

    models: list[Model] = Field(default_factory=lambda: list(MODELS), min_length=1, description="models to run")
    datasets: list[str] = Field(default_factory=lambda: ["car", "adult"], min_length=1, description="dataset names",
                                json_schema_extra={"items": {"type": "string", "enum": sorted(REGISTRY)}})
    seeds: list[Annotated[int, Field(ge=0, le=2**32 - 1)]] = Field(
        default_factory=lambda: [0, 1, 2], min_length=1, max_length=100, description="one job per seed")
    epochs: int = Field(10, ge=1, le=10_000, description="adversarial epochs")
    k: int = Field(0, ge=0, le=3, description="GANBLR's k")
    batch_size: int = Field(32, ge=1, le=1_000_000)
    warmup_epochs: int = Field(1, ge=1, le=10_000)
    synthetic_rows: int | None = Field(None, ge=1, le=10_000_000, description="empty: as many as the training rows")
    row_limit: int | None = Field(None, ge=20, description="empty: all rows")
    discretise_bins: int = Field(5, ge=2, le=64)
    classifiers: list[Classifier] = Field(default_factory=lambda: list(CLASSIFIERS), min_length=1)
    job_timeout_s: float = Field(3600, gt=0, le=86_400, description="a job past this is stopped and recorded as timeout")
    memory_limit: str = Field("6g", pattern=r"^[1-9][0-9]*[kmg]$", description="per-container memory limit, e.g. 6g")
    force_rebuild: bool = Field(False, description="rebuild the image even if its inputs are unchanged")
    model_overrides: dict[Model, ModelOverride] = Field(
        default_factory=dict, description='per-model changes, e.g. {"ganblr++": {"epochs": 50, "memory_limit": "8g"}}')

    @field_validator("datasets")
    @classmethod
    def _known_datasets(cls, value: list[str]) -> list[str]:
        unknown = [d for d in value if d not in REGISTRY]
        if unknown:
            raise ValueError(f"unknown dataset(s) {unknown}; known: {', '.join(sorted(REGISTRY))}")
        return value

    @field_validator("models", "datasets", "seeds", "classifiers")
    @classmethod
    def _unique(cls, value: list) -> list:
        if len(set(value)) != len(value):
            raise ValueError("lists a value twice")
        return value

    def for_model(self, model: str, name: str):
        """The value of parameter ``name`` for ``model``: its override if set, else the run's."""
        override = self.model_overrides.get(model)
        value = getattr(override, name, None) if override else None
        return getattr(self, name) if value is None else value

    def specs(self) -> list[JobSpec]:
        """One job spec per model x dataset x seed."""
        specs = []
        for model in self.models:
            knobs = {n: self.for_model(model, n) for n in ("k", "epochs", "batch_size", "warmup_epochs")}
            specs += [
                JobSpec(model=model, dataset=dataset, seed=seed, params=ModelParams(**knobs),
                        synthetic_rows=self.synthetic_rows, row_limit=self.row_limit,
                        discretise_bins=self.discretise_bins, classifiers=self.classifiers,
                        timeout_s=self.for_model(model, "job_timeout_s"))
                for dataset in self.datasets for seed in self.seeds
            ]
        return specs


def run_param_schemas() -> dict[str, tuple[Any, dict[str, Any]]]:
    """name -> (default, JSON schema) for each run parameter: what Airflow's Param takes."""
    schema = RunParams.model_json_schema()
    defaults = RunParams().model_dump(mode="json")
    out = {}
    for name, prop in schema["properties"].items():
        prop = {k: v for k, v in prop.items() if k not in ("default", "title")}
        if "$ref" in json.dumps(prop):  # a nested model: carry its definitions along
            prop["$defs"] = schema["$defs"]
        if "anyOf" in prop:  # "X | None" -> a nullable X, as Airflow's form understands it
            options = prop.pop("anyOf")
            concrete = next(o for o in options if o.get("type") != "null")
            prop.update(concrete)
            prop["type"] = [concrete["type"], "null"]
        out[name] = (defaults[name], prop)
    return out


def _explain(source: str, err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        parts.append(f"{field}: {msg}" + (f" (got {e['input']!r})" if "input" in e and e["type"] != "missing" and not isinstance(e["input"], dict) else ""))
    return f"{source}: " + "; ".join(parts)


def _parse(cls: type[BaseModel], data: Any, source: str) -> Any:
    field = next(name for name in cls.model_fields if name.endswith("_version"))
    known = cls.model_fields[field].default
    if isinstance(data, dict) and data.get(field, known) != known:
        raise ContractError(f"{source}: {field} {data[field]!r} is not supported (this ganblr-bench reads {known})")
    try:
        return cls.model_validate(data)
    except ValidationError as err:
        raise ContractError(_explain(source, err)) from None


def parse_spec(data: dict[str, Any], source: str = "job spec") -> JobSpec:
    return _parse(JobSpec, data, source)


def parse_result(data: dict[str, Any], source: str = "job result") -> JobResult:
    return _parse(JobResult, data, source)


def parse_run(data: dict[str, Any], source: str = "run info") -> RunInfo:
    return _parse(RunInfo, data, source)


def parse_params(data: dict[str, Any], source: str = "run parameters") -> RunParams:
    try:
        return RunParams.model_validate(data)
    except ValidationError as err:
        raise ContractError(_explain(source, err)) from None


def _read_json(path: Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise ContractError(f"{path}: no such file") from None
    except json.JSONDecodeError as err:
        raise ContractError(f"{path}: not valid JSON ({err})") from None


def load_spec(path: Path) -> JobSpec:
    return parse_spec(_read_json(path), str(path))


def load_result(path: Path) -> JobResult:
    return parse_result(_read_json(path), str(path))


def load_run(path: Path) -> RunInfo:
    return parse_run(_read_json(path), str(path))


def write_json_atomic(path: Path, payload: str) -> None:
    """Write so that a reader sees the old file or the whole new one, never half of one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(payload)
    os.replace(tmp, path)


def json_schemas() -> dict[str, Any]:
    return {"job_spec": JobSpec.model_json_schema(), "job_result": JobResult.model_json_schema(),
            "run_info": RunInfo.model_json_schema()}
