"""docs/architecture.md is kept true: every core module is listed once in its wing, each wing imports only the
wings it may, there is no import cycle, the job's side loads nothing of the scheduler's, and the core has no
Airflow import."""

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "include" / "ganblr_bench"
DOC = (ROOT / "docs" / "architecture.md").read_text()
WINGS = ("job", "run", "warehouse", "analysis", "present")
# Who may import whom: the base (the top-level modules) is shared by all; the scheduler's side (run) drives the
# warehouse, the analysis and the presentation, and never imports what runs inside a job's container.
MAY_IMPORT = {
    "base": {"base"},
    "job": {"base", "job"},
    "warehouse": {"base", "warehouse"},
    "analysis": {"base", "warehouse", "analysis"},
    "present": {"base", "analysis", "present"},
    "run": {"base", "warehouse", "analysis", "present", "run"},
    "cli": {"base", "job", "run", "warehouse", "analysis", "present", "cli"},
}


def modules() -> list[str]:
    return sorted(str(p.relative_to(CORE)) for p in CORE.rglob("*.py") if p.name != "__init__.py")


def wing(module: str) -> str:
    first = module.split("/")[0]
    return first if first in WINGS else "cli" if module == "cli.py" else "base"


def _module_of(dotted: str) -> str | None:
    parts = dotted.split(".")[1:]
    if not parts:
        return None
    path = CORE.joinpath(*parts)
    if path.with_suffix(".py").exists():
        return str(path.with_suffix(".py").relative_to(CORE))
    return None


def imports(module: str) -> set[str]:
    """The core modules ``module`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse((CORE / module).read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "ganblr_bench":
            target = _module_of(node.module)
            if target:
                found.add(target)
            for alias in node.names:
                child = _module_of(f"{node.module}.{alias.name}")
                if child:
                    found.add(child)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("ganblr_bench.") and _module_of(alias.name):
                    found.add(_module_of(alias.name))
    return found - {module}


def test_every_core_module_is_listed_once_in_its_wing():
    listed = re.findall(r"^\| (\w+) \| `([\w/]+\.py)` \|", DOC, re.M)
    assert sorted(m for _, m in listed) == modules()
    assert all(w == wing(m) for w, m in listed), [(w, m) for w, m in listed if w != wing(m)]


def test_each_wing_imports_only_the_wings_it_may():
    wrong = [(m, d) for m in modules() for d in imports(m) if wing(d) not in MAY_IMPORT[wing(m)]]
    assert wrong == []


def test_there_is_no_import_cycle():
    graph = {m: imports(m) for m in modules()}
    done, path = set(), []

    def visit(m: str) -> None:
        if m in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(m) :] + [m]))
        if m in done:
            return
        path.append(m)
        for d in sorted(graph[m]):
            visit(d)
        path.pop()
        done.add(m)

    for m in graph:
        visit(m)


def test_a_job_loads_nothing_of_the_scheduler_side():
    """What runs in the image (the job's wing and the base) pulls in no module of run, warehouse, analysis or
    present: the image needs only the job's side."""
    probe = (
        "import sys, ganblr_bench.job.runner, ganblr_bench.job.generators, ganblr_bench.job.preparation;"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('ganblr_bench.'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert [m for m in loaded if m.split(".")[1] in ("run", "warehouse", "analysis", "present")] == []


def test_the_core_has_no_airflow_import():
    offenders = [p.name for p in CORE.rglob("*.py") if re.search(r"^\s*(from|import) airflow", p.read_text(), re.M)]
    assert offenders == []
