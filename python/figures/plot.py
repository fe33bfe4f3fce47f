# SPDX-License-Identifier: MIT
"""Draws the figures of an experiment directory: `python plot.py DIR`.

Reads DIR/results.sqlite, dispatches on the experiment name (meta key 'name') to the module of that
reproduction target, and writes DIR/figures/<figure>.png, .pdf and .json and DIR/index.html.
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

from figures.output import Context, FigureWriter, setup_style, write_index  # noqa: E402
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


def plot_directory(directory: str | Path, binary: str | None = None) -> Path:
    """Writes every figure of the experiment in `directory` and its index; returns the index."""
    directory = Path(directory)
    setup_style()
    with Results(directory) as results, Relustab(binary) as tool:
        name = results.name
        writer = FigureWriter(directory, name or directory.name)
        context = Context(results, tool, writer)
        notes = []
        if not results.done_runs():
            notes.append("No run has finished yet: nothing to draw.")
        else:
            module_for(name).make_figures(context)
        counts = {}
        for run in results.runs:
            counts[run.status] = counts.get(run.status, 0) + 1
        return write_index(directory, name or directory.name, writer.records, notes, counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="experiment directory holding results.sqlite")
    parser.add_argument("--relustab", help="relustab binary (default: $RELUSTAB_BIN, then PATH)")
    args = parser.parse_args(argv)
    try:
        index = plot_directory(args.directory, args.relustab)
    except ResultsError as error:
        print(f"plot: {error}", file=sys.stderr)
        return 2
    print(f"wrote {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
