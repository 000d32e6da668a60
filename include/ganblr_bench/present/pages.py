"""The HTML shell and style every page shares: the run report, the runs index, a comparison, the health page."""

from __future__ import annotations

import html

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1200px;color:#222}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}
.alert{background:#fff3f0;border-left:4px solid #d33;padding:.5rem 1rem}
.ok{background:#f0fff3;border-left:4px solid #3a3;padding:.5rem 1rem}
.note{background:#f5f7ff;border-left:4px solid #58c;padding:.5rem 1rem}
td.alert,td.ok,td.note{border-left-width:1px}
img{max-width:100%}code{background:#f6f6f6;padding:0 .2rem}pre{background:#f6f6f6;padding:.5rem;overflow-x:auto}
"""


def page(title: str, body: str) -> str:
    """A whole HTML page in the report's style."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_CSS}</style></head><body>{body}</body></html>"
    )
