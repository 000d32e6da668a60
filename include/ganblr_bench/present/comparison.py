"""A comparison of two runs for people (a table, Markdown, the page) and for machines (CSV, JSON).

People see each side's mean ± spread in units they read, the change with the noise band it had to clear,
and a verdict only where the change is beyond noise; machines get raw numbers in base units (seconds,
bytes, fractions), empty for missing, and every field named.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ganblr_bench.analysis.compare import Change, Comparison, InputChange, Movement, Noise
from ganblr_bench.analysis.runs import RunFacts
from ganblr_bench.generator_catalog import label, slug
from ganblr_bench.present import document
from ganblr_bench.present.document import Banner, Block, Bullets, Heading, Link, Paragraph, Table, Text, Tone
from ganblr_bench.present.pages import page
from ganblr_bench.states import Stack

NOISE_WORDS = {
    Noise.SEEDS: "from the seeds",
    Noise.HISTORY: "from the series' history",
    Noise.UNKNOWN: "noise unknown (one seed a side, no history)",
}
EXPLAINED = (
    "Means over each run's ok seeds ± their sample standard deviation. A change counts only beyond noise: two "
    "standard errors of the difference, from the seeds when both runs have two or more, else from the spread of "
    "the series' own history (the detector's baseline); with neither, nothing is called beyond noise. It must also "
    "pass the figure's minimum relative and absolute change. Context figures (CPU %, the host's load) are never "
    "better or worse, only changed."
)


def verdict(c: Change) -> str:
    if c.movement in (Movement.SAME,) and c.noise == Noise.UNKNOWN:
        return "noise unknown"
    return str(c.movement)


def change_text(c: Change) -> str:
    if c.relative is None:
        return "-"
    text = f"{100 * c.relative:+.1f} %"
    if c.noise_band is not None and c.a.mean:
        text += f" (noise ±{100 * c.noise_band / abs(c.a.mean):.1f} %)"
    return text


def where(c: Change) -> str:
    return c.dataset + ("" if c.stack == Stack.LOCKED else f" ({c.stack})")


def people_rows(found: Comparison, only_changed: bool = False, sort: str = "name") -> list[dict[str, str]]:
    """The comparison as rows for a terminal or Markdown: units people read."""
    changes = [c for c in found.changes if c.beyond_noise] if only_changed else list(found.changes)
    if sort == "change":
        changes.sort(key=lambda c: -abs(c.relative or 0.0))
    return [
        {
            "dataset": where(c),
            "model": slug(c.model),
            "figure": c.figure.label,
            "a": c.figure.show(c.a.mean, c.a.sd),
            "b": c.figure.show(c.b.mean, c.b.sd),
            "change": change_text(c),
            "verdict": verdict(c),
        }
        for c in changes
    ]


def machine_rows(found: Comparison, only_changed: bool = False) -> list[dict[str, Any]]:
    """The comparison as rows for CSV: raw numbers in the stored units, empty for missing."""
    changes = [c for c in found.changes if c.beyond_noise] if only_changed else found.changes
    return [
        {
            "dataset": c.dataset,
            "model": c.model,
            "stack": str(c.stack),
            "metric": c.metric,
            "unit": c.figure.unit,
            "a_mean": c.a.mean,
            "a_sd": c.a.sd,
            "a_n": c.a.n,
            "b_mean": c.b.mean,
            "b_sd": c.b.sd,
            "b_n": c.b.n,
            "relative_change": c.relative,
            "noise_band": c.noise_band,
            "noise_from": str(c.noise),
            "movement": str(c.movement),
            "beyond_noise": c.beyond_noise,
        }
        for c in changes
    ]


def _run_json(run: RunFacts) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "kind": str(run.kind),
        "started_at": run.started_at.isoformat(),
        "params": run.params,
        "git_sha": run.git_sha,
        "image_digest": run.image_digest,
        "jobs": run.jobs,
        "ok_jobs": run.ok_jobs,
    }


def _input_json(change: InputChange) -> dict[str, Any]:
    return {"kind": change.kind, "name": change.name, "a": change.a, "b": change.b, "note": change.note}


def _side_json(found: Comparison, i: int) -> dict[str, str]:
    if found.stacks:
        return {"stack": str(found.stacks[i])}
    return {"model": found.models[i]} if found.models else {}


def as_json(found: Comparison, only_changed: bool = False) -> dict[str, Any]:
    return {
        "a": _run_json(found.a) | _side_json(found, 0),
        "b": _run_json(found.b) | _side_json(found, 1),
        "what_changed": [_input_json(c) for c in found.changed],
        "summary": [
            {"model": model, "better": better, "worse": worse, "changed": changed}
            for model, better, worse, changed in found.summary()
        ],
        "regressions": len(found.regressions),
        "figures": machine_rows(found, only_changed),
    }


def summary_lines(found: Comparison) -> list[str]:
    """One line per model: how many figures got better, worse, or changed beyond noise."""
    out = []
    for model, better, worse, changed in found.summary():
        counts = [f"{better} better", f"{worse} worse"] + ([f"{changed} changed"] if changed else [])
        out.append(f"{label(model)}: " + (", ".join(counts) if better or worse or changed else "nothing beyond noise"))
    return out


def headline(found: Comparison) -> str:
    moved = len(found.moved)
    return f"{len(found.changes)} figures, {moved} beyond noise" + (
        f", {len(found.regressions)} regression(s) of watched figures" if found.regressions else ""
    )


def _run_line(tag: str, run: RunFacts, link: bool) -> Text:
    name: document.Cell = Link(run.run_id, f"runs/{quote(run.run_id, safe='')}") if link else run.run_id
    return Text([f"{tag}: ", name, f" ({run.started_at:%Y-%m-%d %H:%M}, {run.kind})"])


def blocks(found: Comparison, only_changed: bool = False, sort: str = "name", links: bool = False) -> list[Block]:
    tone = Tone.ALERT if found.regressions else Tone.OK if not found.moved else Tone.NOTE
    rows = people_rows(found, only_changed, sort)
    tones: list[Tone | None] = []
    for r in rows:
        tones.append(
            Tone.ALERT
            if r["verdict"] == "worse"
            else Tone.OK
            if r["verdict"] == "better"
            else Tone.NOTE
            if r["verdict"] == "changed"
            else None
        )
    a, b = found.a, found.b
    if found.stacks is not None:
        head: list[Block] = [
            Heading(f"The {found.side('A')} stack against the {found.side('B')} stack", 1),
            _run_line("run", a, links),
            Heading(f"What differs from {found.side('A')} to {found.side('B')}"),
        ]
    elif found.models is not None:
        head = [
            Heading(f"{label(found.models[0])} against {label(found.models[1])}", 1),
            _run_line("run", a, links),
            Heading(f"What differs from {found.side('A')} to {found.side('B')}"),
        ]
    else:
        head = [
            Heading("Run A against run B", 1),
            _run_line("A", a, links),
            _run_line("B", b, links),
            Heading("What changed from A to B"),
        ]
    return [
        *head,
        Bullets([c.line() for c in found.changed] or ["nothing recorded changed"]),
        Banner(tone, headline(found), summary_lines(found)),
        Table(
            ["dataset", "model", "figure", found.side("A"), found.side("B"), "change", "verdict"],
            [list(r.values()) for r in rows],
            numeric=[False, False, False, True, True, True, False],
            tones=tones,
        ),
        Paragraph(EXPLAINED),
    ]


def html(found: Comparison, only_changed: bool = False, sort: str = "name") -> str:
    """The comparison as a page (the runs link to their reports beside it on the Benchmarks page)."""
    body = document.html(blocks(found, only_changed, sort, links=True))
    return page(f"ganblr-bench: {found.a.run_id} vs {found.b.run_id}", body)


def markdown(found: Comparison, only_changed: bool = False, sort: str = "name") -> str:
    return document.markdown(blocks(found, only_changed, sort))[0]
