"""docs/architecture.md lists every core module once, and the core's imports only point down its floors."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "include" / "ganblr_bench"
DOC = (ROOT / "docs" / "architecture.md").read_text()


def floors() -> dict[str, int]:
    return {name: int(floor) for floor, name in re.findall(r"^\| (\d) \| `(\w+)\.py` \|", DOC, re.M)}


def imports(module: str) -> set[str]:
    text = (CORE / f"{module}.py").read_text()
    found = set(re.findall(r"^\s*from \.(\w+) import", text, re.M))
    for names in re.findall(r"^\s*from \. import ([\w, ]+)", text, re.M):
        found |= {n.strip() for n in names.split(",")}
    return found - {"__version__"}


def test_every_core_module_is_listed_once():
    modules = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    listed = re.findall(r"^\| \d \| `(\w+)\.py` \|", DOC, re.M)
    assert sorted(listed) == modules


def test_imports_point_to_lower_floors_only():
    floor = floors()
    upward = [(m, d) for m in floor for d in imports(m) if floor[d] >= floor[m]]
    assert upward == []


def test_the_core_has_no_airflow_import():
    offenders = [p.name for p in CORE.rglob("*.py") if re.search(r"^\s*(from|import) airflow", p.read_text(), re.M)]
    assert offenders == []
