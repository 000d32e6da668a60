"""The generators a run can benchmark, and the interface every one of them implements (docs/generators.md).

A generator is described by facts (``GeneratorInfo``: name, label, role, the input it takes, the model stack
its image is built with, a rough cost) and built, in the job's process only, by its ``factory``: a
``"module:callable"`` path taking ``GeneratorParams`` and returning an object with ``fit(x, y)`` and
``sample(n) -> (x, y)`` (``Generator``). The scheduler plans, names and reports jobs from the facts alone,
without the model stack: the module a factory names is imported only where the job runs.

- **built in**: GANBLR and GANBLR++ (``ganblr`` 0.1.3, under test), and the references every score is read
  against: ``independent`` (the floor) and ``naive-bayes`` (``job/generators.py``);
- **from outside**: a Python package declares ``GeneratorInfo`` objects under the entry point group
  ``ganblr_bench.generators`` (``generators/katabatic``: Katabatic's GANBLR). One that does not load, or
  clashes, is left out and said (``ganblr-bench generators``); the others go on.

``input`` says how a generator sees numeric columns: ``discrete`` (equal-frequency bins fitted on the training
rows) or ``mixed`` (numbers as numbers). ``stack`` names the model stack of the image its jobs run in:
``models`` (requirements-models.lock: the shared image) or a variant's NAME (requirements-NAME.lock, built
from the same Dockerfile) when its requirements conflict with ours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import metadata
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import pandas as pd

ENTRY_POINTS = "ganblr_bench.generators"
MAIN_STACK = "models"  # requirements-models.lock: the image GANBLR and GANBLR++ share
GENERATOR_NAME = re.compile(r"[a-z0-9][a-z0-9+._-]{0,39}")
_FACTORY = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_]\w*")
_STACK = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


class Role(StrEnum):
    UNDER_TEST = "under test"
    REFERENCE = "reference"


class InputKind(StrEnum):
    DISCRETE = "discrete"  # numeric columns as equal-frequency bins
    MIXED = "mixed"  # numeric columns as numbers


@dataclass(frozen=True)
class Cost:
    """A rough cost, for ordering the queue before a series has history (run/queue.py): seconds of startup and
    job = fixed + per_krow x thousands of training rows + per_krow_epoch x thousands of rows x epochs. Set
    from runs on 2 cores here (breast-cancer and adult); a series' own history replaces it after one run."""

    fixed_s: float
    per_krow_s: float = 0.0
    per_krow_epoch_s: float = 0.0


@dataclass(frozen=True)
class GeneratorParams:
    """What a factory is given: the job's seed and knobs, and the numeric columns of the prepared frame (those
    left as numbers: a ``mixed`` generator's; none for a ``discrete`` one, whose numbers arrive as bins)."""

    seed: int
    numeric_columns: list[str]
    k: int
    epochs: int
    batch_size: int
    warmup_epochs: int


class Generator(Protocol):
    """What a factory returns. ``fit`` gets the prepared training frame and its target; ``sample`` returns
    ``rows`` synthetic rows as (features with the training frame's columns, target named as at fit)."""

    def fit(self, x: pd.DataFrame, y: pd.Series) -> None: ...

    def sample(self, rows: int) -> tuple[pd.DataFrame, pd.Series]: ...


@dataclass(frozen=True)
class GeneratorInfo:
    name: str
    label: str
    role: Role
    input: InputKind
    factory: str  # "module:callable", (GeneratorParams) -> Generator; imported in the job's process only
    tensorflow: bool = False  # seeds and imports TensorFlow (the references need none: a faster startup)
    cost: Cost = Cost(10.0)
    stack: str = MAIN_STACK  # the model stack of its jobs' image: models, or a variant's NAME
    implements: str | None = None  # the generator this one is another implementation of: compared side by side
    packages: tuple[str, ...] = ()  # distributions whose versions its results record, beside the shared stack's
    source: str = field(default="built in", compare=False)  # the distribution it came from

    @property
    def slug(self) -> str:
        """The name where '+' is not allowed: job names, task ids, column prefixes ('ganblr++' -> 'ganblrpp')."""
        return slug(self.name)

    def problem(self) -> str | None:
        """What is wrong with these facts, or None."""
        if not GENERATOR_NAME.fullmatch(self.name):
            return "name: 1-40 of a-z, 0-9, + . _ -, starting with a letter or digit"
        if self.role not in set(Role) or self.input not in set(InputKind):  # a package's typo in plain text
            return f"role and input: one of {', '.join(Role)} and one of {', '.join(InputKind)}"
        if not _FACTORY.fullmatch(self.factory):
            return f"factory: {self.factory!r} is not 'module:callable'"
        if not _STACK.fullmatch(self.stack):
            return f"stack: {self.stack!r} is not a stack name (a-z, 0-9, -)"
        return None


