"""The stack is locked: every direct pin is in its lock, every locked package has a hash, and the
image's fingerprint covers the locks (so the tag pins what is inside the image)."""

import re
from pathlib import Path

import pytest

from ganblr_bench.run import image

ROOT = Path(__file__).resolve().parents[1]
LOCKS = (
    "requirements-build.lock",
    "requirements-models.lock",
    "requirements-dev.lock",
    "requirements-airflow.lock",
    "requirements-katabatic.lock",  # an image variant's
)


def pins(path: Path) -> dict[str, str]:
    text = path.read_text()
    return {
        name.lower().replace("_", "-"): version
        for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;\\]+)", text, re.M)
    }


@pytest.mark.parametrize("lock", LOCKS)
def test_every_locked_package_is_pinned_with_a_hash(lock):
    body = "\n".join(line for line in (ROOT / lock).read_text().splitlines() if not line.startswith("#"))
    entries = re.split(r"\n(?=[A-Za-z0-9])", body.strip())
    assert len(entries) > 3
    for entry in entries:
        assert re.match(r"^[A-Za-z0-9_.\-\[\]]+==\S+ \\", entry), entry.splitlines()[0]
        assert "--hash=sha256:" in entry, entry.splitlines()[0]


@pytest.mark.parametrize(
    "source, lock",
    [
        ("requirements-models.in", "requirements-models.lock"),
        ("requirements-airflow.in", "requirements-airflow.lock"),
        ("requirements-build.in", "requirements-build.lock"),
        ("requirements-katabatic.in", "requirements-katabatic.lock"),
    ],
)
def test_every_direct_pin_is_in_its_lock(source, lock):
    direct, locked = pins(ROOT / source), pins(ROOT / lock)
    assert direct and {name: locked.get(name) for name in direct} == direct


def test_the_venv_lock_has_the_image_lock_versions_and_ganblr():
    models, dev = pins(ROOT / "requirements-models.lock"), pins(ROOT / "requirements-dev.lock")
    assert {name: dev.get(name) for name in models} == models
    assert models["ganblr"] == "0.1.3" and "tensorflow" not in models  # ganblr's own pins are not followed


def test_the_image_fingerprint_covers_the_locks():
    inputs = {p.name for p in image.input_files(ROOT)}
    assert {"requirements-build.lock", "requirements-models.lock", "requirements-models.in"} <= inputs
    assert "requirements-katabatic.lock" not in inputs  # a variant's lock moves its own image only
    assert "requirements-katabatic.lock" in {p.name for p in image.input_files(ROOT, "requirements-katabatic.lock")}
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r" in dockerfile


def test_requirements_txt_lists_what_the_airflow_image_adds_at_its_locked_versions():
    """The top-level requirements.txt (the convention Airflow and Astronomer users look for): the Airflow image's
    additions to Airflow, generated from requirements-airflow.in and its lock by scripts/lock.sh."""
    import subprocess
    import sys

    listed = (ROOT / "requirements.txt").read_text()
    generated = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "requirements-txt.py")], capture_output=True, text=True, check=True
    ).stdout
    assert listed == generated  # kept equal: run scripts/lock.sh after changing requirements-airflow.in
    names = pins(ROOT / "requirements.txt")
    locked = pins(ROOT / "requirements-airflow.lock")
    assert "apache-airflow" not in names and "tensorflow-cpu" not in names and "ganblr" not in names
    assert {
        "apache-airflow-providers-docker",
        "apache-airflow-providers-postgres",
        "psycopg",
        "pydantic",
        "matplotlib",
    } <= set(names)
    assert all(locked[n] == v for n, v in names.items())
