# SPDX-License-Identifier: MIT
"""Test helpers: a results database written by hand with the schema of result_store.h."""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any, Sequence

# Schema 1 of include/relustab/experiment/result_store.h (src/store/sqlite_store.cpp).
SCHEMA_SQL = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, config TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'failed')),
  reason TEXT NOT NULL DEFAULT '', attempts INTEGER NOT NULL DEFAULT 0,
  completions INTEGER NOT NULL DEFAULT 0, backend TEXT, wall_seconds REAL, started_at TEXT,
  finished_at TEXT);
CREATE TABLE params(run_id INTEGER NOT NULL, key TEXT NOT NULL, value,
                    PRIMARY KEY (run_id, key)) WITHOUT ROWID;
CREATE TABLE metrics(run_id INTEGER NOT NULL, metric TEXT NOT NULL, value,
                     PRIMARY KEY (run_id, metric)) WITHOUT ROWID;
CREATE TABLE logs(run_id INTEGER NOT NULL, step INTEGER NOT NULL, metric TEXT NOT NULL, value);
CREATE TABLE nets(run_id INTEGER PRIMARY KEY, net TEXT NOT NULL);
"""


def write_results_db(
    directory: Path, name: str, runs: Sequence[dict[str, Any]], schema_version: int = 1
) -> Path:
    """Creates DIR/results.sqlite. Each run: config (dict), status ('done'), reason, wall_seconds, metrics (dict;
    NaN is stored as NULL like the store does), logs [(step, metric, value)], net (dict or None)."""
    directory.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(directory / "results.sqlite")
    db.executescript(SCHEMA_SQL)
    db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (schema_version,))
    db.execute("INSERT INTO meta VALUES ('name', ?)", (name,))
    db.execute("INSERT INTO meta VALUES ('experiment', ?)", (json.dumps({"name": name}),))
    for run_id, run in enumerate(runs, start=1):
        db.execute(
            "INSERT INTO runs(id, key, config, status, reason, wall_seconds) VALUES (?, ?, ?, ?, ?, ?)",
            (
                run_id,
                f"{run_id:016x}",
                json.dumps(run["config"]),
                run.get("status", "done"),
                run.get("reason", ""),
                run.get("wall_seconds"),
            ),
        )
        for key, value in run["config"].items():
            db.execute("INSERT INTO params VALUES (?, ?, ?)", (run_id, key, value))
        for metric, value in run.get("metrics", {}).items():
            stored = None if isinstance(value, float) and math.isnan(value) else value
            db.execute("INSERT INTO metrics VALUES (?, ?, ?)", (run_id, metric, stored))
        for step, metric, value in run.get("logs", []):
            db.execute("INSERT INTO logs VALUES (?, ?, ?, ?)", (run_id, step, metric, value))
        if run.get("net") is not None:
            db.execute("INSERT INTO nets VALUES (?, ?)", (run_id, json.dumps(run["net"])))
    db.commit()
    db.close()
    return directory


def net_dict(neurons: Sequence[Sequence[float]], b2: float) -> dict[str, Any]:
    """A univariate relustab-net JSON dict from (w1, b1, w2) triples."""
    return {
        "format": "relustab-net",
        "version": 1,
        "input_dim": 1,
        "width": len(neurons),
        "W1": [[w1] for w1, _, _ in neurons],
        "b1": [b1 for _, b1, _ in neurons],
        "w2": [w2 for _, _, w2 in neurons],
        "b2": b2,
    }
