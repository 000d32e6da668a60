"""A run on disk: the names in a run folder, and the one safe way to read and write them.

Layout of a run folder (under the results root, one per run)::

    <results root>/<run key>/run.json                run facts (contract.RunInfo)
    <results root>/<run key>/<job>/spec.json         what the job runs (contract.JobSpec)
    <results root>/<run key>/<job>/result.json       what it measured (contract.JobResult)
    <results root>/<run key>/<job>/synthetic.csv     the sample it generated
    <results root>/<run key>/<job>/bins.json         what its bin labels stand for (GANBLR, the references)
    <results root>/<run key>/<job>/placement.json    the cores it was leased (contract.Placement)
    <results root>/<run key>/report/                 the run's comparison report
    <results root>/.trtr-cache/                      TRTR scores every job and run shares (job.utility.TrtrCache)

The run key is the run id made safe for paths and container names (with a short hash of the id whenever
that changed it, so two run ids never share a folder).

**Everything in a run folder is hostile input**: job containers write into their folders, and the recorder
reads them beside the Docker socket. So every read here opens regular files only (no links, FIFOs or
devices: ``lstat`` first, ``O_NOFOLLOW | O_NONBLOCK``, ``fstat`` again), never leaves the folder it was asked
to read (resolved paths checked), refuses a file over its size limit or JSON nested too deep or with a key
twice, naming the file; and every write replaces atomically or creates fresh (``O_EXCL``, after moving an
earlier entry aside, a planted link included), never through an existing link. Nothing else in the package
knows these names or opens these files.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ganblr_bench.contract import (
    JobQueue,
    JobResult,
    JobSpec,
    Placement,
    RunInfo,
    content_sha256,
    parse,
    parse_result,
    parse_run,
    parse_spec,
)
from ganblr_bench.errors import ContractError

RUN_FILE = "run.json"
SPEC_FILE = "spec.json"
RESULT_FILE = "result.json"
SYNTHETIC_FILE = "synthetic.csv"
BINS_FILE = "bins.json"  # what the bin labels in synthetic.csv stand for (discrete-input generators)
PLACEMENT_FILE = "placement.json"
QUEUE_FILE = "queue.json"  # the run's job tasks as the scheduler queues them (run/queue.py)
REPORT_DIR = "report"
TRTR_CACHE_DIR = ".trtr-cache"  # a run key never starts with '.', so no run can own this name

# The largest file of each kind a reader accepts (a result with every figure is a few KiB; error texts are
# cut by the runner long before this).
LIMITS = {
    RUN_FILE: 1 << 20,
    SPEC_FILE: 64 << 10,
    RESULT_FILE: 4 << 20,
    PLACEMENT_FILE: 16 << 10,
    QUEUE_FILE: 4 << 20,
}
DEFAULT_LIMIT = 4 << 20
MAX_DEPTH = 32  # JSON nesting: our files need 5


def run_key(run_id: str) -> str:
    key = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._-")[:120]
    if not key or key != run_id:  # "a:b", "a;b" and "a b" must not share a folder
        key = f"{key or 'run'}-{hashlib.sha256(run_id.encode()).hexdigest()[:8]}"
    return key


def trtr_cache(results_root: Path) -> Path:
    """The TRTR cache beside the run folders."""
    return Path(results_root) / TRTR_CACHE_DIR


# ---------------------------------------------------------------- safe reads


def _inside(path: Path, root: Path) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def read_bytes(path: Path, limit: int | None = None, root: Path | None = None) -> bytes:
    """The bytes of a regular file (no link, FIFO or device) of at most ``limit`` bytes, inside ``root``."""
    path = Path(path)
    limit = limit if limit is not None else LIMITS.get(path.name, DEFAULT_LIMIT)
    try:
        before = os.lstat(path)
    except FileNotFoundError:
        raise ContractError(f"{path}: no such file") from None
    except OSError as err:
        raise ContractError(f"{path}: cannot be read ({err.strerror})") from None
    if stat.S_ISLNK(before.st_mode):
        raise ContractError(f"{path}: is a link, not a file: not followed")
    if root is not None and not _inside(path, root):  # a folder on the way is a link
        raise ContractError(f"{path}: leads outside {root} through a link: not read")
    if stat.S_ISDIR(before.st_mode):
        raise ContractError(f"{path}: is a folder, not a file")
    if not stat.S_ISREG(before.st_mode):
        raise ContractError(f"{path}: is not a regular file (a FIFO, socket or device): not read")
    if before.st_size > limit:
        raise ContractError(f"{path}: {before.st_size} bytes, more than the {limit} a {path.name} may have")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except PermissionError:
        raise ContractError(f"{path}: not readable (permission denied)") from None
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise ContractError(f"{path}: is a link, not a file: not followed") from None
        raise ContractError(f"{path}: cannot be read ({err.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        now = os.fstat(fh.fileno())
        if (now.st_ino, now.st_dev) != (before.st_ino, before.st_dev) or not stat.S_ISREG(now.st_mode):
            raise ContractError(f"{path}: changed while it was opened: not read")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ContractError(f"{path}: more than the {limit} bytes a {path.name} may have")
    return data


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"key {key[:40]!r} appears twice")
        found[key] = value
    return found


def _no_constants(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON can hold")


def _depth(value: Any) -> int:
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            todo += [(v, depth + 1) for v in (item.values() if isinstance(item, dict) else item)]
    return deepest


def loads(data: bytes | str, source: str) -> Any:
    """Strict JSON: UTF-8, no NaN or Infinity, no key twice, at most MAX_DEPTH deep; a ContractError naming
    ``source`` otherwise."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
    except UnicodeDecodeError as err:
        raise ContractError(f"{source}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_no_constants)
    except RecursionError:
        raise ContractError(f"{source}: nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as err:
        raise ContractError(f"{source}: not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
    except ValueError as err:
        raise ContractError(f"{source}: not valid JSON ({err})") from None
    if _depth(value) > MAX_DEPTH:
        raise ContractError(f"{source}: nested deeper than {MAX_DEPTH} levels")
    return value


def read_json(path: Path, root: Path | None = None, limit: int | None = None) -> Any:
    return loads(read_bytes(path, limit, root), str(path))


def load_spec(path: Path, root: Path | None = None) -> JobSpec:
    return parse_spec(read_json(path, root), str(path))


def load_result(path: Path, root: Path | None = None) -> JobResult:
    return parse_result(read_json(path, root), str(path))


def load_placement(path: Path, root: Path | None = None) -> Placement:
    placement: Placement = parse(Placement, read_json(path, root), str(path))
    return placement


def load_queue(path: Path, root: Path | None = None) -> JobQueue:
    queue: JobQueue = parse(JobQueue, read_json(path, root), str(path))
    return queue


def load_run(path: Path, root: Path | None = None) -> RunInfo:
    return parse_run(read_json(path, root), str(path))


# ---------------------------------------------------------------- safe writes


def write_text_atomic(path: Path, payload: str) -> None:
    """Write so that a reader sees the old file or the whole new one, never half of one; an existing link at
    ``path`` is replaced, never followed."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    try:
        with create_fresh(tmp, keep_earlier=False) as fh:
            fh.write(payload.encode("utf-8"))
        os.replace(tmp, path)  # rename(2) replaces a link at path itself
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)  # a full disk leaves no half file behind
        raise


def _aside(path: Path) -> Path | None:
    """Move whatever is at ``path`` (a file, a link, a FIFO) to the next free ``<stem>.earlier-N<suffix>``."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    n = 1
    while True:
        target = path.with_name(f"{path.stem}.earlier-{n}{path.suffix}")
        try:
            os.lstat(target)
        except FileNotFoundError:
            os.rename(path, target)  # rename moves a link, never its target
            return target
        n += 1


@contextlib.contextmanager
def create_fresh(path: Path, keep_earlier: bool = True) -> Iterator[IO[bytes]]:
    """A new file at ``path``, opened for writing: whatever was there is moved aside first (``keep_earlier``),
    and the file is created with ``O_EXCL | O_NOFOLLOW``, so a link planted there is never written through."""
    path = Path(path)
    if keep_earlier:
        _aside(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o644)
    with os.fdopen(fd, "wb") as fh:
        yield fh


@contextlib.contextmanager
def create_fresh_text(path: Path) -> Iterator[IO[str]]:
    with create_fresh(path) as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
        yield text


def retire_result(job_folder: Path) -> Path | None:
    """Move a job's result.json aside (result.superseded-N.json): a new try starts with no result."""
    folder = Path(job_folder)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(folder / PLACEMENT_FILE)  # an earlier try's cores, not this one's
    current = folder / RESULT_FILE
    try:
        os.lstat(current)
    except FileNotFoundError:
        return None
    n = 1
    while os.path.lexists(folder / f"result.superseded-{n}.json"):
        n += 1
    target = folder / f"result.superseded-{n}.json"
    os.replace(current, target)
    return target


def write_placement(job_folder: Path, placement: Placement) -> None:
    write_text_atomic(Path(job_folder) / PLACEMENT_FILE, placement.model_dump_json(indent=2))


def has_result(job_folder: Path) -> bool:
    return os.path.lexists(Path(job_folder) / RESULT_FILE)


def job_folders(folder: Path) -> list[Path]:
    """The job folders of a run folder (those with a spec or a result), never through a link; sorted."""
    found = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and any(
                os.path.lexists(os.path.join(entry.path, name)) for name in (SPEC_FILE, RESULT_FILE)
            ):
                found.append(Path(entry.path))
    return sorted(found)


def linked_job_folders(folder: Path) -> list[Path]:
    """Entries of a run folder that are links to folders: never read as jobs, named as rejected."""
    with os.scandir(folder) as entries:
        return sorted(Path(e.path) for e in entries if e.is_symlink() and e.is_dir(follow_symlinks=True))


def missing_results(folder: Path) -> list[str]:
    """The jobs of a run that have a spec and no result yet."""
    return [p.name for p in job_folders(folder) if os.path.lexists(p / SPEC_FILE) and not has_result(p)]


# ---------------------------------------------------------------- collecting


@dataclass
class Batch:
    """One run and the results to record with it."""

    run: RunInfo
    results: list[tuple[JobResult, str | None]] = field(default_factory=list)  # (result, artifact folder)


def _checked(result: JobResult, job_folder: Path, key: str | None) -> JobResult:
    """The result, if it is the job of the folder it lies in (and of this run): a result that says it is another
    job would silently take that job's place."""
    if result.job != job_folder.name:
        raise ContractError(
            f"{job_folder / RESULT_FILE}: says it is job {result.job[:80]!r}, in folder {job_folder.name!r}"
        )
    if result.spec.name != result.job:
        raise ContractError(f"{job_folder / RESULT_FILE}: job {result.job!r} but its spec is of {result.spec.name!r}")
    if key is not None and result.spec.run not in (None, key):
        raise ContractError(f"{job_folder / RESULT_FILE}: belongs to run {result.spec.run!r}, in run folder {key!r}")
    return result


def _with_placement(result: JobResult, job_folder: Path, root: Path) -> JobResult:
    """The result with the placement its leaser wrote beside it (the job itself cannot know its peers)."""
    path = job_folder / PLACEMENT_FILE
    if result.placement is not None or not os.path.lexists(path):
        return result
    return result.model_copy(update={"placement": load_placement(path, root)})


def collect(path: Path) -> tuple[Batch | None, list[str]]:
    """Read a run folder (run.json + <job>/result.json) or a job folder (result.json).

    Returns the batch of valid results and one message per rejected file, naming the file and the field; a
    rejected file does not stop the others.
    """
    path = Path(path)
    rejected: list[str] = []
    if os.path.lexists(path / RUN_FILE):
        run_file, root = path / RUN_FILE, path
        folders = [p for p in job_folders(path) if os.path.lexists(p / RESULT_FILE)]
        rejected += [
            f"{p}: a link to a folder elsewhere, not a job folder of this run" for p in linked_job_folders(path)
        ]
        key = path.name
    elif os.path.lexists(path / RESULT_FILE):
        run_file, root, folders, key = path.parent / RUN_FILE, path, [path], None
    else:
        return None, [f"{path}: neither {RUN_FILE} nor {RESULT_FILE} found"]
    results: list[tuple[JobResult, str | None]] = []
    for folder in folders:
        try:
            result = _checked(load_result(folder / RESULT_FILE, root), folder, key)
            results.append((_with_placement(result, folder, root), str(Path(os.path.realpath(folder)))))
        except ContractError as err:
            rejected.append(str(err))
    if os.path.lexists(run_file):
        try:
            run = load_run(run_file, run_file.parent)
        except ContractError as err:
            return None, rejected + [str(err)]
        if key is not None and run_key(run.run_id) != key:
            return None, rejected + [f"{run_file}: run {run.run_id[:80]!r} does not belong in folder {key!r}"]
    elif results:
        # A job run by hand: a run of its own, named after its content so re-recording is a no-op.
        first = results[0][0]
        run = RunInfo(
            run_id=f"cli-{content_sha256(first)[:16]}",
            kind="cli",
            started_at=first.started_at,
            finished_at=first.finished_at,
        )
    else:
        return None, rejected
    return Batch(run, results), rejected
