"""Shared test settings: real datasets from the shared mirror, a private cache per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_MIRROR = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session", autouse=True)
def _dataset_settings(tmp_path_factory):
    mirror = os.environ.get("GANBLR_BENCH_DATA_MIRROR") or (str(SHARED_MIRROR) if SHARED_MIRROR.is_dir() else "")
    if not mirror:
        pytest.exit("tests need the UCI mirror: set GANBLR_BENCH_DATA_MIRROR (e.g. to ../shared/datasets)", 2)
    os.environ["GANBLR_BENCH_DATA_MIRROR"] = mirror
    os.environ["GANBLR_BENCH_CACHE"] = str(tmp_path_factory.mktemp("dataset-cache"))
    os.environ["GANBLR_BENCH_OFFLINE"] = "1"  # tests never reach for the network
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    yield


@pytest.fixture(scope="session")
def mirror() -> Path:
    return Path(os.environ["GANBLR_BENCH_DATA_MIRROR"])
