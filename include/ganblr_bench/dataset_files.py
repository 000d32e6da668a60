"""Where dataset files come from, verified: the cache, a local mirror folder, the URL.

Order: the cache, then the configured local mirror folder, then the file's public URL.
A file's sha256 is checked whenever it enters the cache and again whenever it is read
from there, so a corrupt or substituted file never reaches a model. No pandas here: the
scheduler fetches files for containers that have no network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ganblr_bench import settings
from ganblr_bench.dataset_catalog import DataFile, DatasetInfo, get
from ganblr_bench.errors import DatasetError


@dataclass(frozen=True)
class VerifiedFile:
    path: Path
    sha256: str  # of the bytes at path, checked against the registry when the registry pins one


@dataclass(frozen=True)
class DatasetFiles:
    """A dataset's facts and its verified files: what one lookup by name returns."""

    info: DatasetInfo
    files: dict[str, VerifiedFile]  # role ("data", or "train" and "test") -> file

    @property
    def sha256_by_name(self) -> dict[str, str]:
        return {self.info.files[role].filename: f.sha256 for role, f in self.files.items()}

    @property
    def checksum(self) -> str:
        """The file's sha256, or for several files the sha256 of their sorted 'name sha256' lines."""
        shas = self.sha256_by_name
        if len(shas) == 1:
            return next(iter(shas.values()))
        lines = "".join(f"{name} {sha}\n" for name, sha in sorted(shas.items()))
        return hashlib.sha256(lines.encode()).hexdigest()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _mirror_candidates(info: DatasetInfo, f: DataFile, mirror: Path) -> list[Path]:
    # The shared mirror keeps UCI's per-dataset folders; a flat folder of files works too.
    return [mirror / info.folder / f.filename, mirror / f.filename]


def enter_cache(info: DatasetInfo, f: DataFile, source: Path, target: Path, origin: str) -> VerifiedFile:
    actual = sha256_of(source)
    if actual != f.sha256:
        raise DatasetError(
            f"dataset {info.name}: {f.filename} from {origin} has sha256 {actual[:16]}..., expected "
            f"{f.sha256[:16]}...; the file is not the original: replace it or remove it from {origin}"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return VerifiedFile(target, actual)


def download(url: str, dest: Path) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
        shutil.copyfileobj(response, out)


def fetch_file(
    info: DatasetInfo, f: DataFile, cache: Path | None = None, mirror: Path | None = None, offline: bool | None = None
) -> VerifiedFile:
    """A verified local copy of one of the dataset's files, filling the cache."""
    cache = cache or settings.CACHE.get()
    mirror = mirror if mirror is not None else settings.MIRROR.get()
    offline = settings.OFFLINE.get() if offline is None else offline
    cached = cache / info.folder / f.filename
    if cached.exists():
        if sha256_of(cached) == f.sha256:
            return VerifiedFile(cached, f.sha256)
        cached.unlink()  # corrupt or stale: fetch it again below
    if mirror is not None:
        for candidate in _mirror_candidates(info, f, mirror):
            if candidate.exists():
                return enter_cache(info, f, candidate, cached, f"mirror {candidate}")
    if not f.url:  # a registered dataset's file: planning's fetch step puts it in the cache
        raise DatasetError(
            f"dataset {info.name}: {f.filename} is not in the cache ({cache / info.folder}); "
            f"'ganblr-bench data fetch {info.name}' puts it there"
        )
    if offline:
        raise DatasetError(
            f"dataset {info.name}: {f.filename} is not in the cache ({cache}) nor the mirror "
            f"({mirror or f'unset; set {settings.MIRROR.name}'}), and downloads are off here; run "
            f"'ganblr-bench data fetch {info.name}' where the network is reachable"
        )
    with tempfile.TemporaryDirectory() as tmp:
        part = Path(tmp) / f.filename
        try:
            download(f.url, part)
        except (urllib.error.URLError, OSError) as err:
            raise DatasetError(
                f"dataset {info.name}: cannot download {f.url} ({getattr(err, 'reason', err)}); "
                f"put {f.filename} in a mirror folder and set {settings.MIRROR.name}"
            ) from None
        return enter_cache(info, f, part, cached, f.url)


def fetch(name: str, info: DatasetInfo | None = None, **kwargs: Any) -> DatasetFiles:
    """A dataset by name (or a registered one by its facts): its facts and all its files, verified (packaged sets
    need no fetching)."""
    info = info or info_for(name)
    if info.package:
        return DatasetFiles(info, {role: _package_file(info, f) for role, f in info.files.items()})
    return DatasetFiles(info, {role: fetch_file(info, f, **kwargs) for role, f in info.files.items()})


def fill_cache(name: str, cache: Path | None = None) -> DatasetFiles | None:
    """Put a dataset's verified files in the cache job containers mount read-only (they have no network).

    A dataset packaged with the model stack (Iris, inside scikit-learn) ships in the image and the
    job's venv: there is nothing to fetch, and the scheduler, which lacks that stack, need not find it.
    """
    if info_for(name).package:
        return None
    return fetch(name, cache=cache)


def info_for(name: str) -> DatasetInfo:
    try:
        return get(name)
    except KeyError as err:
        raise DatasetError(str(err.args[0])) from None


def _package_file(info: DatasetInfo, f: DataFile) -> VerifiedFile:
    try:
        path = Path(str(resources.files(info.package or "") / f.filename))
    except ModuleNotFoundError:
        path = None
    if path is None or not path.exists():
        raise DatasetError(f"dataset {info.name}: {f.filename} not found in the installed package {info.package}")
    return VerifiedFile(path, sha256_of(path))  # shipped by a pinned package: no sha256 to check against
