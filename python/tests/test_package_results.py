# SPDX-License-Identifier: MIT
"""relustab.results: a results directory as DataFrames, checked against the database read with
sqlite3 directly and against `relustab export` read back with the csv module, numpy and pandas."""

from __future__ import annotations

import csv
import importlib.util
import io
import math
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

RESULTS_PY = Path(__file__).resolve().parent.parent / "relustab" / "results.py"


def load_module():
    # By path: relustab/__init__.py imports the compiled extension, which this module does not need.
    spec = importlib.util.spec_from_file_location("relustab_results_under_test", RESULTS_PY)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


results_module = load_module()

EXPERIMENT = """name = "frames"
[data]
n = 9
noise = 0.1
seed = 3
[model]
width = 6
[optim]
max_steps = 80
[measure]
log_every = 20
[sweep]
"optim.eta" = [0.05, 300.0]
seeds = [1, 2]
"""

FILE_EXPERIMENT = """name = "from-file"
[data]
file = "d.csv"
[model]
width = 4
[optim]
eta = 0.1
max_steps = 30
[sweep]
seeds = [7]
"""


def sweep(binary: str, directory: Path, text: str, name: str) -> Path:
    experiment = directory / f"{name}.toml"
    experiment.write_text(text)
    out = directory / name
    subprocess.run([binary, "sweep", str(experiment), "--out", str(out), "--quiet"], check=True,
                   capture_output=True)
    return out


