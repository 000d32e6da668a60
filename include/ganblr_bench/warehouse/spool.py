"""The spool: batches the database could not take, kept as files until the next ``record`` or ``replay``.

A spool file is a JSON batch (a run and its results) named by its run and the hash of its content. A file is
hostile input like any run folder's (a disk can corrupt it, a person can drop anything there): each is read
through ``layout``'s safe reader and checked as a batch; one that cannot be read is moved to ``rejected/``
with a ``.reason.txt`` beside it, and the others go on. Replays may run at once: a file is claimed with a
lock before it is read, and a file another replay holds, or has just recorded and deleted, is skipped.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ganblr_bench import layout, settings
from ganblr_bench.contract import JobResult, RunInfo, parse_result, parse_run
from ganblr_bench.errors import ContractError
from ganblr_bench.layout import Batch

SPOOL_VERSION = 1
REJECTED_DIR = "rejected"


def spool_dir() -> Path:
    return settings.SPOOL.get()


def payload(batch: Batch) -> dict[str, Any]:
    return {
        "spool_version": SPOOL_VERSION,
        "run": batch.run.model_dump(mode="json"),
        "results": [{"result": r.model_dump(mode="json"), "artifact_uri": uri} for r, uri in batch.results],
    }


def batch_from(data: Any, source: str) -> Batch:
    """A spooled batch, checked: the shape, the run and every result (a ContractError names what is wrong)."""
    if not isinstance(data, dict) or not isinstance(data.get("results"), list) or "run" not in data:
        raise ContractError(f"{source}: not a spooled batch (a run and its results)")
    if data.get("spool_version") != SPOOL_VERSION:
        raise ContractError(f"{source}: spool_version {data.get('spool_version')!r} is not {SPOOL_VERSION}")
    results = []
    for i, item in enumerate(data["results"]):
        if not isinstance(item, dict) or set(item) != {"result", "artifact_uri"}:
            raise ContractError(f"{source}: results.{i}: not a result with its artifact_uri")
        uri = item["artifact_uri"]
        if uri is not None and (not isinstance(uri, str) or len(uri) > 4096):
            raise ContractError(f"{source}: results.{i}.artifact_uri: not a folder path")
        results.append((parse_result(item["result"], f"{source}: results.{i}"), uri))
    return Batch(parse_run(data["run"], f"{source}: run"), results)


def _rejected_dir(folder: Path) -> Path:
    """``<spool>/rejected``, made a folder even where something else took its name (that is moved aside)."""
    target = folder / REJECTED_DIR
    if os.path.lexists(target) and not (target.is_dir() and not target.is_symlink()):
        n = 1
        while os.path.lexists(folder / f"{REJECTED_DIR}.not-a-folder-{n}"):
            n += 1
        os.rename(target, folder / f"{REJECTED_DIR}.not-a-folder-{n}")
    target.mkdir(parents=True, exist_ok=True)
    return target


def _write(folder: Path, run_id: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", run_id)[:120]
    path = folder / f"{name}--{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    layout.write_text_atomic(path, text)
    return path


def spool(batch: Batch, folder: Path | None = None) -> Path:
    return _write(folder or spool_dir(), batch.run.run_id, json.dumps(payload(batch), sort_keys=True))


def quarantine_results(run: RunInfo, refused: list[tuple[JobResult, str | None, str]], folder: Path) -> list[str]:
    """Keep results the database refused in <spool>/rejected/, with their reasons; return one line each."""
    if not refused:
        return []
    kept = payload(Batch(run, [(r, uri) for r, uri, _ in refused]))
    kept["reasons"] = {r.job: why for r, _, why in refused}
    path = _write(_rejected_dir(folder), run.run_id, json.dumps(kept, sort_keys=True))
    return [f"{run.run_id}/{r.job}: kept in {path}" for r, _, _ in refused]


def quarantine_file(path: Path, reason: str) -> str:
    """Move a spool file that cannot be recorded to <spool>/rejected/, its reason beside it; one line saying so."""
    target = _rejected_dir(path.parent) / path.name
    os.replace(path, target)
    layout.write_text_atomic(target.with_suffix(".reason.txt"), reason + "\n")
    return f"{path}: {reason}; moved to {target}"


def _oldest_first(folder: Path) -> list[Path]:
    found = []
    for path in folder.glob("*.json"):
        with contextlib.suppress(FileNotFoundError):  # another replay just recorded it
            found.append((os.lstat(path).st_mtime, path))
    return [p for _, p in sorted(found)]


@contextlib.contextmanager
def _claim(path: Path) -> Iterator[bool]:
    """Hold ``path`` for this replay: False when another replay holds it or it is gone."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        yield False
        return
    except OSError:  # a link or a special file: let the reader name it
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield os.path.lexists(path)  # recorded and deleted by another replay between listing and locking
    finally:
        os.close(fd)


def pending(folder: Path | None = None) -> Iterator[tuple[Path, Batch | None, str | None]]:
    """Each spooled file this replay holds, oldest first: (path, its batch, None) or (path, None, why it cannot be
    read). A file is held (others skip it) until the caller moves on to the next."""
    folder = folder or spool_dir()
    if not folder.is_dir():
        return
    for path in _oldest_first(folder):
        with _claim(path) as mine:
            if not mine:
                continue
            try:
                batch = batch_from(layout.read_json(path, folder, limit=64 << 20), str(path))
            except ContractError as err:
                yield path, None, f"unreadable spool file ({err})"
                continue
            yield path, batch, None


def files(folder: Path | None = None) -> int:
    folder = folder or spool_dir()
    return len(list(folder.glob("*.json"))) if folder.is_dir() else 0
