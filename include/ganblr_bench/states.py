"""The states and kinds ganblr-bench speaks of, as enumerations: what a value may be, written once.

They are ``StrEnum``s: each member equals its text ("ok" == Status.OK), so files, the database and JSON keep
plain strings while code and signatures name the member.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How a job ended."""

    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    OOM = "oom"
    SKIPPED = "skipped"


class Stack(StrEnum):
    """The library stack of the image a job runs in."""

    LOCKED = "locked"  # the hash-locked pins
    LATEST = "latest"  # the newest releases of the direct requirements: the canary
    CANDIDATE = "candidate"  # the locked stack with an engineer's build of ganblr in place of the locked one


class Backend(StrEnum):
    """Where jobs run."""

    DOCKER = "docker"  # a container per job
    PROCESS = "process"  # a local process per job, in this machine's environment


class RunKind(StrEnum):
    """What started a run."""

    SCHEDULED = "scheduled"
    MANUAL = "manual"
    CLI = "cli"
    TEST = "test"


class Direction(StrEnum):
    """Which way a figure is better; context figures (a host's load, the cores a job had) are neither."""

    LOWER = "lower"
    HIGHER = "higher"
    NEITHER = "neither"


class Verdict(StrEnum):
    """What the regression detector concluded for a series."""

    REGRESSION = "regression"
    IMPROVEMENT = "improvement"


class Baseline(StrEnum):
    """How the detector's baseline is summarised: its centre and spread."""

    MEDIAN = "median"  # median, 1.4826 x MAD: not moved by one outlier night
    MEAN = "mean"  # mean, standard deviation


class Source(StrEnum):
    """Where a figure lives in the warehouse."""

    COLUMN = "column"  # a column of bench.job_results
    SCORE = "score"  # rows of bench.scores, per classifier
    JOB = "job"  # rows of the general bench.job_metrics table
