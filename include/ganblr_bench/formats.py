"""How the CLI prints rows: ``--format table|json|csv|md`` on every command that prints results.

Rows are dicts with the same keys in the same order; ``table`` aligns them for a terminal, ``md`` is a
GitHub-flavoured Markdown table (for a pull request or an issue), ``csv`` is for spreadsheets, ``json`` is
a list of objects for scripts (values as they are, not as shown).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

FORMATS = ("table", "json", "csv", "md")


def render(rows: list[dict], fmt: str = "table") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "json":
        return json.dumps(rows, indent=2, default=_plain)
    if not rows:
        return ""
    columns = list(rows[0])
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(cells)
        return out.getvalue().rstrip("\n")
    if fmt == "md":
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _plain(value):
    return value.isoformat() if isinstance(value, datetime) else str(value)
