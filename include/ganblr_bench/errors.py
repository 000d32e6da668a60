"""One family of errors: each says what went wrong in one line and carries the exit code the CLI returns.

Every command of ``ganblr-bench`` maps a ``BenchError`` once (``cli.main``): its message on one line of
stderr, its exit code, no traceback. Anything else is a bug and keeps its traceback.

| exit | meaning |
|---|---|
| 0 | done |
| 1 | the job ran and failed; a regression was found; a result was rejected (the others recorded) |
| 2 | bad input, a bad setting, or something named that does not exist: found before expensive work |
| 3 | the database failed: the results are safe in the spool and will be recorded later |
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    BAD_INPUT = 2
    SPOOLED = 3


# A job process's exits whose outcome another try cannot change: it failed (or timed out, or ran out of memory)
# and wrote its result; its spec is bad; 137: the kernel's OOM killer (the same limit kills it again).
FINAL_JOB_EXITS = (int(ExitCode.FAILED), int(ExitCode.BAD_INPUT), 137)

QUOTE_LIMIT = 60  # characters of a bad value an error message shows


def quote(value: object, limit: int = QUOTE_LIMIT) -> str:
    """A bad value as an error message shows it: its repr, cut to ``limit`` characters with a marker."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


class BenchError(Exception):
    """Base of every error ganblr-bench reports to people: one line, and the exit code it means."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __str__(self) -> str:
        text = super().__str__()
        return text.replace("\n", " ").strip() if text else type(self).__name__


class ContractError(BenchError, ValueError):
    """A spec, result, run file or parameter that does not validate; the message names the source and field."""


class SettingsError(BenchError, ValueError):
    """A setting (environment variable) or argument out of its range; the message names it and the range."""


class NotFound(BenchError, LookupError):
    """No such run, view or dataset; the message says what there is."""


class DatasetError(BenchError):
    """A dataset that cannot be had or read; the message names it and says what to do."""


class DatabaseError(BenchError):
    """The database cannot be reached or set up; the message holds no credentials."""


class MigrationError(BenchError):
    """The schema cannot be brought up to date; the message says what to do."""


class StoreError(BenchError):
    """A warehouse problem with a message that says what to do."""


class Spooled(StoreError):
    """The database failed; the results are safe in the spool and will be recorded later."""

    exit_code = ExitCode.SPOOLED


class ImageError(BenchError):
    """The benchmark image cannot be built or found."""


class CoresError(BenchError, ValueError):
    """A core list or a core request that cannot be met on this host."""


class JobFailed(BenchError):
    """The job ended without status ok; its result.json says why.

    ``retryable`` is False when running it again cannot help: the job reached a verdict of its own
    (failed, timeout, oom, bad spec); True when it died for a reason outside it.
    """

    exit_code = ExitCode.FAILED

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable
