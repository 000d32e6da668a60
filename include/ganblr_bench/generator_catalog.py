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
class GeneratorInfo:
    name: str
    label: str
    role: Role
    input: InputKind
    tensorflow: bool = False  # seeds and imports TensorFlow (the references need none: a faster startup)

    @property
    def slug(self) -> str:
        """The name where '+' is not allowed: job names, task ids, column prefixes ('ganblr++' -> 'ganblrpp')."""
        return slug(self.name)


GENERATORS: dict[str, GeneratorInfo] = {
    g.name: g
    for g in (
        GeneratorInfo("ganblr", "GANBLR", Role.UNDER_TEST, InputKind.DISCRETE, tensorflow=True),
        GeneratorInfo("ganblr++", "GANBLR++", Role.UNDER_TEST, InputKind.MIXED, tensorflow=True),
        GeneratorInfo("independent", "independent (reference: floor)", Role.REFERENCE, InputKind.DISCRETE),
        GeneratorInfo("naive-bayes", "naive Bayes (reference)", Role.REFERENCE, InputKind.DISCRETE),
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
