"""The report's pictures, as PNG: dated trend plots of a dataset's figures, for any number of figures and models.

Each figure gets a panel with its own axes and unit; the panels fill a grid of up to three columns, and one
legend sits below the grid, outside every panel's data. A model keeps its colour in every panel (a colour
cycle long enough for any number of generators; the references dashed). The band around a line is the
detector's own baseline (its kind and window) of the points before each one, ± 2 spreads; red rings mark the
runs the detector flagged.
"""

from __future__ import annotations

import io
import math
from datetime import timedelta
from typing import Any

from ganblr_bench import figures, generator_catalog
from ganblr_bench.analysis.report import HistoryKey, Report, band
from ganblr_bench.states import Baseline

COLUMNS = 3


def _unit(metric: figures.Metric, values: list[float]) -> tuple[float, str]:
    """The scale and unit a panel's axis is drawn in."""
    if metric.unit == "bytes":
        size = max((abs(v) for v in values), default=0.0)
        for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
            if size >= scale:
                return float(scale), unit
        return 1.0, "bytes"
    return 1.0, "" if metric.unit in ("fraction", "count") else metric.unit


def colours(models: list[str]) -> dict[str, Any]:
    """A colour per model, the same in every panel, for any number of models."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20" if len(models) > 10 else "tab10"]
    return {m: cmap(i % cmap.N) for i, m in enumerate(models)}


def trends(report: Report, dataset: str, metrics: tuple[str, ...] = figures.TRENDS) -> bytes:
    """The dataset's trend plots as a PNG."""
    import matplotlib.pyplot as plt

    fig = trend_figure(report, dataset, metrics)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()


def trend_figure(report: Report, dataset: str, metrics: tuple[str, ...] = figures.TRENDS) -> Any:
    """The dataset's trend plots: a panel per figure that has history, one legend below them all."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    shown = [k for k in metrics if any(report.history.get(HistoryKey(dataset, m, k)) for m in report.models)]
    shown = shown or list(metrics[:1])
    cols = min(COLUMNS, len(shown))
    rows = math.ceil(len(shown) / cols)
    fig, grid = plt.subplots(rows, cols, figsize=(4.4 * cols, 3.1 * rows + 0.9), squeeze=False, layout="constrained")
    cells = list(grid.flat)
    for extra in cells[len(shown) :]:
        extra.remove()  # an empty cell of the last row: no axes drawn for nothing
    palette = colours(report.models)
    window, kind = report.thresholds.window, report.thresholds.baseline
    marked = False
    for ax, key in zip(cells, shown, strict=False):
        metric = figures.get(key)
        every = [p.value for m in report.models for p in report.history.get(HistoryKey(dataset, m, key), [])]
        scale, unit = _unit(metric, every)
        when = []
        for model in report.models:
            points = report.history.get(HistoryKey(dataset, model, key), [])
            if not points:
                continue
            xs = [p.when for p in points]
            ys = [p.value / scale for p in points]
            when += xs
            style = "--" if generator_catalog.is_reference(model) else "-"
            ax.plot(xs, ys, style, marker="o", markersize=4, color=palette[model], label=generator_catalog.label(model))
            bands = band(ys, window, kind)
            drawn = [i for i, b in enumerate(bands) if b is not None]
            if drawn:
                lo = [bands[i][0] - 2 * bands[i][1] for i in drawn]  # type: ignore[index]
                hi = [bands[i][0] + 2 * bands[i][1] for i in drawn]  # type: ignore[index]
                ax.fill_between([xs[i] for i in drawn], lo, hi, color=palette[model], alpha=0.15)
            flagged = [i for i, p in enumerate(points) if (p.run_id, dataset, model, key) in report.regressed]
            if flagged:
                marked = True
                ax.scatter(
                    [xs[i] for i in flagged],
                    [ys[i] for i in flagged],
                    s=150,
                    facecolors="none",
                    edgecolors="red",
                    linewidths=2,
                    zorder=5,
                )
        ax.set_title(metric.label, fontsize="medium")
        ax.set_ylabel(unit or "score")
        locator = mdates.AutoDateLocator(minticks=2, maxticks=5)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
        ax.tick_params(axis="both", labelsize="small")
        if when and min(when) == max(when):  # one run so far: a day around it, not the locator's decades
            ax.set_xlim(min(when) - timedelta(hours=12), max(when) + timedelta(hours=12))
        ax.margins(y=0.15)
        ax.grid(alpha=0.3)
    handles: dict[str, Any] = {}
    for ax in cells[: len(shown)]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=False):
            handles.setdefault(label, handle)
    if handles:
        fig.legend(
            list(handles.values()),
            list(handles),
            loc="outside lower center",
            ncol=min(4, len(handles)),
            fontsize="small",
            frameon=False,
        )
    centre = "median ± 2 × 1.4826 MAD" if kind == Baseline.MEDIAN else "mean ± 2 sd"
    fig.suptitle(
        f"{dataset}: the last runs (UTC); band = {centre} of up to {window} earlier runs"
        + ("; red rings: regressions the detector flagged" if marked else ""),
        fontsize="medium",
    )
    return fig


def marginals(report: Report, dataset: str) -> bytes | None:
    """Per model (a row each), its sample's most distorted columns against the real training rows: the share of
    each value (bins spelt out), real beside synthetic. None when no job of the dataset described any."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = [m for m in report.models if report.marginals.get((dataset, m))]
    if not models:
        return None
    cols = max(len(report.marginals[(dataset, m)]) for m in models)
    fig, grid = plt.subplots(
        len(models), cols, figsize=(4.6 * cols, 2.6 * len(models) + 0.6), squeeze=False, layout="constrained"
    )
    for row, model in enumerate(models):
        columns = report.marginals[(dataset, model)]
        for col in range(cols):
            ax = grid[row][col]
            if col >= len(columns):
                ax.remove()
                continue
            m = columns[col]
            places = list(range(len(m.labels)))
            ax.barh([p + 0.2 for p in places], m.real, height=0.4, color="tab:gray", label="real (training rows)")
            ax.barh([p - 0.2 for p in places], m.synthetic, height=0.4, color="tab:blue", label="synthetic")
            ax.set_yticks(places, [label[:22] for label in m.labels], fontsize="x-small")
            ax.invert_yaxis()
            ax.set_xlabel("share of rows", fontsize="small")
            ax.set_title(
                f"{generator_catalog.label(model)}: {m.column} (TV complement {m.score:.2f})", fontsize="small"
            )
            ax.grid(alpha=0.3, axis="x")
    handles, labels = grid[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize="small", frameon=False)
    fig.suptitle(
        f"{dataset}: where each model's sample differs most from the real data (first ok seed)", fontsize="medium"
    )
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()
