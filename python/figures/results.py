# SPDX-License-Identifier: MIT
"""Reading an experiment directory (DIR/results.sqlite) and calling the relustab binary for curves.

The database schema is the one of include/relustab/experiment/result_store.h (schema 1): tables
meta(key, value), runs(id, key, config JSON, status, reason, ...), metrics(run_id, metric, value),
logs(run_id, step, metric, value) and nets(run_id, net JSON). It is opened read-only.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np


def _load_database_reader():
    """python/relustab/results.py, the one reader of results databases (shared with the relustab
    package), loaded by its path: importing it as relustab.results would run the package's
    __init__, which needs the compiled extension, and the figure scripts need only the binary."""
    name = "_relustab_results"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parent.parent / "relustab" / "results.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before running it: dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


_database = _load_database_reader()
DATABASE_FILE = _database.DATABASE_FILE
SUPPORTED_SCHEMA_VERSION = _database.SUPPORTED_SCHEMA_VERSION
OUTCOMES = _database.OUTCOMES
ResultsError = _database.ResultsError
# Points per `relustab weight --at` call: at most ~25 characters each, well under the 128 KiB limit
# of one command-line argument.
WEIGHT_POINTS_PER_CALL = 4000



# ----------------------------------------------------------------------------------------------
# The database


@dataclass
class Run:
    """One run of a sweep: its configuration (flat "section.key" dict) and final metrics."""

    id: int
    key: str
    status: str
    reason: str
    config: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    wall_seconds: float = 0.0  # time the run took (0 when not finished)

    @property
    def done(self) -> bool:
        return self.status == "done"

    def metric(self, name: str) -> float:
        """The metric's value; NaN when the run has none (not measured, failed, stored as NULL)."""
        value = self.metrics.get(name)
        return float("nan") if value is None else float(value)

    def has(self, name: str) -> bool:
        return math.isfinite(self.metric(name))

    def outcome(self) -> str:
        """The training outcome by name (metric outcome: 0 converged, 1 max_steps, 2 diverged)."""
        name = _database.outcome_name(self.metric("outcome"))
        return self.status if name is None else name


@dataclass
class Log:
    """A run's per-step log: for each metric, the steps and the values (sorted by step)."""

    series: dict[str, tuple[np.ndarray, np.ndarray]]

    def __contains__(self, metric: str) -> bool:
        return metric in self.series

    def steps(self, metric: str) -> np.ndarray:
        return self.series[metric][0]

    def values(self, metric: str) -> np.ndarray:
        return self.series[metric][1]


