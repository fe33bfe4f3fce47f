# SPDX-License-Identifier: MIT
"""relustab.sweep: an experiment file run from Python, checked against `relustab sweep` on the same
file (the databases read back with relustab.results), and its resuming, overrides, shards, errors and
interruption."""

from __future__ import annotations

import math
import sqlite3
import subprocess
from pathlib import Path

import pytest

import relustab

pd = pytest.importorskip("pandas")

EXPERIMENT = """name = "from-python"
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


@pytest.fixture
def experiment(tmp_path: Path) -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(EXPERIMENT)
    return path


def cli(binary: str, *args: object) -> str:
    done = subprocess.run([binary, *map(str, args)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def comparable(runs):
    """The runs without what depends on the machine (wall time)."""
    return runs.drop(columns=["wall_seconds"]).reset_index(drop=True)


def test_sweep_equals_the_command_line(relustab_bin, experiment, tmp_path):
    cli(relustab_bin, "sweep", experiment, "--out", tmp_path / "cli", "--jobs", 2, "--quiet")
    results = relustab.sweep(experiment, tmp_path / "py", jobs=2, progress=False)
    expected = relustab.load_results(tmp_path / "cli")
    assert len(results.runs) == 4
    runs = results.runs
    assert set(runs[runs["optim.eta"] == 300.0]["outcome"]) == {"diverged"}
    assert set(runs[runs["optim.eta"] == 0.05]["outcome"]) <= {"converged", "max_steps"}
    pd.testing.assert_frame_equal(comparable(results.runs), comparable(expected.runs))
    pd.testing.assert_frame_equal(results.logs, expected.logs)


def test_overrides_are_the_command_lines_set(relustab_bin, experiment, tmp_path):
    cli(relustab_bin, "sweep", experiment, "--out", tmp_path / "cli", "--quiet",
        "--set", "optim.eta=0.07", "--set", "model.width=5", "--set", "measure.log_sharpness=false")
    by_mapping = relustab.sweep(experiment, tmp_path / "map", progress=False,
                                set={"optim.eta": 0.07, "model.width": 5, "measure.log_sharpness": False})
    by_text = relustab.sweep(experiment, tmp_path / "text", progress=False,
                             set=["optim.eta=0.07", "model.width=5", "measure.log_sharpness=false"])
    expected = comparable(relustab.load_results(tmp_path / "cli").runs)
    # The eta axis is replaced by the override: two runs (the seeds), width 5.
    assert list(expected["optim.eta"]) == [0.07, 0.07] and list(expected["model.width"]) == [5, 5]
    pd.testing.assert_frame_equal(comparable(by_mapping.runs), expected)
    pd.testing.assert_frame_equal(comparable(by_text.runs), expected)


def test_a_second_sweep_resumes_and_an_extended_axis_adds_runs(experiment, tmp_path):
    out = tmp_path / "out"
    first = relustab.sweep(experiment, out, progress=False, load=False)
    assert (first["total"], first["done"] + first["failed"], first["name"]) == (4, 4, "from-python")
    with sqlite3.connect(out / "results.sqlite") as db:
        finished = dict(db.execute("SELECT id, finished_at FROM runs"))
    again = relustab.sweep(experiment, out, progress=False, load=False)
    assert again["done"] + again["failed"] == 4
    with sqlite3.connect(out / "results.sqlite") as db:
        assert dict(db.execute("SELECT id, finished_at FROM runs")) == finished  # nothing re-ran
    experiment.write_text(EXPERIMENT.replace("seeds = [1, 2]", "seeds = [1, 2, 3]"))
    extended = relustab.sweep(experiment, out, progress=False)
    assert len(extended.runs) == 6 and set(extended.runs["run.seed"]) == {1, 2, 3}


def test_default_directory_and_shards_are_the_command_lines(experiment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    counts = relustab.sweep(experiment, progress=False, load=False)
    assert Path(counts["dir"]) == Path("runs") / "exp"
    assert (tmp_path / "runs" / "exp" / "results.sqlite").is_file()
    shard = relustab.sweep(experiment, tmp_path / "sharded", shard="1/2", progress=False, load=False)
    assert Path(shard["dir"]) == tmp_path / "sharded" / "shard-1-of-2"
    assert shard["total"] == 2  # runs 2 and 4 of 4


def test_callback_sees_the_progress_and_its_exception_stops_the_sweep(experiment, tmp_path):
    seen = []
    relustab.sweep(experiment, tmp_path / "a", jobs=1, progress=False, callback=seen.append, load=False)
    assert seen and seen[-1]["total"] == 4 and seen[-1]["done"] + seen[-1]["failed"] == 4
    assert all(set(s) == {"total", "done", "failed", "running", "elapsed_s", "eta_s"} for s in seen)

    class Stop(Exception):
        pass

    def stop(_):
        raise Stop()

    with pytest.raises(Stop):
        relustab.sweep(experiment, tmp_path / "b", jobs=1, progress=False, callback=stop, load=False)
    # The interrupted directory is resumed by the next sweep.
    resumed = relustab.sweep(experiment, tmp_path / "b", progress=False, load=False)
    assert resumed["done"] + resumed["failed"] == 4


@pytest.mark.parametrize("call,message", [
    (lambda e, t: relustab.sweep(t / "missing.toml", t / "o"), "missing.toml"),
    (lambda e, t: relustab.sweep(e, t / "o", set={"optim.etaa": 0.1}), "optim.etaa"),
    (lambda e, t: relustab.sweep(e, t / "o", set={"optim.eta": "fast"}), "optim.eta"),
    (lambda e, t: relustab.sweep(e, t / "o", shard="2/2"), "0 <= i < N"),
    (lambda e, t: relustab.sweep(e, t / "o", jobs=0), "jobs"),
    (lambda e, t: relustab.sweep(e, t / "o", set="optim.eta=0.1"), "set"),
])
def test_bad_input_raises_value_error_naming_it(experiment, tmp_path, call, message):
    with pytest.raises(ValueError, match=message.replace(".", r"\.")):
        call(experiment, tmp_path)


def test_a_directory_of_another_experiment_names_the_keys_that_differ(experiment, tmp_path):
    relustab.sweep(experiment, tmp_path / "o", progress=False, load=False)
    experiment.write_text(EXPERIMENT.replace("width = 6", "width = 7"))
    with pytest.raises(ValueError, match="model.width"):
        relustab.sweep(experiment, tmp_path / "o", progress=False, load=False)
    assert not math.isnan(relustab.load_results(tmp_path / "o").runs["loss"].iloc[0])
