"""The shared image: its fingerprint, and building it only when its inputs changed.

The tag is ``ganblr-bench:inputs-<hash>``, where the hash covers every build input the
Dockerfile reads (Dockerfile, the hash-locked requirements, package source, wheelhouse, build
arguments such as the stack) but not the optional
extra CA certificates, which change how the build reaches PyPI, not what it builds.
If the tag exists the build is skipped and recorded as cached. The Docker client is
passed in (``docker.APIClient``, e.g. from Airflow's DockerHook), so this module needs
no Airflow and is tested against the real engine.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ganblr_bench import __version__
from ganblr_bench.contract import ImageFacts
from ganblr_bench.errors import ImageError

REPOSITORY = "ganblr-bench"
TARGET = "bench"  # the Dockerfile's benchmark stage (the Airflow image has its own: docker/airflow.Dockerfile)
_INPUTS = (
    "Dockerfile",
    ".dockerignore",
    "pyproject.toml",
    "requirements-build.lock",
    "requirements-models.in",
    "requirements-models.lock",
)
_INPUT_DIRS = ("include", "docker/wheels")


def input_files(context: Path) -> list[Path]:
    files = [context / name for name in _INPUTS if (context / name).exists()]
    for folder in _INPUT_DIRS:
        files += sorted(
            p
            for p in (context / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
    return files


def inputs_hash(context: Path, build_args: dict[str, str] | None = None) -> str:
    """sha256 over the build inputs' paths and contents (and build args): the image's fingerprint."""
    context = Path(context)
    if not (context / "Dockerfile").exists():
        raise ImageError(f"no Dockerfile in build context {context}")
    digest = hashlib.sha256()
    for path in input_files(context):
        digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes() + b"\0")
    for key, value in sorted((build_args or {}).items()):
        digest.update(f"{key}={value}\0".encode())
    return digest.hexdigest()


def stack_args(stack: str, today: date | None = None) -> dict[str, str]:
    """Build arguments of a library stack (the Dockerfile's STACK).

    ``locked`` installs the hash-locked pins and needs none. ``latest`` resolves the newest
    releases of the direct requirements; the day is a build argument, so the image (and
    its tag) is resolved afresh once a day rather than kept from a stale layer cache.
    """
    if stack == "locked":
        return {}
    if stack != "latest":
        raise ImageError(f"unknown stack {stack!r}: locked or latest")
    return {"STACK": "latest", "STACK_AS_OF": (today or datetime.now(UTC).date()).isoformat()}


@dataclass(frozen=True)
class Built:
    facts: ImageFacts
    log_tail: list[str]


def ensure(
    client: Any,
    context: Path,
    force: bool = False,
    build_args: dict[str, str] | None = None,
    say: Callable[[str], None] | None = None,
) -> Built:
    """Build the image unless a tag for these inputs exists (or ``force``); return its facts. ``say`` (e.g.
    ``print``) hears each build step as it starts, so a long build shows where it is."""
    fingerprint = inputs_hash(context, build_args)
    return built_once(
        client,
        f"{REPOSITORY}:inputs-{fingerprint[:16]}",
        fingerprint,
        force,
        say,
        path=str(context),
        target=TARGET,
        buildargs={"VERSION": __version__} | (build_args or {}),  # the image's version label
    )


def built_once(
    client: Any, ref: str, fingerprint: str, force: bool, say: Callable[[str], None] | None, **options: Any
) -> Built:
    """``ref`` as it is when the tag exists (unless ``force``), else built with ``options``; its facts."""
    if not force:
        existing = image_id(client, ref)
        if existing:
            return Built(ImageFacts(ref=ref, digest=existing, inputs_hash=fingerprint, build_s=0.0, cached=True), [])
    seconds, lines = build(client, ref, say, **options)
    digest = image_id(client, ref)
    if not digest:
        raise ImageError(f"docker build of {ref} reported success but the tag is missing")
    return Built(ImageFacts(ref=ref, digest=digest, inputs_hash=fingerprint, build_s=seconds, cached=False), lines[-5:])


def build(client: Any, ref: str, say: Callable[[str], None] | None, **options: Any) -> tuple[float, list[str]]:
    """Build ``ref`` with the classic builder (host network: the engine may have no bridge), saying each step as
    it starts; (seconds, the build's output lines). A failed build raises ImageError with the output's tail."""
    started = time.perf_counter()
    lines: list[str] = []
    for chunk in client.build(tag=ref, network_mode="host", rm=True, forcerm=True, decode=True, **options):
        if "error" in chunk:
            raise ImageError(f"docker build of {ref} failed: {chunk['error'].strip()}\n" + "".join(lines[-20:]))
        if "stream" in chunk:
            lines.append(chunk["stream"])
            if say is not None and chunk["stream"].startswith("Step "):
                say(f"build {time.perf_counter() - started:6.1f} s: {chunk['stream'].strip()[:160]}")
    return round(time.perf_counter() - started, 2), lines


def image_id(client: Any, ref: str) -> str | None:
    try:
        return str(client.inspect_image(ref)["Id"])
    except Exception as err:  # docker.errors.ImageNotFound; other errors surface on build
        if type(err).__name__ in ("ImageNotFound", "NotFound"):
            return None
        raise
