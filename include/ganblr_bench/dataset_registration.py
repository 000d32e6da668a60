"""Datasets engineers register: a JSON file each in the folder ``GANBLR_BENCH_DATASETS`` (docs/datasets.md).

A registration names a CSV file with a header line (a path, relative to the registration's folder, or a URL)
and its sha256, the target column and, where inference is not enough, which columns are numeric; optionally a
test file (an official split), the separator, the missing-value marker, and a licence or source line. Names are
read when the DAG is parsed (the form offers them); the whole registration is checked when a run is planned (the
file is there and is the one registered, the target is a column with two classes or more, every row has every
field, there are enough rows): an error names the registration and the field before any job starts. Checked, it
becomes a ``DatasetDefinition``: the spec of each of its jobs carries it, and its files enter the dataset cache
under its checksum, so the job reads them like a built-in dataset's.

Inference: a column is numeric when every value that is not the missing marker is a finite number and it has
more than ``NUMERIC_DISTINCT`` distinct values; ``numeric`` (the list) or ``categorical`` (columns never numeric)
overrule it. No pandas here: the scheduler checks registrations, and it has no model stack.
"""

from __future__ import annotations

import csv
import math
import urllib.error
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from ganblr_bench import dataset_files, layout, settings
from ganblr_bench.contract import FILENAME, ColumnName, DatasetDefinition, DefinedFile, Name, Sha256, Strict, parse
from ganblr_bench.dataset_catalog import REGISTRY
from ganblr_bench.dataset_files import DatasetFiles, download, sha256_of
from ganblr_bench.errors import BenchError, ContractError, DatasetError, quote

MAX_REGISTRATION_BYTES = 64 << 10
MIN_ROWS = 50  # fewer, and a seeded split leaves a test set too small to score
MAX_BYTES = 2 << 30  # a registered file is copied into the cache and read whole by every job
NUMERIC_DISTINCT = 10
SUFFIX = ".json"


class Registration(Strict):
    """What an engineer writes (docs/datasets.md)."""

    registration_version: Literal[1] = 1
    name: Name
    title: str = Field("", max_length=200)
    file: str = Field(min_length=1, max_length=4096, description="CSV with a header line: a path or an https URL")
    sha256: Sha256
    test_file: str | None = Field(None, min_length=1, max_length=4096, description="an official test split")
    test_sha256: Sha256 | None = None
    target: ColumnName
    numeric: list[ColumnName] | None = Field(None, description="the numeric columns; default: inferred")
    categorical: list[ColumnName] = Field(default_factory=list, description="columns never inferred numeric")
    sep: str = Field(",", min_length=1, max_length=1)
    missing: str = Field("?", max_length=16)
    source: str = Field(min_length=1, max_length=500, description="licence and where the data comes from")


@dataclass(frozen=True)
class Registered:
    path: Path  # the registration file
    registration: Registration

    def where(self, field: str) -> str:
        return f"dataset registration {self.path.name}: {field}"


def folder() -> Path | None:
    return settings.DATASETS.get()


@dataclass(frozen=True)
class Scan:
    """A folder of registrations, read: the good ones by name, and each bad file's one-line problem by its stem."""

    entries: dict[str, Registered]
    problems: dict[str, str]

    def get(self, name: str) -> Registered:
        """The registration of ``name``, or the error saying why there is none."""
        if name in self.entries:
            return self.entries[name]
        if name in self.problems:
            raise ContractError(self.problems[name])
        raise DatasetError(unknown(name, self))


def scan(where: Path | None = None) -> Scan:
    """Read the registrations in the folder (``NAME.json``), not yet checked against their files (cheap: the DAG's
    form reads them when it is parsed). A bad file is a problem of its own name only: the other registrations,
    and the runs of built-in datasets, go on (an engineer's broken file never stops the nightly)."""
    where = where if where is not None else folder()
    if where is None:
        return Scan({}, {})
    if not where.is_dir():
        raise DatasetError(f"{settings.DATASETS.name}: {where} is not a folder")
    entries: dict[str, Registered] = {}
    problems: dict[str, str] = {}
    for path in sorted(where.glob(f"*{SUFFIX}")):
        try:
            entry = _read(path)
        except BenchError as err:
            problems[path.stem] = str(err)
            continue
        entries[entry.registration.name] = entry
    return Scan(entries, problems)


