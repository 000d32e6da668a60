"""The generators a run can benchmark: for each its name, label, role and the input it takes (facts only).

The scheduler plans, names and reports jobs from these facts without the model stack; the implementations
(fit, then sample) live in ``job/generators.py``, which only the job's process imports.

- **under test**: the models the project is about, GANBLR and GANBLR++ (``ganblr`` 0.1.3);
- **reference**: generators every score is read against: ``independent`` (the floor) and ``naive-bayes``.

``input`` says how a generator sees numeric columns: ``discrete`` (equal-frequency bins fitted on the training
rows) or ``mixed`` (numbers as numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
class GeneratorInfo:
    name: str
    label: str
    role: Role
    input: InputKind
    tensorflow: bool = False  # seeds and imports TensorFlow (the references need none: a faster startup)
    cost: Cost = Cost(10.0)

    @property
    def slug(self) -> str:
        """The name where '+' is not allowed: job names, task ids, column prefixes ('ganblr++' -> 'ganblrpp')."""
        return slug(self.name)


GENERATORS: dict[str, GeneratorInfo] = {
    g.name: g
    for g in (
        GeneratorInfo(
            "ganblr", "GANBLR", Role.UNDER_TEST, InputKind.DISCRETE, tensorflow=True, cost=Cost(20.0, 0.5, 0.12)
        ),
        GeneratorInfo(
            "ganblr++", "GANBLR++", Role.UNDER_TEST, InputKind.MIXED, tensorflow=True, cost=Cost(25.0, 1.0, 1.8)
        ),
        GeneratorInfo(
            "independent", "independent (reference: floor)", Role.REFERENCE, InputKind.DISCRETE, cost=Cost(6.0, 0.1)
        ),
        GeneratorInfo(
            "naive-bayes", "naive Bayes (reference)", Role.REFERENCE, InputKind.DISCRETE, cost=Cost(6.0, 0.1)
        ),
    )
}
MODELS: tuple[str, ...] = tuple(GENERATORS)
UNDER_TEST: tuple[str, ...] = tuple(n for n, g in GENERATORS.items() if g.role is Role.UNDER_TEST)
REFERENCES: tuple[str, ...] = tuple(n for n, g in GENERATORS.items() if g.role is Role.REFERENCE)
FLOOR = "independent"  # the reference every share of the way is measured from


def slug(name: str) -> str:
    return name.replace("+", "p")


def get(name: str) -> GeneratorInfo:
    try:
        return GENERATORS[name]
    except KeyError:
        raise KeyError(f"unknown generator {name!r}; known: {', '.join(GENERATORS)}") from None


def label(name: str) -> str:
    return GENERATORS[name].label if name in GENERATORS else name


def is_reference(name: str) -> bool:
    return name in GENERATORS and GENERATORS[name].role is Role.REFERENCE


def order(name: str) -> int:
    """Where a generator sorts: those under test first, then the references, as listed."""
    return MODELS.index(name) if name in GENERATORS else len(MODELS)
