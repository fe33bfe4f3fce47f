# SPDX-License-Identifier: MIT
"""Results directories of `relustab sweep` as pandas DataFrames, read-only.

    from relustab.results import load_results
    results = load_results("runs/w1")
    results.runs     # one row per run: id, key, status, reason, every parameter, every metric
    results.logs     # the training logs in long form: run_id, key, step, metric, value

Pure Python (sqlite3, and pandas for the DataFrames): it needs no compiled extension, so it also works
where only the command-line binary was built, and the figure scripts (python/figures/results.py) read
databases through the functions below. The database is DIR/results.sqlite, schema 1 of
include/relustab/experiment/result_store.h, opened read-only (a sweep may be writing it).

Conventions of `runs` (the same as `relustab export`, documented in docs/design.md):
- the parameters are what ran: the params rows of the database, typed as the run's configuration
  (booleans as bool); with data.file, data.n and data.dim are the file's sample count and input
  dimension, data.file_hash its content hash, and the generator's keys (data.target, data.noise, ...)
  are missing values (None), not unused defaults;
- metrics are floats (NaN where a run has none); the metric `outcome` is text: converged, max_steps or
  diverged;
- `backend` and `wall_seconds` (what ran, how long) follow the metrics.
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATABASE_FILE = "results.sqlite"
# Newest schema this reader understands (kSchemaVersion in result_store.h).
SUPPORTED_SCHEMA_VERSION = 1
# The metric `outcome` (training_metrics in the run API): its codes by name.
OUTCOMES = {0: "converged", 1: "max_steps", 2: "diverged"}

__all__ = [
    "DATABASE_FILE",
    "OUTCOMES",
    "Results",
    "ResultsError",
    "SUPPORTED_SCHEMA_VERSION",
    "connect",
    "load_results",
    "outcome_name",
    "read_logs",
    "read_meta",
    "read_params",
    "read_runs",
]


class ResultsError(Exception):
    """Bad input: a directory that is not a relustab experiment, a database of a newer schema, ..."""


def connect(directory: str | os.PathLike[str]) -> tuple[sqlite3.Connection, Path]:
    """Opens DIR/results.sqlite read-only; returns the connection and the database's path."""
    directory = Path(directory)
    path = directory / DATABASE_FILE
    if not directory.is_dir():
        raise ResultsError(f"{directory}: no such experiment directory")
    if not path.is_file():
        raise ResultsError(
            f"{path}: no results database (run `relustab sweep EXP.toml --out {directory}` first)"
        )
    # mode=ro: never write to a database another process (a running sweep) may be writing.
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True), path


def read_meta(db: sqlite3.Connection, path: Path) -> dict[str, str]:
    """The meta table (schema_version, experiment, name); refuses schemas this reader does not know."""
    try:
        meta = {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta")}
    except sqlite3.DatabaseError as error:
        raise ResultsError(f"{path}: not a relustab results database ({error})") from error
    try:
        version = int(meta.get("schema_version", "0") or 0)
    except ValueError:
        version = 0
    if version < 1 or version > SUPPORTED_SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: schema_version {meta.get('schema_version')!r}; this reader "
            f"understands 1..{SUPPORTED_SCHEMA_VERSION}"
        )
    return meta


def _number(value: Any) -> float:
    # NULL is how the store writes NaN (SQLite has no NaN).
    return float("nan") if value is None else float(value)