def _read(path: Path) -> Registered:
    source = f"dataset registration {path.name}"
    # A registration is input like any run file: a regular file (no link, FIFO), small, strict JSON.
    data = layout.loads(layout.read_bytes(path, limit=MAX_REGISTRATION_BYTES), source)
    entry = Registered(path, parse(Registration, data, source, strict=True))
    name = entry.registration.name
    if name in REGISTRY:
        raise ContractError(f"{entry.where('name')}: {quote(name)} is a built-in dataset; choose another name")
    if path.stem != name:  # one file per name: a name cannot be registered twice
        raise ContractError(f"{entry.where('name')}: {quote(name)} is registered in {path.name}: name it {name}.json")
    return entry


def names(where: Path | None = None) -> list[str]:
    """The names of the good registrations; none when the folder cannot be read (the form then offers the
    built-in datasets, and a run that names a registered one is told why)."""
    try:
        return sorted(scan(where).entries)
    except BenchError:
        return []


def _downloaded(entry: Registered, field: str, url: str, sha256: str) -> Path:
    """A URL's file, in the cache's downloads under its sha256 (fetched once)."""
    target = settings.CACHE.get() / "registered" / "downloads" / sha256
    if target.is_file() and sha256_of(target) == sha256:
        return target
    if settings.OFFLINE.get():
        raise DatasetError(f"{entry.where(field)}: {url} is not in the cache and downloads are off here")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{sha256}.part")
    try:
        download(url, part)
    except (urllib.error.URLError, OSError) as err:
        raise DatasetError(f"{entry.where(field)}: cannot download {url} ({getattr(err, 'reason', err)})") from None
    part.replace(target)
    return target


def _checked_file(entry: Registered, field: str, value: str, sha256: str) -> tuple[Path, str]:
    """(the local file a registration's field names, checked against its sha256; the name it keeps)."""
    sha_field = "sha256" if field == "file" else "test_sha256"
    split = urllib.parse.urlsplit(value)
    if split.scheme in ("http", "https"):
        path, filename = _downloaded(entry, field, value, sha256), split.path.rsplit("/", 1)[-1]
    elif split.scheme and len(split.scheme) > 1:  # not a Windows drive letter
        raise ContractError(f"{entry.where(field)}: {quote(value)}: give a path or an http(s) URL")
    else:
        path = Path(value).expanduser()
        path = path if path.is_absolute() else entry.path.parent / path
        filename = path.name
    if not FILENAME.fullmatch(filename):
        raise ContractError(f"{entry.where(field)}: {quote(filename)}: name the file with letters, digits and _.+-")
    if not path.is_file():
        raise DatasetError(f"{entry.where(field)}: {path} does not exist or is not a file")
    if path.stat().st_size > MAX_BYTES:
        raise DatasetError(f"{entry.where(field)}: {path} is larger than {MAX_BYTES >> 30} GiB")
    actual = sha256_of(path)
    if actual != sha256:
        raise DatasetError(
            f"{entry.where(sha_field)}: {filename} has sha256 {actual}, the registration says {sha256[:16]}...: "
            "the file changed since it was registered; register the new sha256 if the change is meant"
        )
    return path, filename


