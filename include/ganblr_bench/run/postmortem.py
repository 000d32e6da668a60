"""Results for jobs that left none: every planned job ends as a recorded row, however it ended.

A job killed from outside (out of memory, stopped, crashed before writing) leaves no result.json; the
backend that saw it end writes one from what it saw (exit code, OOM kill), and ``record`` writes one for
every job still without one (``skipped`` when the run never got ready: a dataset or an image failed).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from ganblr_bench import layout
from ganblr_bench.contract import JobResult, RunInfo, storable
from ganblr_bench.states import Status


def classify_exit(oom_killed: bool, exit_code: int | None, error: str = "") -> tuple[Status, str]:
    """(status, error) for a job that left no result, from how its process or container ended."""
    if oom_killed:
        return Status.OOM, "the job was killed for exceeding its memory limit (out of memory)"
    if exit_code in (137, 143, -9, -15):
        return Status.TIMEOUT, f"the job was stopped from outside (exit code {exit_code}), e.g. by the task's timeout"
    detail = f": {error.strip().splitlines()[-1]}" if error.strip() else ""
    return Status.FAILED, storable(f"the job ended with exit code {exit_code} without writing a result{detail}")


def complete_missing(
    folder: Path, job: str, status: Status, error: str, started_at: datetime | None = None
) -> JobResult:
    """Write result.json for a job that left none, with the given status; return it."""
    spec = layout.load_spec(Path(folder) / job / layout.SPEC_FILE, Path(folder))
    now = datetime.now(UTC)
    result = JobResult(job=job, spec=spec, status=status, error=error, started_at=started_at or now, finished_at=now)
    layout.write_text_atomic(Path(folder) / job / layout.RESULT_FILE, result.model_dump_json(indent=2))
    return result


def complete_all_missing(folder: Path, run: RunInfo) -> list[str]:
    """After the job tasks: a result for every planned job still without one; return their names.

    ``skipped`` when the run never got ready (``run.ready_at`` unset: a dataset fetch or an image build
    failed, so the job never ran); ``failed`` when its task ended without a result.
    """
    missing = layout.missing_results(folder)
    for job in missing:
        if run.ready_at is None:
            complete_missing(
                folder,
                job,
                Status.SKIPPED,
                "the job did not run: an earlier step (dataset fetch or image build) failed",
            )
        else:
            complete_missing(folder, job, Status.FAILED, "the job's task ended without a result")
    return missing