def read_runs(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every run in id order: id, key, status, reason, config (the canonical JSON as a dict),
    backend, wall_seconds and metrics (name -> float, NaN for NULL)."""
    runs: dict[int, dict[str, Any]] = {}
    for run_id, key, config, status, reason, backend, seconds in db.execute(
        "SELECT id, key, config, status, reason, backend, wall_seconds FROM runs ORDER BY id"
    ):
        runs[int(run_id)] = {
            "id": int(run_id),
            "key": str(key),
            "status": str(status),
            "reason": str(reason or ""),
            "config": json.loads(config) if config else {},
            "backend": None if backend is None else str(backend),
            "wall_seconds": float(seconds or 0.0),
            "metrics": {},
        }
    for run_id, metric, value in db.execute("SELECT run_id, metric, value FROM metrics"):
        if int(run_id) in runs:
            runs[int(run_id)]["metrics"][str(metric)] = _number(value)
    return list(runs.values())


def read_params(db: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    """The params rows by run id (key -> value as stored; None for NULL)."""
    params: dict[int, dict[str, Any]] = {}
    for run_id, key, value in db.execute("SELECT run_id, key, value FROM params"):
        params.setdefault(int(run_id), {})[str(key)] = value
    return params


def read_logs(db: sqlite3.Connection, run_id: int | None = None) -> list[tuple[int, int, str, float]]:
    """Log rows (run_id, step, metric, value) of one run or of all, by run, then step, in stored order."""
    sql = "SELECT run_id, step, metric, value FROM logs"
    arguments: tuple[Any, ...] = ()
    if run_id is not None:
        sql += " WHERE run_id = ?"
        arguments = (int(run_id),)
    sql += " ORDER BY run_id, step, rowid"
    return [(int(r), int(s), str(m), _number(v)) for r, s, m, v in db.execute(sql, arguments)]


def outcome_name(code: float) -> str | None:
    """The metric `outcome` by name; None for NaN (no outcome stored)."""
    if code != code:  # NaN
        return None
    return OUTCOMES.get(int(code), str(code))


def _typed(value: Any, like: Any) -> Any:
    """A params value typed as the configuration's value of the key (SQLite stores booleans as 0/1)."""
    if value is None:
        return None
    if isinstance(like, bool):
        return bool(value)
    return value


@dataclass
class Results:
    """A results directory as DataFrames: `runs` (one wide row per run) and `logs` (long form)."""

    directory: Path
    name: str
    experiment: dict[str, Any]
    runs: Any  # pandas.DataFrame
    logs: Any  # pandas.DataFrame

    def __repr__(self) -> str:
        done = int((self.runs["status"] == "done").sum()) if len(self.runs) else 0
        return (
            f"<relustab results '{self.name}' in {self.directory}: {len(self.runs)} runs, "
            f"{done} done, {len(self.logs)} log rows>"
        )


def load_results(directory: str | os.PathLike[str]) -> Results:
    """Reads DIR/results.sqlite (read-only) into a Results with `.runs` and `.logs` DataFrames."""
    import pandas as pd  # here, so that the plain readers above work without pandas

    db, path = connect(directory)
    try:
        meta = read_meta(db, path)
        try:
            runs = read_runs(db)
            params = read_params(db)
            logs = read_logs(db)
        except sqlite3.DatabaseError as error:
            raise ResultsError(f"{path}: not a relustab results database ({error})") from error
    finally:
        db.close()

    # Columns as `relustab export` writes them: parameters in table order, further params rows by
    # name (data.file_hash), metrics by name. The table (keys in order, defaults) is in meta
    # "parameters" (a run's configuration leaves out the parameters keyed only when set); a database
    # written before that entry existed has every parameter in each configuration, in table order.
    stored_params = {k for p in params.values() for k in p}
    param_columns: list[str] = []
    for run in runs:
        for key in run["config"]:
            if key not in param_columns:
                param_columns.append(key)
    defaults: dict[str, Any] = {}
    if "parameters" in meta:
        defaults = json.loads(meta["parameters"])
        named = set(param_columns) | stored_params
        param_columns = [key for key in defaults if key in named]
    extra = sorted(stored_params - set(param_columns))
    param_columns += extra
    metric_columns = sorted({m for run in runs for m in run["metrics"]} - set(param_columns))

    rows = []
    for run in runs:
        row: dict[str, Any] = {
            "id": run["id"],
            "key": run["key"],
            "status": run["status"],
            "reason": run["reason"],
        }
        stored = params.get(run["id"], {})
        for key in param_columns:
            value = stored[key] if key in stored else run["config"].get(key)
            row[key] = _typed(value, run["config"].get(key, defaults.get(key)))
        for metric in metric_columns:
            value = run["metrics"].get(metric, float("nan"))
            row[metric] = outcome_name(value) if metric == "outcome" else value
        row["backend"] = run["backend"]
        row["wall_seconds"] = run["wall_seconds"]
        rows.append(row)
    columns = ["id", "key", "status", "reason", *param_columns, *metric_columns, "backend", "wall_seconds"]
    runs_frame = pd.DataFrame(rows, columns=columns)
    for metric in metric_columns:
        if metric != "outcome":
            runs_frame[metric] = runs_frame[metric].astype(float)

    key_of = {run["id"]: run["key"] for run in runs}
    logs_frame = pd.DataFrame(
        [(run_id, key_of.get(run_id, ""), step, metric, value) for run_id, step, metric, value in logs],
        columns=["run_id", "key", "step", "metric", "value"],
    )
    logs_frame = logs_frame.astype({"run_id": "int64", "step": "int64", "value": "float64"})

    experiment_text = meta.get("experiment")
    try:
        experiment = json.loads(experiment_text) if experiment_text else {}
    except json.JSONDecodeError:
        experiment = {}
    return Results(
        directory=Path(directory),
        name=meta.get("name", ""),
        experiment=experiment,
        runs=runs_frame,
        logs=logs_frame,
    )
