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
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from ganblr_bench import __version__
from ganblr_bench.contract import ImageFacts
from ganblr_bench.errors import ImageError
from ganblr_bench.generator_catalog import MAIN_STACK

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
_INPUT_DIRS = ("include", "generators", "docker/wheels")
CONFLICT = "# conflict: "  # a variant lock's header line: one pin of ours its stack excludes (scripts/lock.sh)
_LOCAL_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+\+[^\s;\\]+)", re.M)  # torch==2.13.0+cpu


def input_files(context: Path, models_lock: str | None = None) -> list[Path]:
    names = _INPUTS if models_lock is None else (*_INPUTS, models_lock)
    files = [context / name for name in names if (context / name).exists()]
    for folder in _INPUT_DIRS:
        files += sorted(
            p
            for p in (context / folder).rglob("*")
            if p.is_file()
            and "__pycache__" not in p.parts
            and p.suffix != ".pyc"
            and not any(part.endswith(".egg-info") for part in p.parts)  # pip's, of an editable install
        )
    return files


def inputs_hash(context: Path, build_args: dict[str, str] | None = None) -> str:
    """sha256 over the build inputs' paths and contents (and build args): the image's fingerprint."""
    context = Path(context)
    if not (context / "Dockerfile").exists():
        raise ImageError(f"no Dockerfile in build context {context}")
    digest = hashlib.sha256()
    for path in input_files(context, (build_args or {}).get("MODELS_LOCK")):
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


def variant_lock(stack: str) -> str:
    """The lock of a model stack: ``models`` is ours, any other NAME an image variant's."""
    return f"requirements-{stack}.lock"


def lock_conflicts(context: Path, stack: str) -> list[str]:
    """Why a variant's stack cannot share our image: the resolver's reasons in its lock's header, one per pin."""
    lock = Path(context) / variant_lock(stack)
    if not lock.is_file():
        return []
    return [line[len(CONFLICT) :].strip() for line in lock.read_text().splitlines() if line.startswith(CONFLICT)]


def local_wheels(context: Path, stack: str, wheelhouse: Path | None) -> list[Path]:
    """The wheels a variant's lock pins by a local version (``torch==2.13.0+cpu``: not on the package index),
    found in ``wheelhouse``; ImageError naming the first that is not there."""
    lock = (Path(context) / variant_lock(stack)).read_text()
    found = []
    for name, version in _LOCAL_PIN.findall(lock):
        pattern = f"{name.replace('-', '_')}-{version}-*.whl"
        wheels = sorted(wheelhouse.glob(pattern)) if wheelhouse and wheelhouse.is_dir() else []
        if not wheels:
            raise ImageError(
                f"the {stack} stack pins {name}=={version}, which the package index does not serve: no "
                f"{pattern} in the wheelhouse (GANBLR_BENCH_WHEELHOUSE={wheelhouse or 'none'})"
            )
        found.append(wheels[0])
    return found


def ensure_variant(
    client: Any,
    context: Path,
    stack: str,
    wheelhouse: Path | None,
    force: bool = False,
    say: Callable[[str], None] | None = None,
    cold: bool = False,
) -> Built:
    """The image of a variant model stack (a generator's whose requirements conflict with ours): the one
    Dockerfile with ``MODELS_LOCK=requirements-NAME.lock``, tagged ``ganblr-bench:NAME-<hash>``. Wheels its lock
    pins by a local version are copied from the wheelhouse into a build context of its own (the repository's
    docker/wheels stays as it is, and so does the shared image's fingerprint)."""
    context = Path(context)
    lock = variant_lock(stack)
    if not (context / lock).is_file():
        raise ImageError(f"the {stack} stack has no lock: {lock} is not in {context} (scripts/lock.sh --variant)")
    args = {"MODELS_LOCK": lock}
    fingerprint = inputs_hash(context, args)
    ref = f"{REPOSITORY}:{stack}-{fingerprint[:16]}"
    options = dict(target=TARGET, buildargs={"VERSION": __version__} | args, cold=cold)
    built = _built_variant(client, context, stack, ref, fingerprint, wheelhouse, force, say, options)
    about = {"models_lock": lock, "conflicts": lock_conflicts(context, stack)}
    return Built(built.facts.model_copy(update=about), built.log_tail)