def _rows(entry: Registered, field: str, path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the records of a CSV file, every record with every field."""
    r = entry.registration
    with open(path, encoding="utf-8", newline="") as fh:
        try:
            records = [row for row in csv.reader(fh, delimiter=r.sep, skipinitialspace=True) if row]
        except (csv.Error, UnicodeDecodeError) as err:
            raise DatasetError(f"{entry.where(field)}: {path.name} is not a readable CSV file ({err})") from None
    if not records:
        raise DatasetError(f"{entry.where(field)}: {path.name} is empty")
    header = [c.strip() for c in records[0]]
    for number, row in enumerate(records[1:], start=2):
        if len(row) != len(header):
            raise DatasetError(
                f"{entry.where(field)}: {path.name} line {number} has {len(row)} fields, the header {len(header)}"
            )
    return header, records[1:]


def _number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def check(entry: Registered) -> DatasetDefinition:
    """The registration checked against its files (read whole): its definition, or an error naming the field."""
    return _checked(entry)[0]


def _checked(entry: Registered) -> tuple[DatasetDefinition, dict[str, Path]]:
    """(the definition, role -> the registered local file)."""
    r = entry.registration
    if (r.test_file is None) != (r.test_sha256 is None):
        raise ContractError(f"{entry.where('test_sha256')}: give test_file and test_sha256 together")
    paths = {"file": _checked_file(entry, "file", r.file, r.sha256)}
    if r.test_file is not None and r.test_sha256 is not None:
        paths["test_file"] = _checked_file(entry, "test_file", r.test_file, r.test_sha256)
    parsed = {field: _rows(entry, field, path) for field, (path, _) in paths.items()}
    header, records = parsed["file"]
    if "test_file" in parsed:
        if parsed["test_file"][0] != header:
            raise DatasetError(f"{entry.where('test_file')}: its header differs from the file's")
        records = records + parsed["test_file"][1]
    if len(set(header)) != len(header):
        raise DatasetError(f"{entry.where('file')}: the header names a column twice")
    if r.target not in header:
        raise DatasetError(f"{entry.where('target')}: {quote(r.target)} is not a column; columns: {', '.join(header)}")
    for field, columns in (("numeric", r.numeric or []), ("categorical", r.categorical)):
        unknown = [c for c in columns if c not in header or c == r.target]
        if unknown:
            raise DatasetError(f"{entry.where(field)}: {quote(unknown)} are not feature columns")
    if len(records) < MIN_ROWS:
        raise DatasetError(f"{entry.where('file')}: {len(records)} rows; a dataset needs {MIN_ROWS} at least")
    target = header.index(r.target)
    classes = {row[target].strip() for row in records}
    if len(classes) < 2:
        raise DatasetError(f"{entry.where('target')}: {quote(r.target)} has one class ({quote(next(iter(classes)))})")
    if r.numeric is not None:
        numeric = list(r.numeric)
        for column in numeric:
            i = header.index(column)
            bad = next((v for v in (row[i].strip() for row in records) if v != r.missing and not _number(v)), None)
            if bad is not None:
                raise DatasetError(f"{entry.where('numeric')}: {quote(column)} holds {quote(bad)}, not a number")
    else:
        numeric = []
        for i, column in enumerate(header):
            if column == r.target or column in r.categorical:
                continue
            values = {row[i].strip() for row in records} - {r.missing}
            if len(values) > NUMERIC_DISTINCT and all(_number(v) for v in values):
                numeric.append(column)
    files = {"data": DefinedFile(filename=paths["file"][1], sha256=r.sha256)}
    local = {"data": paths["file"][0]}
    if "test_file" in paths and r.test_sha256 is not None:
        files = {"train": files["data"], "test": DefinedFile(filename=paths["test_file"][1], sha256=r.test_sha256)}
        local = {"train": paths["file"][0], "test": paths["test_file"][0]}
    try:
        definition = DatasetDefinition(
            name=r.name,
            title=r.title or r.name,
            columns=header,
            target=r.target,
            numeric=numeric,
            files=files,
            sep=r.sep,
            missing=r.missing,
            citation=r.source,
            rows=len(records),
        )
    except ValueError as err:
        raise ContractError(f"dataset registration {entry.path.name}: {err}") from None
    return definition, local


def definitions(datasets: list[str], where: Path | None = None) -> dict[str, DatasetDefinition]:
    """The checked definitions of the registered datasets among ``datasets`` (the built-in ones need none)."""
    mine = [d for d in datasets if d not in REGISTRY]
    if not mine:
        return {}
    found = scan(where)
    return {d: check(found.get(d)) for d in mine}


def fill_cache(name: str, cache: Path | None = None) -> DatasetFiles | None:
    """Any dataset's verified files into the cache job containers mount read-only: a registered one checked
    first and kept under its definition's checksum, a built-in one as ``dataset_files.fill_cache`` does."""
    if name in REGISTRY:
        return dataset_files.fill_cache(name, cache=cache)
    entry = scan().get(name)
    definition, local = _checked(entry)
    info = definition.info()
    target = (cache or settings.CACHE.get()) / info.folder
    origin = f"dataset registration {entry.path.name}"
    verified = {
        role: dataset_files.enter_cache(info, f, local[role], target / f.filename, origin)
        for role, f in info.files.items()
    }
    return DatasetFiles(info, verified)


def unknown(name: str, found: Scan | None = None) -> str:
    mine = sorted(found.entries) if found is not None else names()
    return f"unknown dataset {quote(name)}; built in: {', '.join(sorted(REGISTRY))}" + (
        f"; registered: {', '.join(mine)}" if mine else f" (register your own in {settings.DATASETS.name})"
    )
