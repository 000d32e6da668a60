"""The HTML every page shares (the run report, the runs index, a comparison): one style, one table, one shell."""

from __future__ import annotations

import html

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.3rem .6rem}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.alert{background:#fff3f0;border-left:4px solid #d33;padding:.5rem 1rem}.ok{background:#f0fff3;border-left:4px solid #3a3;padding:.5rem 1rem}
img{max-width:100%}code{background:#f6f6f6;padding:0 .2rem}
"""


def html_table(header: list[str], rows: list[list[str]]) -> str:
    e = html.escape
    out = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"]
    for row in rows:
        out.append(f"<tr><td>{e(row[0])}</td>" + "".join(f'<td class="n">{e(c)}</td>' for c in row[1:]) + "</tr>")
    return "".join(out) + "</table>"


def page(title: str, body: str) -> str:
    """A whole HTML page in the report's style (the run report, the runs index, a comparison)."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )
