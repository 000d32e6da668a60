"""An engineer's build of ganblr, benchmarked against the locked one in the same run: the candidate stack.

The run parameter ``candidate`` names the build: a wheel file (``ganblr-*.whl``), a source folder (with a
``pyproject.toml`` or ``setup.py``), both as paths the scheduler sees, or a version on the package index
(``0.1.2``, ``ganblr==0.1.2``). The candidate image is the locked image with that one package replaced and
nothing else (``docker/candidate.Dockerfile``, built FROM the locked image's tag in a context of its own), tagged
``ganblr-bench:candidate-<hash>``: the hash covers the locked image's inputs, that Dockerfile and the candidate's
own bytes (a wheel's; every file of a folder but VCS folders and caches; the version), so an unchanged candidate
is built once. Every job of the run then runs on both stacks, and the report and ``compare --stack candidate``
judge candidate against locked with the same noise rules as two runs.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ganblr_bench.contract import ImageFacts
from ganblr_bench.errors import ContractError, ImageError, quote
from ganblr_bench.run import image

PACKAGE = "ganblr"  # the package a candidate replaces: the model under test
DOCKERFILE = "docker/candidate.Dockerfile"
_VERSION = re.compile(rf"(?:{PACKAGE}\s*==\s*)?([0-9][0-9A-Za-z.+!_-]{{0,63}})")
_SKIPPED = {".git", ".hg", ".svn", "__pycache__", ".pytest_cache", ".mypy_cache", "build", "dist", ".venv"}
_WHEEL = re.compile(rf"{PACKAGE}-[0-9][^/-]*-[^/]+\.whl")


class Kind(StrEnum):
    WHEEL = "wheel"
    SOURCE = "source folder"
    VERSION = "version"


@dataclass(frozen=True)
class Candidate:
    kind: Kind
    path: Path | None  # the wheel or the folder
    requirement: str | None  # ganblr==X

    @classmethod
    def parse(cls, text: str) -> Candidate:
        """What ``text`` names, checked (a path that is not there, or not a build of ganblr, is bad input)."""
        bad = f"run parameters: candidate: {quote(text)}"
        version = _VERSION.fullmatch(text.strip())
        if version and not Path(text).exists():
            return cls(Kind.VERSION, None, f"{PACKAGE}=={version.group(1)}")
        path = Path(text).expanduser()
        if not path.is_absolute():
            raise ContractError(f"{bad}: give an absolute path (the scheduler's), or a version such as 0.1.3")
        if path.suffix == ".whl":
            if not path.is_file():
                raise ContractError(f"{bad}: no such wheel file")
            if not _WHEEL.fullmatch(path.name):
                raise ContractError(f"{bad}: not a wheel of {PACKAGE} ({PACKAGE}-VERSION-...whl)")
            return cls(Kind.WHEEL, path, None)
        if path.is_dir():
            if not ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file()):
                raise ContractError(f"{bad}: a source folder needs a pyproject.toml or setup.py")
            return cls(Kind.SOURCE, path, None)
        raise ContractError(f"{bad}: not a wheel file, a source folder or a version of {PACKAGE}")

    def files(self) -> list[Path]:
        """The candidate's files, in a stable order (a folder's, without VCS folders and caches)."""
        if self.path is None:
            return []
        if self.kind is Kind.WHEEL:
            return [self.path]
        return sorted(
            p
            for p in self.path.rglob("*")
            if p.is_file() and not p.is_symlink() and not _SKIPPED & set(p.relative_to(self.path).parts)
        )

    def digest(self) -> str:
        h = hashlib.sha256(f"{self.kind}\0{self.requirement or ''}\0".encode())
        if self.path is not None:
            base = self.path.parent if self.kind is Kind.WHEEL else self.path
            for f in self.files():
                h.update(str(f.relative_to(base)).encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
        return h.hexdigest()

    def stage(self, context: Path) -> str:
        """Copy the candidate into ``context``/candidate; what pip installs inside the build."""
        target = context / "candidate"
        target.mkdir()
        if self.kind is Kind.VERSION:
            return self.requirement or ""
        assert self.path is not None
        if self.kind is Kind.WHEEL:
            shutil.copyfile(self.path, target / self.path.name)
            return f"/tmp/candidate/{self.path.name}"
        for f in self.files():
            dest = target / "src" / f.relative_to(self.path)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(f, dest)
        return "/tmp/candidate/src"


def ensure(
    client: Any,
    context: Path,
    locked: ImageFacts,
    text: str,
    force: bool = False,
    say: Callable[[str], None] | None = None,
) -> image.Built:
    """The candidate image on top of the locked one, built unless its tag exists (or ``force``); its stack is the
    locked one's lock, ganblr replaced."""
    built = _built(client, context, locked, text, force, say)
    return image.Built(built.facts.model_copy(update={"models_lock": locked.models_lock}), built.log_tail)


def _built(
    client: Any, context: Path, locked: ImageFacts, text: str, force: bool, say: Callable[[str], None] | None
) -> image.Built:
    candidate = Candidate.parse(text)
    dockerfile = Path(context) / DOCKERFILE
    if not dockerfile.is_file():
        raise ImageError(f"no {DOCKERFILE} in build context {context}")
    recipe = dockerfile.read_bytes()
    fingerprint = hashlib.sha256(
        (locked.inputs_hash or locked.digest or "").encode() + b"\0" + recipe + b"\0" + candidate.digest().encode()
    ).hexdigest()
    ref = f"{image.REPOSITORY}:candidate-{fingerprint[:16]}"
    if not force and image.image_id(client, ref):  # built once: no context to stage
        return image.built_once(client, ref, fingerprint, False, say)
    with tempfile.TemporaryDirectory(prefix="ganblr-bench-candidate-") as tmp:
        (Path(tmp) / "Dockerfile").write_bytes(recipe)
        install = candidate.stage(Path(tmp))
        return image.built_once(
            client,
            ref,
            fingerprint,
            True,
            say,
            path=tmp,
            buildargs={"BASE": locked.ref, "CANDIDATE": install},
            pull=False,
        )
