# SPDX-License-Identifier: MIT
"""Writing figures (PNG, PDF and the JSON of their numbers), the plot style and DIR/index.html."""

from __future__ import annotations

import datetime
import html
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")  # files only, never a display

import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)
import numpy as np  # noqa: E402

from figures.results import (  # noqa: E402
    Dataset,
    MissingLog,
    Relustab,
    Results,
    Run,
    Series,
    json_ready,
)

# The band around 2/eta in which a sharpness counts as "at the edge of stability" (relative; the
# kEdgeTolerance of `relustab analyze`): GD that converged at the edge hovers within a few 1e-3 of
# 2/eta (rounding, the eigensolver's tolerance, the last oscillations).
EDGE_TOLERANCE = 1e-2

FIGURES_SUBDIR = "figures"
INDEX_FILE = "index.html"
PNG_DPI = 200

# Colours of paper 1's figures (Fig. 1: run A black, run B green; Fig. 3: small/medium/large eta
# black/blue/green; Fig. 3(c): 2/eta red, sharpness yellow dashed, flattest blue, Lemma 4 purple).
COLOR_A = "black"
COLOR_B = "tab:green"
COLOR_THREE = ("black", "tab:blue", "tab:green")
COLOR_TWO_OVER_ETA = "tab:red"
COLOR_SHARPNESS = "goldenrod"
COLOR_FLATTEST = "tab:blue"
COLOR_LEMMA4 = "tab:purple"
COLOR_G = "0.45"
COLOR_TARGET = "tab:orange"


# Figure sizes. "paper": print size for a two-column paper (NeurIPS/ICML text width 6.75 in, one
# column 3.25 in), every font at least MIN_FONT_PT points when printed at that size; "notebook":
# the same layouts 1.5 times larger with larger fonts, for reading on a screen.
STYLES: dict[str, dict[str, float]] = {
    "paper": {"double": 6.75, "single": 3.25, "font": 8.0, "small": 7.0, "line": 1.1},
    "notebook": {"double": 10.5, "single": 5.0, "font": 11.0, "small": 10.0, "line": 1.5},
}
DEFAULT_STYLE = "paper"
MIN_FONT_PT = 7.0
# How much wider than the style's width a saved figure may be (legends below the axes are
# counted): more and a paper would shrink it, and its fonts with it, below MIN_FONT_PT.
WIDTH_SLACK = 1.03


def setup_style(style: str = DEFAULT_STYLE) -> None:
    if style not in STYLES:
        raise ValueError(f"style: expected one of {', '.join(STYLES)}, got {style!r}")
    size = STYLES[style]
    plt.rcParams.update(
        {
            "font.size": size["font"],
            "axes.titlesize": size["font"],
            "axes.labelsize": size["font"],
            "legend.fontsize": size["small"],
            "legend.framealpha": 0.85,
            "legend.handlelength": 1.6,
            "xtick.labelsize": size["small"],
            "ytick.labelsize": size["small"],
            "axes.grid": True,
            "grid.alpha": 0.25,
            "grid.linewidth": 0.5,
            "lines.linewidth": size["line"],
            "lines.markersize": 3.0 if style == "paper" else 4.5,
            "savefig.bbox": "tight",
            "savefig.pad_inches": 0.02,
            "pdf.fonttype": 42,  # embed TrueType: text stays text in the PDF
            "axes.formatter.limits": (-3, 4),  # 20000 is written 2.0 x 1e4, labels do not collide
        }
    )


def figure_size(style: str, columns: str = "double", panels: int = 1, rows: int = 1,
                aspect: float = 0.8) -> tuple[float, float]:
    """(width, height) in inches: the style's single- or double-column width, each of the `panels`
    panels of a row `aspect` times as high as it is wide."""
    width = STYLES[style][columns]
    return width, rows * aspect * width / max(panels, 1)


