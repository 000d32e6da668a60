"""The runs index for people: each run linked to its report and to a comparison with the run before it; two
checkboxes pick any two runs to compare."""

from __future__ import annotations

import html as _html
from typing import Any
from urllib.parse import quote, urlencode

from ganblr_bench.analysis.runs import RunSummary
from ganblr_bench.present import document
from ganblr_bench.present.document import Form, Heading, Link, Paragraph, Table, Tone
from ganblr_bench.present.pages import page

HEADER = [
    "",
    "run",
    "started (UTC)",
    "kind",
    "triggered by",
    "jobs",
    "failed",
    "regressions",
    "improvements",
    "status",
    "",
]


def rows(index: list[RunSummary]) -> list[dict[str, Any]]:
    """The index as rows for the CLI's formats (values as they are)."""
    return [
        {
            "run_id": r.run_id,
            "started_at": r.started_at,
            "kind": str(r.kind),
            "triggered_by": r.triggered_by or None,
            "jobs": r.jobs,
            "ok_jobs": r.ok_jobs,
            "failed_jobs": r.failed_jobs,
            "regressions": r.regressions,
            "improvements": r.improvements,
            "status": r.status,
        }
        for r in index
    ]


def _pick(run_id: str, side: str, checked: bool) -> str:
    e = _html.escape
    return f'<input type="checkbox" name="{side}" value="{e(run_id)}"{" checked" if checked else ""} title="compare as {side.upper()}">'


def html(index: list[RunSummary]) -> str:
    """Every run: its report, its comparison with the run before it, and checkboxes for A and B."""
    body_rows: list[list[document.Cell]] = []
    tones: list[Tone | None] = []
    for i, r in enumerate(index):
        before = index[i + 1].run_id if i + 1 < len(index) else None
        pick = _pick(r.run_id, "a", i == 1) + " " + _pick(r.run_id, "b", i == 0)
        vs: document.Cell = Link("vs previous", "compare?" + urlencode({"a": before, "b": r.run_id})) if before else ""
        body_rows.append(
            [
                pick,
                Link(r.run_id, f"runs/{quote(r.run_id, safe='')}"),
                r.started_at.strftime("%Y-%m-%d %H:%M"),
                str(r.kind),
                r.triggered_by or "-",
                str(r.jobs),
                str(r.failed_jobs),
                str(r.regressions),
                str(r.improvements),
                r.status,
                vs,
            ]
        )
        tones.append(Tone.ALERT if r.needs_a_look else Tone.OK)
    table = Table(
        HEADER,
        body_rows,
        numeric=[False, False, False, False, False, True, True, True, True, False, False],
        tones=tones,
        tone_column=HEADER.index("status"),
    )
    blocks: list[document.Block] = [
        Heading("Benchmark runs", 1),
        Paragraph("Tick A and B on any two runs, then compare them; each run links to its report."),
        Form("compare", table, "compare A with B"),
    ]
    return page("ganblr-bench: runs", document.html(blocks))