def stored(out: Path, sql: str, *args):
    db = sqlite3.connect(f"{(out / 'results.sqlite').resolve().as_uri()}?mode=ro", uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


@pytest.fixture(scope="module")
def directories(tmp_path_factory):
    import os

    binary = os.environ.get("RELUSTAB_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("RELUSTAB_BIN is not set to an executable relustab binary")
    root = tmp_path_factory.mktemp("package-results")
    (root / "d.csv").write_text("x,y\n-1,0.5\n-0.25,0.125\n0.5,-0.75\n1,0.25\n0.75,1\n")
    return binary, sweep(binary, root, EXPERIMENT, "frames"), sweep(binary, root, FILE_EXPERIMENT, "file")


def test_runs_match_the_database(directories):
    _, out, _ = directories
    results = results_module.load_results(out)
    runs = results.runs
    assert results.name == "frames"
    assert list(runs["id"]) == [row[0] for row in stored(out, "SELECT id FROM runs ORDER BY id")]
    assert len(runs) == 4
    by_id = runs.set_index("id")
    for run_id, key, status, reason in stored(out, "SELECT id, key, status, reason FROM runs"):
        assert by_id.loc[run_id, "key"] == key
        assert by_id.loc[run_id, "status"] == status
        assert by_id.loc[run_id, "reason"] == reason
    # Every metric, exactly; the outcome code as its name.
    names = {0: "converged", 1: "max_steps", 2: "diverged"}
    metrics = stored(out, "SELECT run_id, metric, value FROM metrics")
    assert metrics
    for run_id, metric, value in metrics:
        cell = by_id.loc[run_id, metric]
        if metric == "outcome":
            assert cell == names[int(value)]
        elif value is None:
            assert math.isnan(cell)
        else:
            assert cell == value, (run_id, metric)
    # A metric a run lacks is NaN (the diverged runs have no sharpness).
    diverged = by_id[by_id["outcome"] == "diverged"]
    assert len(diverged) == 2 and diverged["sharpness"].isna().all()
    assert set(by_id["outcome"]) == {"diverged", "max_steps"}
    # Every parameter row, typed like the configuration (booleans as bool).
    for run_id, key, value in stored(out, "SELECT run_id, key, value FROM params"):
        cell = by_id.loc[run_id, key]
        if isinstance(cell, (bool, np.bool_)):
            assert cell == bool(value), key
        else:
            assert cell == value, (run_id, key, cell, value)
    assert by_id.loc[1, "measure.final_analysis"] is True or by_id.loc[1, "measure.final_analysis"] == True  # noqa: E712
    assert sorted(by_id["optim.eta"].unique()) == [0.05, 300.0]


def test_logs_are_the_stored_rows_in_long_form(directories):
    _, out, _ = directories
    logs = results_module.load_results(out).logs
    assert list(logs.columns) == ["run_id", "key", "step", "metric", "value"]
    rows = stored(out, "SELECT l.run_id, r.key, l.step, l.metric, l.value FROM logs l JOIN runs r "
                       "ON r.id = l.run_id ORDER BY l.run_id, l.step, l.rowid")
    assert len(rows) == len(logs) > 0
    assert [tuple(r) for r in logs.itertuples(index=False)] == [
        (a, b, c, d, float("nan") if e is None else e) for a, b, c, d, e in rows
    ]
    assert {"loss", "eta"} <= set(logs["metric"])


def test_a_data_file_run_describes_the_file(directories):
    _, _, out = directories
    run = results_module.load_results(out).runs.iloc[0]
    assert run["data.n"] == 5  # the file's rows, not the default 30
    assert run["data.dim"] == 1
    assert run["data.file_hash"].startswith("fnv1a64:") and len(run["data.file_hash"]) == 24
    assert run["data.target"] is None and run["data.noise"] is None


def export(binary: str, out: Path) -> str:
    return subprocess.run([binary, "export", str(out)], check=True, capture_output=True, text=True).stdout


def check_export_reads_back(binary: str, directory: Path) -> None:
    """`relustab export`'s CSV read back with csv, pandas and numpy equals load_results(directory)."""
    text = export(binary, directory)
    frame = results_module.load_results(directory).runs
    columns = [c for c in frame.columns if c not in ("backend", "wall_seconds")]

    # csv module: the header is the DataFrame's columns; every cell is the value's text.
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == columns
    assert '"' not in text  # nothing quoted: no list values, no commas in these reasons
    for row, (_, run) in zip(rows[1:], frame.iterrows()):
        assert len(row) == len(columns)
        for name, cell in zip(columns, row):
            value = run[name]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert cell == "", name
            elif isinstance(value, (bool, np.bool_)):
                assert cell == ("true" if value else "false"), name
            elif name == "data.classes":
                assert cell == value.replace(",", ";")
            elif isinstance(value, (float, np.floating)):
                assert float(cell) == value, name  # exact: shortest round-trip text
            else:
                assert cell == str(value), name

    # pandas: numbers come back as the same doubles, text as text.
    read = pd.read_csv(io.StringIO(text))
    assert list(read.columns) == columns
    for name in columns:
        if pd.api.types.is_float_dtype(frame[name]):
            assert np.array_equal(read[name].to_numpy(float), frame[name].to_numpy(float), equal_nan=True), name
    assert list(read["outcome"]) == list(frame["outcome"])
    assert list(read["status"]) == list(frame["status"])

    # numpy: the numeric columns with genfromtxt (text cells become NaN), exactly.
    numeric = [i for i, name in enumerate(columns) if pd.api.types.is_float_dtype(frame[name])]
    table = np.genfromtxt(io.StringIO(text), delimiter=",", skip_header=1, usecols=numeric,
                          dtype=float, ndmin=2)
    expected = frame[[columns[i] for i in numeric]].to_numpy(float)
    assert np.array_equal(table, expected, equal_nan=True)


def test_export_reads_back_with_csv_numpy_and_pandas(directories):
    binary, out, file_out = directories
    for directory in (out, file_out):
        check_export_reads_back(binary, directory)


# Different runs set different parameters that are keyed only when set (measure.top_k, lambda_min,
# trace_samples): their columns come in the table's order, not in the order the runs name them.
SPECTRUM_MIX_EXPERIMENT = """name = "spectrum-mix"
[data]
n = 8
[model]
width = 3
[optim]
max_steps = 30
[sweep]
cases = [
  { "measure.lambda_min" = true },
  { "measure.top_k" = 2 },
  { "measure.trace_samples" = 4 },
]
"""


def test_export_reads_back_keys_set_by_some_runs_and_an_earlier_versions_directory(directories, tmp_path):
    binary = directories[0]
    mixed = sweep(binary, tmp_path, SPECTRUM_MIX_EXPERIMENT, "spectrum-mix")
    header = export(binary, mixed).splitlines()[0].split(",")
    spectrum = [c for c in header if c in ("measure.top_k", "measure.lambda_min", "measure.trace_samples")]
    assert spectrum == ["measure.top_k", "measure.lambda_min", "measure.trace_samples"]
    check_export_reads_back(binary, mixed)
    # A directory relustab c085958 wrote, before those keys existed: no columns for them.
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    source = Path(__file__).resolve().parents[2] / "tests" / "experiment" / "data" / "results-c085958"
    shutil.copy(source / "results.sqlite", earlier / "results.sqlite")
    assert "measure.top_k" not in export(binary, earlier).splitlines()[0]
    check_export_reads_back(binary, earlier)


def test_shortest_numbers_in_the_export(directories):
    binary, out, _ = directories
    text = export(binary, out)
    assert ",0.05," in text  # optim.eta as written, not 0.050000000000000003
    assert "0.050000000000000003" not in text
    assert ",0.1," in text  # data.noise


def test_missing_directory_is_a_results_error(tmp_path):
    with pytest.raises(results_module.ResultsError, match="no such experiment directory"):
        results_module.load_results(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(results_module.ResultsError, match="no results database"):
        results_module.load_results(tmp_path / "empty")
