"""A document as a list of blocks, and its two writers: HTML and Markdown walk the same list.

The report, the comparison and the runs index are each built once as blocks (``present/report.py``,
``present/comparison.py``, ``present/runs.py``); ``html`` and ``markdown`` only render them, so the two
never drift. A table knows which of its columns hold numbers (right-aligned) and which hold text.
"""

from __future__ import annotations

import base64
import html as _html
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Link:
    text: str
    href: str


Cell = str | Link


class Tone(StrEnum):
    OK = "ok"
    ALERT = "alert"
    NOTE = "note"


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Text:
    """A paragraph of text and links."""

    parts: list[Cell]


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Banner:
    tone: Tone
    title: str
    items: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: Sequence[Sequence[Cell]]
    numeric: list[bool] = field(default_factory=list)  # per column: right-aligned numbers; default: all but the first
    tones: list[Tone | None] = field(default_factory=list)  # per row: a colour, on its cell of ``tone_column``
    tone_column: int = -1

    def is_numeric(self, column: int) -> bool:
        return self.numeric[column] if self.numeric else column > 0


@dataclass(frozen=True)
class Image:
    name: str  # file name beside a Markdown document
    png: bytes
    alt: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Form:
    """An HTML form around a table whose first column holds checkboxes (the page only; Markdown leaves it out)."""

    action: str
    table: Table
    button: str


Block = Heading | Paragraph | Text | Bullets | Banner | Table | Image | Code | Form


# ---------------------------------------------------------------- HTML


def _cell_html(cell: Cell) -> str:
    e = _html.escape
    if isinstance(cell, Link):
        return f'<a href="{e(cell.href)}">{e(cell.text)}</a>'
    return e(cell)


def _table_html(t: Table, raw_first: bool = False) -> str:
    e = _html.escape
    out = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in t.header) + "</tr>"]
    for r, row in enumerate(t.rows):
        tone = t.tones[r] if r < len(t.tones) else None
        cells = []
        for c, cell in enumerate(row):
            classes = " ".join(
                x
                for x in ("n" if t.is_numeric(c) else "", str(tone) if tone and c == t.tone_column % len(row) else "")
                if x
            )
            attr = f' class="{classes}"' if classes else ""
            body = cell if (raw_first and c == 0 and isinstance(cell, str)) else _cell_html(cell)
            cells.append(f"<td{attr}>{body}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    return "".join(out) + "</table>"


def html(blocks: list[Block]) -> str:
    """The blocks as an HTML body (no <html> or <head>): what a page embeds."""
    e = _html.escape
    out = []
    for b in blocks:
        if isinstance(b, Heading):
            out.append(f"<h{b.level}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Paragraph):
            out.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Text):
            out.append("<p>" + "".join(_cell_html(c) for c in b.parts) + "</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>")
        elif isinstance(b, Banner):
            items = "<ul>" + "".join(f"<li>{e(i)}</li>" for i in b.items) + "</ul>" if b.items else ""
            out.append(f'<div class="{b.tone}"><b>{e(b.title)}</b>{items}</div>')
        elif isinstance(b, Table):
            out.append(_table_html(b))
        elif isinstance(b, Image):
            data = base64.b64encode(b.png).decode()
            out.append(f'<img alt="{e(b.alt)}" src="data:image/png;base64,{data}">')
        elif isinstance(b, Code):
            out.append(f"<pre><code>{e(b.text)}</code></pre>")
        elif isinstance(b, Form):
            out.append(
                f'<form action="{e(b.action)}">'
                + _table_html(b.table, raw_first=True)
                + f"<button>{e(b.button)}</button></form>"
            )
    return "\n".join(out)


# ---------------------------------------------------------------- Markdown


def _cell_md(cell: Cell) -> str:
    text = f"[{cell.text}]({cell.href})" if isinstance(cell, Link) else cell
    return text.replace("|", "\\|").replace("\n", " ")


def table_md(t: Table) -> list[str]:
    align = ["---:" if t.is_numeric(c) else "---" for c in range(len(t.header))]
    return (
        [f"| {' | '.join(t.header)} |", f"|{'|'.join(align)}|"]
        + [f"| {' | '.join(_cell_md(c) for c in row)} |" for row in t.rows]
        + [""]
    )


def markdown(blocks: list[Block]) -> tuple[str, dict[str, bytes]]:
    """The blocks as Markdown, and the images it links to (file name -> PNG), to be written beside it."""
    out: list[str] = []
    images: dict[str, bytes] = {}
    for b in blocks:
        if isinstance(b, Heading):
            out += [f"{'#' * b.level} {b.text}", ""]
        elif isinstance(b, Paragraph):
            out += [b.text, ""]
        elif isinstance(b, Text):
            out += ["".join(_cell_md(c) for c in b.parts), ""]
        elif isinstance(b, Bullets):
            out += [f"- {i}" for i in b.items] + [""]
        elif isinstance(b, Banner):
            out += [f"**{b.title}**", ""] + [f"- {i}" for i in b.items] + ([""] if b.items else [])
        elif isinstance(b, Table):
            out += table_md(b)
        elif isinstance(b, Image):
            images[b.name] = b.png
            out += [f"![{b.alt}]({b.name})", ""]
        elif isinstance(b, Code):
            out += ["```", b.text, "```", ""]
    return "\n".join(out).rstrip() + "\n", images
