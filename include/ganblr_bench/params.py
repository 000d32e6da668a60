"""A run's parameters, the job matrix they expand to, and the form Airflow shows for them.

Engineers pass these when they trigger a run by hand (form, REST API, CLI). The DAG's Params are generated
from ``RunParams`` (``param_schemas``), so the form, the REST API and the pipeline validate the same rules.
The model knobs (``contract.Knobs``) and the per-job limits (``JobLimits``) are declared once: the run
parameters inherit them, and ``ModelOverride`` is made from them (each field optional), so a new knob is one
line. Overrides are resolved in one place, ``RunParams.for_model``.

A preset (``presets/NAME.json``: a description and some run parameters) names a run people ask for often;
``parse_params`` applies it under the parameters given. The form sends every parameter, so "given" means given
with a value other than its default: a preset's value stands unless the trigger changes it.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

from pydantic import Field, create_model, field_validator, model_validator

from ganblr_bench import dataset_registration, layout
from ganblr_bench.contract import (
    CLASSIFIERS,
    Classifier,
    Cores,
    DatasetDefinition,
    DiscretiseBins,
    JobSpec,
    Knobs,
    KnownModel,
    MemoryLimit,
    ModelParams,
    RowLimit,
    Seed,
    Strict,
    SyntheticRows,
    TimeoutS,
    parse,
)
from ganblr_bench.dataset_catalog import REGISTRY
from ganblr_bench.errors import BenchError, ContractError, quote
from ganblr_bench.generator_catalog import DEFAULT_MODELS, GENERATORS, MAIN_STACK, MODELS, REFERENCES
from ganblr_bench.states import Stack

MAX_JOBS = 200  # one trigger that expands past this is refused: split it, or a typo ran for days
DEFAULT_PRESET = "nightly"  # what the schedule runs, and a trigger that names no preset


class JobLimits(Strict):
    """What each job may use and how long it may take: per run, and per model through an override."""

    job_timeout_s: TimeoutS = 3600
    memory_limit: MemoryLimit = "6g"
    cores_per_job: Cores = Field(
        1, description="cores each job gets to itself; jobs at once on a host = its usable cores / this"
    )


class ModelSettings(Knobs, JobLimits):
    """A model's knobs and limits in one run, its override applied."""


def _all_optional(name: str, *bases: type[Strict]) -> type[Strict]:
    fields: dict[str, Any] = {}
    for base in bases:
        for field, info in base.model_fields.items():
            fields[field] = (info.rebuild_annotation() | None, Field(None, description=info.description))
    return create_model(name, __base__=Strict, __doc__="Per-model changes to a run's parameters.", **fields)


ModelOverride = _all_optional("ModelOverride", Knobs, JobLimits)


class Preset(Strict):
    """A named set of run parameters (``presets/NAME.json``)."""

    description: str = Field(min_length=1, max_length=500)
    params: dict[str, Any]


@cache
def presets() -> dict[str, Preset]:
    """The presets shipped in the package (``presets/``), by name."""
    return load_presets(resources.files("ganblr_bench").joinpath("presets"))


def load_presets(folder: Traversable) -> dict[str, Preset]:
    """Every ``NAME.json`` in ``folder``, checked as a preset whose parameters are valid run parameters."""
    found: dict[str, Preset] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        source = f"preset {entry.name}"
        data = layout.loads(entry.read_bytes(), source)
        preset: Preset = parse(Preset, data, source, strict=True)
        if "preset" in preset.params:
            raise ContractError(f"{source}: params: a preset cannot name another preset")
        parse(RunParams, preset.params, f"{source}: params", strict=True)
        found[entry.name.removesuffix(".json")] = preset
    return found


