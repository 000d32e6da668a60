"""How the CLI prints rows: ``--format table|json|csv|md`` on every command that prints results.

Rows are dicts with the same keys in the same order. ``table`` aligns them for a terminal and ``md`` is a
GitHub-flavoured Markdown table (for a pull request or an issue): both for people. ``csv`` and ``json`` are for
machines: values as they are (numbers unrounded, in the stored unit; empty, or null, for missing; times in ISO
8601; nested values as JSON), LF line endings, standard JSON only.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

FORMATS = ("table", "json", "csv", "md")


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, default=_plain, allow_nan=False)


def render(rows: list[dict[str, Any]], fmt: str = "table") -> str:
    if fmt not in FORMATS:
        raise ValueError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if fmt == "json":
        return to_json(rows)
    if not rows:
        return ""
    columns = list(rows[0])
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_raw(r.get(c)) for c in columns] for r in rows)
        return out.getvalue().rstrip("\n")
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    if fmt == "md":
        lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def _raw(value: Any) -> str:
    """A CSV cell for machines: empty for missing, numbers unrounded, JSON for nested values."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=_plain)
    return str(value)


def _cell(value: Any) -> str:
    """A cell for people."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=_plain)
    return str(value)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)
