# SPDX-License-Identifier: MIT
"""Draws the figures of an experiment directory: `python plot.py DIR`.

Reads DIR/results.sqlite, dispatches on the experiment name (meta key 'name') to the module of that
reproduction target, and writes DIR/figures/<figure>.png, .pdf and .json and DIR/index.html. A
target's module returns its verdict (figures.verdict): it is written to DIR/figures/verdict.json and
printed, in the words docs/reproduce.md uses.
An experiment that is not a reproduction target gets the generic overview figures. The relustab
binary ($RELUSTAB_BIN) is called for training data, curves and the weight function g.
Exit codes: 0 success, 2 bad input (no such directory, not a results database), 1 internal error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a script: make the `figures` package importable from its parent folder.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from figures import verdict as verdicts  # noqa: E402
from figures.output import (  # noqa: E402
    DEFAULT_STYLE,
    STYLES,
    Context,
    FigureWriter,
    setup_style,
    write_index,
)
from figures.results import Relustab, Results, ResultsError  # noqa: E402

# Experiment name (meta.name, equal to the reproduction target) -> module of figures/.
TARGETS = {
    "mulayoff2021-fig1": "mulayoff2021_fig1",
    "mulayoff2021-fig2": "mulayoff2021_fig2",
    "mulayoff2021-fig3": "mulayoff2021_fig3",
    "qiao2024-fig1": "qiao2024_fig1",
    "qiao2024-eta": "qiao2024_eta",
    "qiao2024-width": "qiao2024_width",
    "qiao2024-knots": "qiao2024_knots",
    "qiao2024-rate": "qiao2024_rate",
    "nacson2023-tightness": "nacson2023_tightness",
    "nacson2023-depth": "nacson2023_depth",
    "boursier2025-threshold": "boursier2025_threshold",
}
GENERIC_MODULE = "overview"


def module_for(name: str):
    return importlib.import_module(f"figures.{TARGETS.get(name, GENERIC_MODULE)}")


def plot_directory(
    directory: str | Path, binary: str | None = None, style: str = DEFAULT_STYLE
) -> Path:
    """Writes every figure of the experiment in `directory`, its verdict (reproduction targets) and
    its index; returns the index."""
    directory = Path(directory)
    setup_style(style)
    with Results(directory) as results, Relustab(binary) as tool:
        name = results.name
        writer = FigureWriter(directory, name or directory.name, style)
        context = Context(results, tool, writer)
        notes = []
        verdict = None
        stale = directory / "figures" / verdicts.VERDICT_FILE
        if stale.is_file():
            stale.unlink()  # a verdict must come from this drawing, never from an earlier one
        if not results.done_runs():
            notes.append("No run has finished yet: nothing to draw.")
        else:
            verdict = module_for(name).make_figures(context)
        if verdict is not None:
            verdict.figures = [record.name for record in writer.records]
            path = verdicts.write(directory, verdict, results)
            record = verdicts.read(path)
            notes.insert(0, f"Verdict ({record['setting']} setting): {record['outcome']}. "
                         f"{record.get('reason', '')}")
            print(f"{name}: {record['outcome']}")
            print(verdicts.render_markdown(record, heading="#"))
        counts = {}
        for run in results.runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        return write_index(directory, name or directory.name, writer.records, notes, counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="experiment directory holding results.sqlite")
    parser.add_argument("--relustab", help="relustab binary (default: $RELUSTAB_BIN, then PATH)")
    parser.add_argument(
        "--style",
        choices=sorted(STYLES),
        default=DEFAULT_STYLE,
        help="paper: print size for a two-column paper, fonts >= 7 pt; notebook: larger",
    )
    args = parser.parse_args(argv)
    try:
        index = plot_directory(args.directory, args.relustab, args.style)
    except ResultsError as error:
        print(f"plot: {error}", file=sys.stderr)
        return 2
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