BUILT_IN: tuple[GeneratorInfo, ...] = (
    GeneratorInfo(
        "ganblr", "GANBLR", Role.UNDER_TEST, InputKind.DISCRETE, "ganblr_bench.job.generators:GanblrModel",
        tensorflow=True, cost=Cost(20.0, 0.5, 0.12),
    ),
    GeneratorInfo(
        "ganblr++", "GANBLR++", Role.UNDER_TEST, InputKind.MIXED, "ganblr_bench.job.generators:GanblrPPModel",
        tensorflow=True, cost=Cost(25.0, 1.0, 1.8),
    ),
    GeneratorInfo(
        "independent", "independent (reference: floor)", Role.REFERENCE, InputKind.DISCRETE,
        "ganblr_bench.job.generators:IndependentModel", cost=Cost(6.0, 0.1),
    ),
    GeneratorInfo(
        "naive-bayes", "naive Bayes (reference)", Role.REFERENCE, InputKind.DISCRETE,
        "ganblr_bench.job.generators:NaiveBayesModel", cost=Cost(6.0, 0.1),
    ),
)  # fmt: skip


@dataclass(frozen=True)
class Discovery:
    generators: dict[str, GeneratorInfo]
    problems: list[str]  # one line per entry point left out, naming it


def discover(found: Any = None) -> Discovery:
    """The built-in generators and those the installed packages declare (``found``: entry points, for a test)."""
    generators = {g.name: g for g in BUILT_IN}
    problems: list[str] = []
    for point in metadata.entry_points(group=ENTRY_POINTS) if found is None else found:
        where = f"generator {point.name!r} ({ENTRY_POINTS}: {point.value})"
        try:
            info = point.load()
        except Exception as err:  # a broken package is its own problem only
            problems.append(f"{where}: does not load: {type(err).__name__}: {err}")
            continue
        if not isinstance(info, GeneratorInfo):
            problems.append(f"{where}: is a {type(info).__name__}, not a GeneratorInfo")
            continue
        bad = info.problem() or (None if info.name == point.name else f"name: {info.name!r} is not the entry point's")
        if bad is None and info.name in generators:
            bad = f"name: {info.name!r} is already {generators[info.name].source}'s"
        if bad is not None:
            problems.append(f"{where}: {bad}")
            continue
        dist = getattr(point, "dist", None)
        source = f"{dist.name} {dist.version}" if dist is not None else point.value.split(":")[0]
        generators[info.name] = GeneratorInfo(**{**info.__dict__, "source": source})
    return Discovery(generators, problems)


DISCOVERED = discover()
GENERATORS: dict[str, GeneratorInfo] = DISCOVERED.generators
MODELS: tuple[str, ...] = tuple(GENERATORS)
UNDER_TEST: tuple[str, ...] = tuple(n for n, g in GENERATORS.items() if g.role is Role.UNDER_TEST)
# What a run runs when it names no models (the nightly): the project's own, GANBLR and GANBLR++. A generator from
# outside runs when a run (or a preset: katabatic-car) names it.
DEFAULT_MODELS: tuple[str, ...] = tuple(g.name for g in BUILT_IN if g.role is Role.UNDER_TEST)
REFERENCES: tuple[str, ...] = tuple(n for n, g in GENERATORS.items() if g.role is Role.REFERENCE)
FLOOR = "independent"  # the reference every share of the way is measured from


def slug(name: str) -> str:
    return name.replace("+", "p")


def get(name: str) -> GeneratorInfo:
    try:
        return GENERATORS[name]
    except KeyError:
        raise KeyError(f"unknown generator {name!r}; known: {', '.join(GENERATORS)}") from None


def has_own_stack(name: str) -> bool:
    """The generator's jobs run in an image variant of its own stack (on its locked stack only)."""
    return name in GENERATORS and GENERATORS[name].stack != MAIN_STACK


def label(name: str) -> str:
    return GENERATORS[name].label if name in GENERATORS else name


def is_reference(name: str) -> bool:
    return name in GENERATORS and GENERATORS[name].role is Role.REFERENCE


def order(name: str) -> int:
    """Where a generator sorts: those under test first, then the references, as listed."""
    return MODELS.index(name) if name in GENERATORS else len(MODELS)