class RunParams(Knobs, JobLimits):
    """What one run benchmarks: models x datasets x seeds (x stacks), and how."""

    preset: str = Field(
        DEFAULT_PRESET,
        max_length=64,
        description="named run parameters (presets/NAME.json, listed by 'ganblr-bench presets'); the other "
        "parameters change them where they differ from their defaults",
    )
    models: list[KnownModel] = Field(
        default_factory=lambda: list(DEFAULT_MODELS),
        min_length=1,
        description="models to run (the references too)",
        json_schema_extra={"items": {"type": "string", "enum": list[Any](MODELS)}},
    )
    references: bool = Field(
        True,
        description="also run the reference generators (independent: the floor; naive-bayes), read the models against",
    )
    datasets: list[str] = Field(
        default_factory=lambda: ["car", "adult"],
        min_length=1,
        description="dataset names: the built-in ones and those registered in GANBLR_BENCH_DATASETS",
    )
    seeds: list[Seed] = Field(
        default_factory=lambda: [0, 1, 2], min_length=1, max_length=100, description="one job per seed"
    )
    synthetic_rows: SyntheticRows | None = None
    row_limit: RowLimit | None = None
    discretise_bins: DiscretiseBins = 5
    classifiers: list[Classifier] = Field(
        default_factory=lambda: list(CLASSIFIERS),  # type: ignore[arg-type]
        min_length=1,
        description="TSTR/TRTR classifiers: lr (logistic regression), mlp, rf (random forest), xgb (XGBoost)",
    )
    stacks: list[Stack] = Field(
        default_factory=lambda: [Stack.LOCKED],
        min_length=1,
        description="library stacks: locked (the hash-locked pins, default), latest (the newest releases of the "
        "direct requirements: the canary), or both",
    )
    candidate: str | None = Field(
        None,
        max_length=4096,
        description="a build of ganblr to benchmark against the locked one, each job on both: a wheel file, a "
        "source folder (paths the scheduler sees) or a version (0.1.2, ganblr==0.1.2); adds the candidate stack",
    )
    force_rebuild: bool = Field(
        False,
        description="rebuild the images even if their inputs are unchanged (unchanged steps still come from the "
        "layer cache)",
    )
    model_overrides: dict[KnownModel, ModelOverride] = Field(  # type: ignore[valid-type]
        default_factory=dict, description='per-model changes, e.g. {"ganblr++": {"epochs": 50, "memory_limit": "8g"}}'
    )

    @field_validator("datasets")
    @classmethod
    def _known_datasets(cls, value: list[str]) -> list[str]:
        mine = [d for d in value if d not in REGISTRY]
        if mine:  # only a run that names a registered dataset reads the registrations (a bad one is told why)
            try:
                found = dataset_registration.scan()
                for name in mine:
                    found.get(name)
            except BenchError as err:
                raise ValueError(str(err)) from None
        return value

    @field_validator("preset")
    @classmethod
    def _known_preset(cls, value: str) -> str:
        if value not in presets():
            raise ValueError(f"unknown preset {quote(value)}; known: {', '.join(presets())}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _candidate_adds_its_stack(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("candidate") is not None:
            stacks = data.get("stacks") or [Stack.LOCKED.value]
            if isinstance(stacks, list) and Stack.CANDIDATE.value not in stacks:
                data = data | {"stacks": [*stacks, Stack.CANDIDATE.value]}
        return data

    @model_validator(mode="after")
    def _candidate_stack_needs_a_candidate(self) -> RunParams:
        if Stack.CANDIDATE in self.stacks and self.candidate is None:
            raise ValueError("stacks: 'candidate' needs the candidate parameter (the build of ganblr to run)")
        if Stack.CANDIDATE in self.stacks and Stack.LOCKED not in self.stacks:
            raise ValueError("stacks: a candidate is compared with the locked stack: keep 'locked'")
        return self

    @field_validator("models", "datasets", "seeds", "classifiers", "stacks")
    @classmethod
    def _unique(cls, value: list[Any]) -> list[Any]:
        if len(set(value)) != len(value):
            raise ValueError("lists a value twice")
        return value

    @property
    def all_models(self) -> list[str]:
        """The models this run runs: those asked for, then the references unless turned off."""
        extra = [m for m in REFERENCES if self.references and m not in self.models]
        return list(self.models) + extra

    @model_validator(mode="after")
    def _a_sane_number_of_jobs(self) -> RunParams:
        jobs = len(self.all_models) * len(self.datasets) * len(self.seeds) * len(self.stacks)
        if jobs > MAX_JOBS:
            raise ValueError(
                f"{len(self.all_models)} models x {len(self.datasets)} datasets x {len(self.seeds)} seeds x "
                f"{len(self.stacks)} stacks = {jobs} jobs, more than {MAX_JOBS} in one run: split it into several runs"
            )
        return self

    def for_model(self, model: str) -> ModelSettings:
        """The model's knobs and limits in this run: its override where set, else the run's."""
        override = self.model_overrides.get(model)
        changes: dict[str, Any] = override.model_dump(exclude_none=True) if override is not None else {}
        names = ModelSettings.model_fields
        return ModelSettings(**({n: getattr(self, n) for n in names} | changes))

    def specs(self, run: str | None = None, definitions: dict[str, DatasetDefinition] | None = None) -> list[JobSpec]:
        """One job spec per model (the references last) x dataset x seed x stack, in that order; ``definitions``:
        the registered datasets' (``dataset_registration.definitions``)."""
        definitions = definitions or {}
        specs = []
        for model in self.all_models:
            chosen = self.for_model(model)
            # A generator with a model stack of its own runs on its locked stack: latest and candidate are ours.
            stacks = self.stacks if GENERATORS[model].stack == MAIN_STACK else [Stack.LOCKED]
            knobs = ModelParams(**chosen.model_dump(include=set(Knobs.model_fields)))
            specs += [
                JobSpec(
                    run=run,
                    model=model,
                    dataset=dataset,
                    seed=seed,
                    params=knobs,
                    synthetic_rows=self.synthetic_rows,
                    row_limit=self.row_limit,
                    discretise_bins=self.discretise_bins,
                    classifiers=self.classifiers,
                    timeout_s=chosen.job_timeout_s,
                    cores=chosen.cores_per_job,
                    memory_limit=chosen.memory_limit,
                    stack=stack,
                    dataset_definition=definitions.get(dataset),
                )
                for dataset in self.datasets
                for seed in self.seeds
                for stack in stacks
            ]
        return specs


def parse_params(data: dict[str, Any], source: str = "run parameters") -> RunParams:
    """The run parameters: ``data`` over its preset (default ``nightly``), validated."""
    params: RunParams = parse(RunParams, with_preset(data, source), source, strict=True)
    return params


def with_preset(data: Any, source: str = "run parameters") -> Any:
    """``data`` over its preset's parameters: a parameter of ``data`` counts where it differs from its default."""
    if not isinstance(data, dict):
        return data  # parse names the problem
    name = data.get("preset", DEFAULT_PRESET)
    if not isinstance(name, str) or name not in presets():
        raise ContractError(f"{source}: preset: unknown preset {quote(name)}; known: {', '.join(presets())}")
    defaults = RunParams().model_dump(mode="json")
    given = {k: v for k, v in data.items() if k not in defaults or v != defaults[k]}
    return presets()[name].params | given | {"preset": name}


# How the trigger form groups the parameters (Airflow's Param ``section``), in the order a person fills them in.
SECTIONS = {
    "What to run": ("preset", "models", "references", "datasets", "seeds", "stacks"),
    "Model settings": ("epochs", "k", "batch_size", "warmup_epochs", "model_overrides"),
    "Data and evaluation": ("row_limit", "synthetic_rows", "discretise_bins", "classifiers"),
    "Resources and limits": ("cores_per_job", "memory_limit", "job_timeout_s", "force_rebuild"),
    "Your own build": ("candidate",),
}


def param_schemas() -> dict[str, tuple[Any, dict[str, Any]]]:
    """name -> (default, JSON schema with a description and a form section) for each run parameter: what
    Airflow's Param takes."""
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
        prop.setdefault("description", "")
        if name == "datasets":  # the built-in datasets and those registered when the DAG is parsed
            prop["items"] = {"type": "string", "enum": sorted(REGISTRY) + dataset_registration.names()}
        if name == "preset":  # the form offers the shipped presets, each shown with what it runs
            prop["enum"] = list(presets())
            prop["values_display"] = {n: f"{n}: {p.description}" for n, p in presets().items()}
        prop["section"] = next(section for section, names in SECTIONS.items() if name in names)
        out[name] = (defaults[name], prop)
    return out