def check_print_size(fig: "plt.Figure", style: str) -> None:
    """Refuses a figure that a paper would have to shrink (wider than the style's double column)
    or that has text smaller than MIN_FONT_PT: both are bugs of the figure module."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.get_tightbbox(renderer).width  # inches, legends outside the axes included
    limit = STYLES[style]["double"] * WIDTH_SLACK
    if width > limit:
        raise ValueError(f"figure is {width:.2f} in wide, above {limit:.2f} in ({style} style)")
    for text in fig.findobj(Text):
        if text.get_visible() and text.get_text().strip() and text.get_fontsize() < MIN_FONT_PT:
            raise ValueError(
                f"text {text.get_text()!r} is {text.get_fontsize():.1f} pt, below {MIN_FONT_PT} pt"
            )


@dataclass
class FigureRecord:
    """One written figure: its files (relative to DIR) and the numbers behind it."""

    name: str
    title: str
    caption: str
    summary: dict[str, Any] = field(default_factory=dict)
    table: dict[str, Any] | None = None
    series: dict[str, Any] = field(default_factory=dict)
    missing: list[dict[str, Any]] = field(default_factory=list)

    def files(self) -> dict[str, str]:
        return {ext: f"{FIGURES_SUBDIR}/{self.name}.{ext}" for ext in ("png", "pdf", "json")}

    def to_json(self, target: str) -> dict[str, Any]:
        return json_ready(
            {
                "figure": self.name,
                "target": target,
                "title": self.title,
                "caption": self.caption,
                "summary": self.summary,
                "table": self.table,
                "series": self.series,
                "missing": self.missing,
            }
        )


class FigureWriter:
    """Saves figures under DIR/figures/ and remembers them for the index."""

    def __init__(self, directory: str | Path, target: str, style: str = DEFAULT_STYLE):
        self.directory = Path(directory)
        self.target = target
        self.style = style
        self.out = self.directory / FIGURES_SUBDIR
        self.out.mkdir(parents=True, exist_ok=True)
        self.records: list[FigureRecord] = []

    def save(self, fig: "plt.Figure", record: FigureRecord) -> FigureRecord:
        tidy_log_axes(fig)
        check_print_size(fig, self.style)
        fig.savefig(self.out / f"{record.name}.png", dpi=PNG_DPI)
        fig.savefig(self.out / f"{record.name}.pdf")
        plt.close(fig)
        with open(self.out / f"{record.name}.json", "w") as handle:
            json.dump(record.to_json(self.target), handle, indent=1, allow_nan=False)
            handle.write("\n")
        self.records.append(record)
        return record


def tidy_log_axes(fig: "plt.Figure") -> None:
    """Readable log axes: matplotlib labels the minor ticks of an axis that spans less than about
    two decades, and the labels collide. Where at least two decades are visible the minor labels
    go; otherwise the axis gets plain labelled ticks at 1, 2 and 5 times the powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator, NullFormatter

    fig.canvas.draw()  # fixes the view limits, so the visible major ticks are known
    for ax in fig.axes:
        for axis, scale, limits in (
            (ax.xaxis, ax.get_xscale(), ax.get_xlim()),
            (ax.yaxis, ax.get_yscale(), ax.get_ylim()),
        ):
            if scale != "log" or not isinstance(
                axis.get_minor_formatter(), LogFormatterSciNotation
            ):
                continue  # linear, or ticks set on purpose (log_axis_ticks)
            lo, hi = sorted(limits)
            visible = [t for t in axis.get_majorticklocs() if lo <= t <= hi]
            if len(visible) < 2:
                axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
                axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
            axis.set_minor_formatter(NullFormatter())


@dataclass
class Context:
    """What a target's module gets: the results, the relustab binary, the writer."""

    results: Results
    tool: Relustab
    writer: FigureWriter

    def figure(
        self,
        panels: int = 1,
        rows: int = 1,
        columns: str = "double",
        aspect: float = 0.8,
        **kwargs: Any,
    ) -> tuple["plt.Figure", Any]:
        """A figure of rows x panels axes at the writer's style's print size (figure_size)."""
        size = figure_size(self.writer.style, columns, panels, rows, aspect)
        kwargs.setdefault("constrained_layout", True)
        return plt.subplots(rows, panels, figsize=size, **kwargs)

    def data(self, run: Run) -> Dataset:
        """The run's training data (regenerated from its config by `relustab data`)."""
        return self.tool.training_data(run.config)

    def curves(
        self,
        run: Run,
        missing: MissingLog,
        lo: float | None = None,
        hi: float | None = None,
        points: int = 801,
        bandwidth: float | None = None,
    ) -> dict[str, Any] | None:
        """`relustab curves` of the run's final net on its data; None (recorded in `missing`) when
        the run has no stored net."""
        net = self.results.net(run) if run.done else None
        if net is None:
            missing.add(run, "net")
            return None
        return self.tool.curves(net, self.tool.data_file(run.config), lo, hi, points, bandwidth)