def _built_variant(
    client: Any,
    context: Path,
    stack: str,
    ref: str,
    fingerprint: str,
    wheelhouse: Path | None,
    force: bool,
    say: Callable[[str], None] | None,
    options: dict[str, Any],
) -> Built:
    if not force and image_id(client, ref):
        return built_once(client, ref, fingerprint, False, say)
    wheels = local_wheels(context, stack, wheelhouse)
    if not wheels:
        return built_once(client, ref, fingerprint, force, say, path=str(context), **options)
    with tempfile.TemporaryDirectory(prefix=f"ganblr-bench-{stack}-") as tmp:
        for path in [*input_files(context, options["buildargs"]["MODELS_LOCK"]), *(context / "docker").rglob("*")]:
            if path.is_file():
                target = Path(tmp) / path.relative_to(context)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        for wheel in wheels:
            shutil.copy2(wheel, Path(tmp) / "docker" / "wheels" / wheel.name)
        return built_once(client, ref, fingerprint, force, say, path=tmp, **options)


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
    cold: bool = False,
) -> Built:
    """Build the image unless a tag for these inputs exists (or ``force``); return its facts. ``say`` (e.g.
    ``print``) hears each build step as it starts, so a long build shows where it is."""
    fingerprint = inputs_hash(context, build_args)
    built = built_once(
        client,
        f"{REPOSITORY}:inputs-{fingerprint[:16]}",
        fingerprint,
        force,
        say,
        cold,
        path=str(context),
        target=TARGET,
        buildargs={"VERSION": __version__} | (build_args or {}),  # the image's version label
    )
    return Built(built.facts.model_copy(update={"models_lock": variant_lock(MAIN_STACK)}), built.log_tail)


def built_once(
    client: Any,
    ref: str,
    fingerprint: str,
    force: bool,
    say: Callable[[str], None] | None,
    cold: bool = False,
    **options: Any,
) -> Built:
    """``ref`` as it is when the tag exists (unless ``force``), else built with ``options``; its facts. ``cold``:
    build without the layer cache (every step run, downloads included: what a new host pays)."""
    if not force:
        existing = image_id(client, ref)
        if existing:
            facts = ImageFacts(
                ref=ref,
                digest=existing,
                inputs_hash=fingerprint,
                build_s=0.0,
                cached=True,
                size_bytes=size(client, ref),
            )
            return Built(facts, [])
    seconds, lines = build(client, ref, say, **options, **({"nocache": True} if cold else {}))
    digest = image_id(client, ref)
    if not digest:
        raise ImageError(f"docker build of {ref} reported success but the tag is missing")
    facts = ImageFacts(
        ref=ref,
        digest=digest,
        inputs_hash=fingerprint,
        build_s=seconds,
        cached=False,
        cold=ran_every_install(lines),
        size_bytes=size(client, ref),
    )
    return Built(facts, lines[-5:])


def ran_every_install(lines: list[str]) -> bool:
    """Whether a build ran every RUN step (none came from the layer cache): a cold build, which installed the whole
    model stack, rather than one that reran only the code's layer. COPY and ENV steps from the cache cost nothing."""
    runs, cached, step = 0, 0, ""
    for line in lines:
        text = line.strip()
        if text.startswith("Step "):
            step = text.split(" : ", 1)[-1]
            runs += step.startswith("RUN ")
        elif text == "---> Using cache" and step.startswith("RUN "):
            cached += 1
    return runs > 0 and cached == 0


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


def size(client: Any, ref: str) -> int | None:
    value = client.inspect_image(ref).get("Size")
    return int(value) if isinstance(value, int) else None


def image_id(client: Any, ref: str) -> str | None:
    try:
        return str(client.inspect_image(ref)["Id"])
    except Exception as err:  # docker.errors.ImageNotFound; other errors surface on build
        if type(err).__name__ in ("ImageNotFound", "NotFound"):
            return None
        raise
