# SPDX-License-Identifier: MIT
"""relustab.train: the run API from Python. The callback sees the log rows every callback_every
steps; an exception in it (or Ctrl-C, SIGINT) stops the run with that exception; the result does
not depend on the thread count; GD on mse at eta is GD on half_mse at 2 eta, bit for bit."""

from __future__ import annotations

import signal

import numpy as np
import pytest

import relustab


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(16, 1))
    return X, np.sin(3 * X[:, 0])


def test_callback_rows_and_result(data):
    X, y = data
    rows = []
    result = relustab.train(X, y, width=8, eta=0.1, steps=200, seed=2, callback=rows.append,
                            callback_every=50, progress=False)
    assert [r["step"] for r in rows] == [0, 50, 100, 150, 200]
    assert result.outcome == "max_steps" and result.metrics["steps"] == 200
    assert rows[-1]["loss"] == result.metrics["loss"]
    again = relustab.train(X, y, width=8, eta=0.1, steps=200, seed=2, progress=False, threads=2)
    assert np.array_equal(again.net.theta, result.net.theta)
    report = relustab.analyze(result.net, X, y, eta=0.1)
    assert report.sharpness == result.metrics["sharpness"]


def test_mse_steps_are_half_mse_steps_at_twice_eta(data):
    X, y = data
    mse = relustab.train(X, y, width=8, lr=0.1, steps=150, loss="mse", loss_tol=0.0, progress=False)
    half = relustab.train(X, y, width=8, lr=0.2, steps=150, loss_tol=0.0, progress=False)
    assert np.array_equal(mse.net.theta, half.net.theta)
    assert mse.metrics["loss"] == 2 * half.metrics["loss"]
    assert mse.metrics["stability"] == half.metrics["stability"]
    assert mse.metrics["loss_function"] == "mse"


class Stop(Exception):
    pass


def test_an_exception_in_the_callback_stops_the_run(data):
    X, y = data
    seen = []

    def callback(row):
        seen.append(row["step"])
        if row["step"] >= 20:
            raise Stop("enough")

    with pytest.raises(Stop, match="enough"):
        relustab.train(X, y, width=8, eta=0.1, steps=100000, callback=callback, callback_every=10,
                       progress=False)
    assert seen == [0, 10, 20]


def test_ctrl_c_stops_the_run(data):
    X, y = data

    def interrupt(row):
        if row["step"] == 30:
            # Delivered to this thread before raise_signal returns (os.kill may hand it to another
            # thread, whose handler can run after the run has ended).
            signal.raise_signal(signal.SIGINT)

    # Python's own Ctrl-C handler, whatever an earlier test in this worker installed (a notebook's
    # kernel client, pytest-xdist).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            relustab.train(X, y, width=8, eta=0.1, steps=100000, callback=interrupt, callback_every=10,
                           progress=False)
    finally:
        signal.signal(signal.SIGINT, previous)


def test_generated_data_and_parameters():
    keys = {p["key"] for p in relustab.parameters()}
    assert {"optim.eta", "optim.loss", "model.width"} <= keys
    result = relustab.train(params={"data.n": 12, "model.width": 5, "optim.max_steps": 50},
                            progress=False)
    assert result.metrics["n"] == 12 and result.net.width == 5