def table(runs: Sequence[Run], columns: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """A table for the JSON and the index: one row per run; a column is (header, config key or
    metric name or function of the run). Names are looked up in the config first."""

    def cell(run: Run, how: Any) -> Any:
        if callable(how):
            return how(run)
        if how in run.config:
            return run.config[how]
        return run.metrics.get(how)

    return {
        "columns": [c[0] for c in columns],
        "rows": [[cell(run, how) for _, how in columns] for run in runs],
    }


# ----------------------------------------------------------------------------------------------
# Plot helpers shared by the targets


def plot_series(
    ax: Any,
    series: Series,
    label: str,
    color: str,
    marker: str = "o",
    linestyle: str = "-",
    band: bool = True,
    **kwargs: Any,
) -> None:
    """Median line with markers and the interquartile band (drawn when some x has >= 2 runs)."""
    ok = np.isfinite(series.median)
    ax.plot(
        series.x[ok],
        series.median[ok],
        marker=marker,
        markersize=3.5,
        linestyle=linestyle,
        color=color,
        label=label,
        **kwargs,
    )
    if band and ok.any() and series.count[ok].max() >= 2:
        ax.fill_between(
            series.x[ok], series.lo[ok], series.hi[ok], color=color, alpha=0.18, linewidth=0
        )


def add_g_axis(
    ax: Any, x: np.ndarray, g: np.ndarray, headroom: float = 1.35, legend_loc: str = "upper right"
) -> Any:
    """The weight function g on a twin right axis (grey, dashed) and one legend for both axes
    (legend_loc: a matplotlib location, or "below" the x axis). Both axes start at 0 and get
    `headroom` above their maxima so that a legend inside does not hide the curves."""
    ax_g = ax.twinx()
    ax_g.plot(x, g, color=COLOR_G, linestyle="--", linewidth=1.2, label="g(x)")
    ax_g.set_ylabel("g(x)", color=COLOR_G)
    ax_g.tick_params(axis="y", colors=COLOR_G)
    ax_g.grid(False)
    g_max = float(np.nanmax(g)) if np.size(g) else 0.0
    ax_g.set_ylim(0, headroom * g_max if g_max > 0 else 1.0)
    top = max(
        (
            float(np.nanmax(line.get_ydata()))
            for line in ax.get_lines()
            if line.get_label()
            and not line.get_label().startswith("_")
            and np.size(line.get_ydata())
        ),
        default=0.0,
    )
    ax.set_ylim(0, headroom * top if top > 0 else 1.0)
    handles, labels = ax.get_legend_handles_labels()
    handles_g, labels_g = ax_g.get_legend_handles_labels()
    if legend_loc == "below":
        ax.legend(handles + handles_g, labels + labels_g, **below_axis(ax))
    else:
        ax.legend(handles + handles_g, labels + labels_g, loc=legend_loc)
    return ax_g


def log_axis_ticks(ax: Any, values: Sequence[float], axis: str = "x") -> None:
    """A log axis with a few values (n, widths, 1/eta): ticks at them, plain numbers (3 significant
    digits), no minor labels."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    def plain(value: float, _position: Any = None) -> str:
        return (
            str(int(round(value)))
            if abs(value - round(value)) < 1e-9 * abs(value)
            else f"{value:.3g}"
        )

    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator(sorted({float(v) for v in values})))
    target.set_major_formatter(FuncFormatter(plain))
    target.set_minor_formatter(NullFormatter())


def note_missing(ax: Any, what: str) -> None:
    """Writes in an empty panel that its quantity was not measured (instead of blank axes)."""
    ax.text(
        0.5,
        0.5,
        f"{what}\nnot measured in these runs",
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=8.5,
        color="0.45",
    )


def below_axis(ax: Any, ncol: int = 1) -> dict[str, Any]:
    """Legend placement under the panel's x-axis label, whatever the panel's size: anchored a
    fixed distance in points below the axes (tick labels and the label take about 2.6 fonts)."""
    from matplotlib.transforms import offset_copy

    drop = 2.6 * plt.rcParams["font.size"] + 4
    return {
        "loc": "upper center",
        "bbox_to_anchor": (0.5, 0.0),
        "bbox_transform": offset_copy(ax.transAxes, fig=ax.figure, y=-drop, units="points"),
        "ncol": ncol,
        "frameon": False,
    }


def legend_below(ax: Any, ncol: int = 1) -> None:
    """The panel's legend under its x axis (for panels whose data fill the whole box)."""
    ax.legend(**below_axis(ax, ncol))


def positive(values: np.ndarray) -> np.ndarray:
    """Values with non-positive entries replaced by NaN (for log axes)."""
    values = np.asarray(values, dtype=float).copy()
    values[~(values > 0)] = np.nan
    return values


def format_value(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.5g}" if math.isfinite(value) else "n/a"
    return str(value)


def eta_label(eta: float) -> str:
    return f"η = {eta:.3g}"


# ----------------------------------------------------------------------------------------------
# The index


def missing_text(entry: dict[str, Any]) -> str:
    """One skipped value for the index: run, status, what is missing and why."""
    text = f"run {entry.get('run_id')} ({entry.get('status')}): no {entry.get('missing')}"
    return text + (f" - {entry['reason']}" if entry.get("reason") else "")


def write_index(
    directory: str | Path,
    target: str,
    records: Sequence[FigureRecord],
    notes: Sequence[str] = (),
    run_counts: dict[str, int] | None = None,
) -> Path:
    """DIR/index.html: every figure (relative links), its caption and the tables of its numbers."""
    directory = Path(directory)
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>relustab: {esc(target)}</title>",
        "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
        "color:#222}img{max-width:100%;border:1px solid #ddd}table{border-collapse:collapse;"
        "margin:0.6em 0;font-size:0.85em}td,th{border:1px solid #ccc;padding:2px 8px;"
        "text-align:right}th{background:#f3f3f3}td.k{text-align:left}section{margin-bottom:3em}"
        ".caption{color:#444}.missing{color:#a33}</style>",
        "</head><body>",
        f"<h1>{esc(target)}</h1>",
    ]
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    counts = ""
    if run_counts:
        counts = ", ".join(f"{v} {esc(k)}" for k, v in run_counts.items()) + "; "
    parts.append(
        f"<p>Runs: {counts}figures written {stamp}. Results database: "
        f'<a href="results.sqlite">results.sqlite</a>.</p>'
    )
    for note in notes:
        parts.append(f'<p class="missing">{esc(note)}</p>')
    if records:
        parts.append(
            "<ul>"
            + "".join(f'<li><a href="#{esc(r.name)}">{esc(r.title)}</a></li>' for r in records)
            + "</ul>"
        )
    for record in records:
        files = record.files()
        parts.append(f'<section id="{esc(record.name)}"><h2>{esc(record.title)}</h2>')
        parts.append(
            f'<a href="{esc(files["pdf"])}"><img src="{esc(files["png"])}" '
            f'alt="{esc(record.title)}"></a>'
        )
        parts.append(f'<p class="caption">{esc(record.caption)}</p>')
        parts.append(
            f'<p>Files: <a href="{esc(files["png"])}">PNG</a>, '
            f'<a href="{esc(files["pdf"])}">PDF</a>, '
            f'<a href="{esc(files["json"])}">numbers (JSON)</a></p>'
        )
        if record.summary:
            rows = "".join(
                f'<tr><td class="k">{esc(str(k))}</td><td>{esc(format_value(v))}</td></tr>'
                for k, v in json_ready(record.summary).items()
            )
            parts.append(f"<table><tr><th>quantity</th><th>value</th></tr>{rows}</table>")
        if record.table and record.table.get("rows"):
            head = "".join(f"<th>{esc(str(c))}</th>" for c in record.table["columns"])
            body = "".join(
                "<tr>" + "".join(f"<td>{esc(format_value(v))}</td>" for v in row) + "</tr>"
                for row in json_ready(record.table["rows"])
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        if record.missing:
            items = "".join(f"<li>{esc(missing_text(m))}</li>" for m in record.missing)
            parts.append(
                f'<details class="missing"><summary>{len(record.missing)} value(s) skipped'
                f"</summary><ul>{items}</ul></details>"
            )
        parts.append("</section>")
    if not records:
        parts.append("<p>No figures were written.</p>")
    parts.append("</body></html>")
    path = directory / INDEX_FILE
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return path


def data_range(data: Dataset, margin_fraction: float = 0.0) -> tuple[float, float]:
    """[x_min, x_max] of the data widened by margin_fraction of its length on each side."""
    lo, hi = float(np.min(data.x)), float(np.max(data.x))
    width = hi - lo if hi > lo else 1.0
    return lo - margin_fraction * width, hi + margin_fraction * width


def plot_target(
    ax: Any, ctx: Context, run: Run, lo: float, hi: float, label: str = "ground truth f0"
) -> dict[str, Any] | None:
    """Draws the clean target f0 of a run's data on [lo, hi]; None when it is not known."""
    target = ctx.tool.clean_target(run.config, lo, hi)
    if target is None:
        return None
    ax.plot(
        target[0],
        target[1],
        color=COLOR_TARGET,
        linewidth=1.6,
        linestyle="--",
        label=label,
        zorder=4,
    )
    return {"x": target[0], "f0": target[1]}


def plot_noisy_labels(ax: Any, data: Dataset, label: str = "noisy labels") -> None:
    ax.plot(
        data.x,
        data.y,
        "o",
        markersize=3,
        color="0.35",
        alpha=0.75,
        label=label,
        zorder=3,
        markeredgewidth=0,
    )


def eta_colors(count: int) -> list[Any]:
    """Distinct colours from small (dark) to large (light) step sizes."""
    cmap = plt.get_cmap("viridis")
    return [cmap(v) for v in (np.linspace(0.0, 0.85, count) if count > 1 else [0.0])]