class Results:
    """An experiment directory's database, opened read-only. Use as a context manager."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self._db, path = _database.connect(self.directory)
        try:
            self.meta = _database.read_meta(self._db, path)
            self.runs = [
                Run(
                    id=row["id"],
                    key=row["key"],
                    status=row["status"],
                    reason=row["reason"],
                    config=row["config"],
                    metrics=row["metrics"],
                    wall_seconds=row["wall_seconds"],
                )
                for row in _database.read_runs(self._db)
            ]
        except sqlite3.DatabaseError as error:
            self._db.close()
            raise ResultsError(f"{path}: not a relustab results database ({error})") from error
        except ResultsError:
            self._db.close()
            raise

    @property
    def name(self) -> str:
        return self.meta.get("name", "")

    @property
    def experiment(self) -> dict[str, Any]:
        text = self.meta.get("experiment")
        try:
            return json.loads(text) if text else {}
        except json.JSONDecodeError:
            return {}

    def done_runs(self) -> list[Run]:
        return [run for run in self.runs if run.done]

    def log(self, run: Run | int) -> Log:
        run_id = run.id if isinstance(run, Run) else int(run)
        rows: dict[str, list[tuple[int, float]]] = {}
        for _, step, metric, value in _database.read_logs(self._db, run_id):
            rows.setdefault(metric, []).append((step, value))
        return Log(
            {
                metric: (
                    np.array([s for s, _ in pairs], dtype=np.int64),
                    np.array([v for _, v in pairs], dtype=float),
                )
                for metric, pairs in rows.items()
            }
        )

    def net(self, run: Run | int) -> dict[str, Any] | None:
        run_id = run.id if isinstance(run, Run) else int(run)
        row = self._db.execute("SELECT net FROM nets WHERE run_id = ?", (run_id,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Results":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------------------------------
# Grouping and aggregation over seeds


def varying_keys(runs: Sequence[Run]) -> list[str]:
    """Configuration keys whose value differs between runs (the sweep's axes), in config order."""
    if not runs:
        return []
    keys = list(runs[0].config)
    return [k for k in keys if len({json.dumps(r.config.get(k)) for r in runs}) > 1]


def group_by(runs: Iterable[Run], key: str | Callable[[Run], Any]) -> dict[Any, list[Run]]:
    """Runs grouped by a config key (or a function of the run), groups in increasing key order."""
    get = key if callable(key) else (lambda run: run.config.get(key))
    groups: dict[Any, list[Run]] = {}
    for run in runs:
        groups.setdefault(get(run), []).append(run)
    return dict(sorted(groups.items(), key=lambda item: _sort_key(item[0])))


def _sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    return (1, str(value))


def select(runs: Iterable[Run], **where: Any) -> list[Run]:
    """Runs whose config matches every `section__key=value` (double underscore for the dot)."""
    wanted = {k.replace("__", "."): v for k, v in where.items()}
    return [r for r in runs if all(r.config.get(k) == v for k, v in wanted.items())]


def first_seed(runs: Sequence[Run]) -> Run | None:
    """The run with the smallest run.seed (then id): the representative run of a group."""
    candidates = sorted(runs, key=lambda r: (r.config.get("run.seed", 0), r.id))
    return candidates[0] if candidates else None


@dataclass
class Series:
    """A metric against a swept value, aggregated over the runs (seeds) at each value."""

    x: np.ndarray
    median: np.ndarray
    lo: np.ndarray  # 25th percentile
    hi: np.ndarray  # 75th percentile
    count: np.ndarray  # runs with a finite value at each x
    values: list[np.ndarray]

    def to_json(self) -> dict[str, Any]:
        return {
            "x": self.x,
            "median": self.median,
            "q25": self.lo,
            "q75": self.hi,
            "count": self.count,
        }


def aggregate(
    groups: dict[Any, list[Run]],
    value: str | Callable[[Run], float],
    missing: "MissingLog | None" = None,
) -> Series:
    """Median and interquartile band of a metric (or a function of a run) per group.

    Runs without a finite value are skipped (and recorded in `missing`); an empty group gives NaN.
    """
    get = value if callable(value) else (lambda run: run.metric(value))
    name = value if isinstance(value, str) else getattr(value, "__name__", "value")
    xs, med, lo, hi, count, all_values = [], [], [], [], [], []
    for x, runs in groups.items():
        vals = []
        for run in runs:
            v = get(run) if run.done else float("nan")
            if math.isfinite(v):
                vals.append(v)
            elif missing is not None:
                missing.add(run, name)
        arr = np.array(vals, dtype=float)
        xs.append(float(x))
        all_values.append(arr)
        count.append(arr.size)
        if arr.size:
            q25, q50, q75 = np.percentile(arr, [25, 50, 75])
        else:
            q25 = q50 = q75 = float("nan")
        med.append(q50)
        lo.append(q25)
        hi.append(q75)
    return Series(
        np.array(xs), np.array(med), np.array(lo), np.array(hi), np.array(count), all_values
    )


class MissingLog:
    """Runs (and the metrics) a figure had to skip, for the figure's JSON."""

    def __init__(self) -> None:
        self._entries: dict[tuple[int, str], dict[str, Any]] = {}

    def add(self, run: Run, what: str) -> None:
        entry = {"run_id": run.id, "key": run.key, "status": run.status, "missing": what}
        if run.reason:
            entry["reason"] = run.reason
        self._entries.setdefault((run.id, what), entry)

    def to_json(self) -> list[dict[str, Any]]:
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


def fit_power_law(x: Sequence[float], y: Sequence[float]) -> dict[str, float]:
    """Least-squares fit of log y = intercept + slope log x (natural logs) over the positive,
    finite pairs.

    Returns slope, intercept, the slope's standard error (NaN with fewer than 3 points) and the
    number of points used.
    """
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    keep = np.isfinite(xa) & np.isfinite(ya) & (xa > 0) & (ya > 0)
    lx, ly = np.log(xa[keep]), np.log(ya[keep])
    if lx.size < 2 or np.ptp(lx) == 0:
        return {
            "slope": float("nan"),
            "intercept": float("nan"),
            "slope_stderr": float("nan"),
            "points": int(lx.size),
        }
    design = np.column_stack([np.ones_like(lx), lx])
    coef, *_ = np.linalg.lstsq(design, ly, rcond=None)
    stderr = float("nan")
    if lx.size > 2:
        residual = ly - design @ coef
        sigma2 = float(residual @ residual) / (lx.size - 2)
        stderr = math.sqrt(sigma2 / float(((lx - lx.mean()) ** 2).sum()))
    return {
        "slope": float(coef[1]),
        "intercept": float(coef[0]),
        "slope_stderr": stderr,
        "points": int(lx.size),
    }


# ----------------------------------------------------------------------------------------------
# Data


@dataclass
class Dataset:
    """A univariate data set as in a relustab CSV (y_clean is None when the file has none)."""

    x: np.ndarray
    y: np.ndarray
    y_clean: np.ndarray | None = None


def read_csv(path: str | os.PathLike[str]) -> Dataset:
    """Reads a relustab data CSV with header x,y[,y_clean] (d = 1 only)."""
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ResultsError(f"{path}: empty data file")
    header = [h.strip() for h in rows[0]]
    if header[:2] != ["x", "y"]:
        raise ResultsError(
            f"{path}: expected a univariate header 'x,y[,y_clean]', got " f"{','.join(header)!r}"
        )
    body = np.array([[float(v) for v in row] for row in rows[1:] if row], dtype=float)
    body = body.reshape(-1, len(header))
    clean = body[:, 2] if len(header) > 2 and header[2] == "y_clean" else None
    return Dataset(body[:, 0], body[:, 1], clean)


def write_csv(path: str | os.PathLike[str], data: Dataset) -> None:
    """Writes x,y[,y_clean] with every digit (repr round-trips float64)."""
    with open(path, "w", newline="") as handle:
        handle.write("x,y,y_clean\n" if data.y_clean is not None else "x,y\n")
        for i in range(data.x.size):
            row = [data.x[i], data.y[i]] + ([data.y_clean[i]] if data.y_clean is not None else [])
            handle.write(",".join(repr(float(v)) for v in row) + "\n")


def standardize(x: np.ndarray) -> np.ndarray:
    """Zero mean, unit standard deviation (population std, ddof = 0), as in paper 1's Fig. 2."""
    x = np.asarray(x, dtype=float)
    std = x.std()
    return (x - x.mean()) / (std if std > 0 else 1.0)


def net_function(net: dict[str, Any], x: np.ndarray) -> np.ndarray:
    """f(x) = sum_i w2_i relu(w1_i x + b1_i) + b2 for a univariate relustab-net JSON dict."""
    w1 = np.array([row[0] for row in net["W1"]], dtype=float)
    b1 = np.array(net["b1"], dtype=float)
    w2 = np.array(net["w2"], dtype=float)
    x = np.asarray(x, dtype=float)
    return np.maximum(np.outer(x, w1) + b1, 0.0) @ w2 + float(net["b2"])


def neuron_functions(neurons: Sequence[Sequence[float]], x: np.ndarray) -> np.ndarray:
    """Each neuron's contribution x -> w2 relu(w1 x + b1); rows = neurons, columns = x."""
    arr = np.asarray(neurons, dtype=float).reshape(-1, 3)
    w1, b1, w2 = arr[:, 0:1], arr[:, 1:2], arr[:, 2:3]
    return w2 * np.maximum(w1 * np.asarray(x, dtype=float)[None, :] + b1, 0.0)


# ----------------------------------------------------------------------------------------------
# The relustab binary


def _format_number(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class Relustab:
    """Calls the relustab binary ($RELUSTAB_BIN, else `relustab` on PATH) for data, g and curves.

    Scratch files live in a temporary directory removed by close() (or the context manager).
    """

    def __init__(self, binary: str | None = None):
        binary = binary or os.environ.get("RELUSTAB_BIN") or shutil.which("relustab")
        self.binary = binary
        self._scratch = tempfile.TemporaryDirectory(prefix="relustab-figures-")
        self._data_cache: dict[str, Path] = {}
        self._counter = 0

    @property
    def available(self) -> bool:
        return bool(self.binary) and os.access(str(self.binary), os.X_OK)

    def close(self) -> None:
        self._scratch.cleanup()

    def __enter__(self) -> "Relustab":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def scratch_path(self, stem: str, suffix: str) -> Path:
        self._counter += 1
        return Path(self._scratch.name) / f"{stem}-{self._counter}{suffix}"

    def call(self, args: Sequence[str]) -> str:
        if not self.available:
            raise ResultsError("the relustab binary is needed (set RELUSTAB_BIN to its path)")
        command = [str(self.binary), *map(str, args)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise ResultsError(
                f"`{' '.join(command[:2])} ...` failed (exit {done.returncode}): "
                f"{done.stderr.strip() or done.stdout.strip()}"
            )
        return done.stdout

    def call_json(self, args: Sequence[str]) -> dict[str, Any]:
        out = self.call(args).strip().splitlines()
        if not out:
            raise ResultsError(f"relustab {args[0]}: printed nothing")
        return json.loads(out[-1])

    # -- data ----------------------------------------------------------------------------------

    def data_file(self, config: dict[str, Any]) -> Path:
        """The CSV of a run's training data: data.file as is, else regenerated with `relustab data`
        from data.n, data.dim, data.inputs, data.target, data.noise, data.lo, data.hi, data.seed
        (execute_run generates the data exactly as that command does)."""
        if config.get("data.file"):
            return Path(config["data.file"])
        keys = (
            "data.n",
            "data.dim",
            "data.inputs",
            "data.target",
            "data.noise",
            "data.lo",
            "data.hi",
            "data.seed",
        )
        signature = json.dumps([config.get(k) for k in keys])
        if signature not in self._data_cache:
            path = self.scratch_path("data", ".csv")
            args = ["data", "--out", path]
            for key in keys:
                if key in config:
                    args += [f"--{key.split('.', 1)[1]}", _format_number(config[key])]
            self.call(args)
            self._data_cache[signature] = path
        return self._data_cache[signature]

    def training_data(self, config: dict[str, Any]) -> Dataset:
        return read_csv(self.data_file(config))

    def clean_target(
        self, config: dict[str, Any], lo: float, hi: float, points: int = 801
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """f0 on an even grid of [lo, hi]: the same target generated on grid inputs without noise.
        None for runs that read their data from a file (no known target)."""
        if config.get("data.file") or int(config.get("data.dim", 1)) != 1:
            return None
        grid_config = dict(config)
        grid_config.update(
            {
                "data.inputs": "grid",
                "data.n": int(points),
                "data.lo": float(lo),
                "data.hi": float(hi),
                "data.noise": 0.0,
            }
        )
        data = self.training_data(grid_config)
        return data.x, data.y_clean if data.y_clean is not None else data.y

    # -- weight function and curves --------------------------------------------------------------

    def weight_of_data(self, data_csv: str | os.PathLike[str], at: Sequence[float]) -> np.ndarray:
        """Empirical g of the data's inputs at the points (`relustab weight --data ... --json`)."""
        return self._weight(["--data", str(data_csv)], at)

    def weight_of_law(self, law: str, at: Sequence[float]) -> np.ndarray:
        """Population g of a unit-variance law (uniform, gaussian, laplace)."""
        return self._weight(["--dist", law], at)

    def _weight(self, source: list[str], at: Sequence[float]) -> np.ndarray:
        # The points travel in one command-line argument, which Linux caps at 128 KiB
        # (MAX_ARG_STRLEN): long lists go in chunks.
        points = np.asarray(at, dtype=float).ravel()
        parts = [
            self.call_json(["weight", *source, "--at", _points_arg(chunk), "--json"])["g"]
            for chunk in np.array_split(points, max(1, -(-points.size // WEIGHT_POINTS_PER_CALL)))
        ]
        return np.concatenate([np.asarray(p, dtype=float) for p in parts])

    def curves(
        self,
        net: dict[str, Any],
        data_csv: str | os.PathLike[str],
        lo: float | None = None,
        hi: float | None = None,
        points: int = 801,
        bandwidth: float | None = None,
    ) -> dict[str, Any]:
        """`relustab curves` of a net on a grid: x, f, abs_f2_smoothed, g, knots, neurons."""
        net_path = self.scratch_path("net", ".json")
        net_path.write_text(json.dumps(net))
        args = ["curves", "--net", net_path, "--data", data_csv, "--points", str(points), "--json"]
        if lo is not None:
            args += ["--from", repr(float(lo))]
        if hi is not None:
            args += ["--to", repr(float(hi))]
        if bandwidth is not None:
            args += ["--bandwidth", repr(float(bandwidth))]
        raw = self.call_json(args)
        out: dict[str, Any] = dict(raw)
        for key in ("x", "f", "abs_f2_smoothed", "g"):
            out[key] = np.array(raw[key], dtype=float)
        out["knots"] = np.array(raw.get("knots", []), dtype=float).reshape(-1, 2)
        out["neurons"] = np.array(raw.get("neurons", []), dtype=float).reshape(-1, 3)
        return out


def _points_arg(at: Sequence[float]) -> str:
    return ",".join(repr(float(v)) for v in at)


def json_ready(value: Any) -> Any:
    """numpy arrays/scalars to lists/floats, non-finite floats to None (JSON has no NaN)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_ready(v) for v in value]
    if isinstance(value, np.ndarray):
        return json_ready(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(float(value)) else None
    return value


def pick_spread(values: Sequence[float], count: int, log: bool = True) -> list[float]:
    """Up to `count` of the distinct values, spread evenly (in log scale with `log`) from the
    smallest to the largest: each pick is the value nearest to an even target, never twice."""
    distinct = sorted({float(v) for v in values})
    if len(distinct) <= count:
        return distinct
    scale = np.log(distinct) if log else np.array(distinct)
    targets = np.linspace(scale[0], scale[-1], count)
    chosen: list[int] = []
    for target in targets:
        order = np.argsort(np.abs(scale - target), kind="stable")
        chosen.append(next(int(i) for i in order if int(i) not in chosen))
    return [distinct[i] for i in sorted(chosen)]
