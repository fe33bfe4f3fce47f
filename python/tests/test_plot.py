# SPDX-License-Identifier: MIT
"""The figure script end to end, on hand-made databases and on tiny real sweeps."""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from figures.plot import TARGETS, main, plot_directory
from figures.results import Relustab, Results, net_function
from helpers import write_results_db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Values are computed by the same formula in float64 on both sides (a least-squares fit of exact
# power laws; a forward pass of a small net), so they agree to rounding.
TIGHT = 1e-9
# Population g(0) of the unit-variance laws (paper 1, eqs (21)-(23)), quoted to 5 digits.
POPULATION_G_AT_ZERO = {"uniform": 0.28641, "gaussian": 0.25518, "laplace": 0.21651}
QUOTED_DIGITS = 5e-6


def assert_valid_figure_files(figures_dir: Path, name: str) -> dict:
    """The PNG decodes to a non-blank image, the PDF is complete, the JSON is strict JSON."""
    png = figures_dir / f"{name}.png"
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    assert float(np.ptp(image[..., :3])) > 0.5  # something is drawn, not a blank canvas
    pdf = (figures_dir / f"{name}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and b"%%EOF" in pdf[-64:]

    def no_constants(text: str) -> None:
        raise AssertionError(f"{name}.json holds {text}, which is not JSON")

    record = json.loads((figures_dir / f"{name}.json").read_text(), parse_constant=no_constants)
    assert record["figure"] == name
    return record


def index_links(directory: Path) -> tuple[set[str], set[str]]:
    text = (directory / "index.html").read_text()
    images = set(re.findall(r'<img src="([^"]+)"', text))
    links = set(re.findall(r'<a href="([^"]+)"', text))
    return images, links


def assert_index_lists_every_figure(directory: Path) -> list[str]:
    """Every PNG under DIR/figures is shown in DIR/index.html by a relative link, and every link
    of the index points to a file that exists."""
    images, links = index_links(directory)
    names = sorted(p.stem for p in (directory / "figures").glob("*.png"))
    assert names, "no figure was written"
    assert images == {f"figures/{n}.png" for n in names}
    for name in names:
        assert {f"figures/{name}.pdf", f"figures/{name}.json"} <= links
        assert_valid_figure_files(directory / "figures", name)
    for link in images | {link for link in links if not link.startswith("#")}:
        assert not link.startswith("/") and (directory / link).is_file(), link
    return names


def rate_runs(slope_interior: float, slope_full: float) -> list[dict]:
    runs = []
    for n in (16, 32, 64, 128, 256):
        for seed in (0, 1):
            runs.append(
                {
                    "config": {"data.n": n, "data.seed": seed, "optim.eta": 0.1},
                    "metrics": {
                        "mse_interior": 2.0 * n**slope_interior,
                        "mse_full": 3.0 * n**slope_full,
                        "loss": 0.05,
                    },
                }
            )
    runs.append(
        {
            "config": {"data.n": 512, "data.seed": 0, "optim.eta": 0.1},
            "status": "failed",
            "reason": "diverged at step 3 (loss 1e+30)",
            "metrics": {"loss": 1e30},
        }
    )
    return runs


def test_rate_figure_reports_the_slope_of_a_known_power_law(tmp_path):
    directory = write_results_db(tmp_path / "rate", "qiao2024-rate", rate_runs(-0.8, -0.5))
    plot_directory(directory)
    assert assert_index_lists_every_figure(directory) == ["qiao2024_rate"]
    record = json.loads((directory / "figures" / "qiao2024_rate.json").read_text())
    summary = record["summary"]
    assert abs(summary["fitted slope, strict interior"] + 0.8) < TIGHT
    assert abs(summary["fitted slope, full range"] + 0.5) < TIGHT
    assert summary["runs in the fit, strict interior"] == 10
    assert abs(record["series"]["mse_interior"]["fit"]["intercept"] - math.log(2.0)) < TIGHT
    # The failed run is skipped and listed, with its reason.
    assert [(m["run_id"], m["status"]) for m in record["missing"]] == [(11, "failed")]
    assert record["missing"][0]["reason"].startswith("diverged")


def test_unknown_experiment_gets_the_overview(tmp_path):
    runs = [
        {
            "config": {"optim.eta": eta, "run.seed": seed},
            "metrics": {
                "loss": 0.01 * eta,
                "sharpness": 1.9 / eta,
                "two_over_eta": 2 / eta,
                "lemma4_bound": 3.0,
                "weighted_tv": 1.0,
                "thm1_rhs": 1 / eta - 0.5,
            },
        }
        for eta in (0.01, 0.1, 1.0)
        for seed in (0, 1)
    ]
    directory = write_results_db(tmp_path / "mine", "my-own-sweep", runs)
    assert main([str(directory)]) == 0
    assert assert_index_lists_every_figure(directory) == ["overview_optim_eta"]
    record = json.loads((directory / "figures" / "overview_optim_eta.json").read_text())
    np.testing.assert_allclose(
        record["series"]["sharpness"]["median"], [190.0, 19.0, 1.9], rtol=TIGHT
    )


def test_bad_directories_exit_with_code_2(tmp_path, capsys):
    assert main([str(tmp_path / "missing")]) == 2
    assert "no such experiment directory" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main([str(tmp_path / "empty")]) == 2


def test_no_finished_run_writes_an_index_saying_so(tmp_path):
    runs = [{"config": {"optim.eta": 0.1}, "status": "pending"}]
    directory = write_results_db(tmp_path / "pending", "qiao2024-rate", runs)
    plot_directory(directory)
    assert "No run has finished yet" in (directory / "index.html").read_text()


# ---------------------------------------------------------------------------------------------
# Tiny real sweeps (need the relustab binary)

TINY_COMMON = """
[data]
n = 10
inputs = "uniform"
lo = -1.0
hi = 1.0
target = "sawtooth"
noise = 0.2
seed = 4
[model]
width = 12
init = "torch"
[optim]
eta = 0.05
max_steps = 300
loss_tol = 1e-8
patience = 50
[measure]
log_every = 50
final_analysis = true
save_net = true
"""

TINY_SWEEPS = {
    "mulayoff2021-fig1": (
        '[sweep]\n"optim.switch_factor" = [1.0, 3.0]\n',
        ["optim.switch_below=0.05"],
    ),
    "mulayoff2021-fig2": (
        '[sweep]\n"data.inputs" = ["uniform", "gaussian", "laplace"]\n'
        '"data.n" = [20, 40]\n"data.seed" = [0, 1]\n',
        [
            "optim.max_steps=0",
            "data.lo=-1.7320508075688772",
            "data.hi=1.7320508075688772",
            "measure.final_analysis=false",
            "measure.save_net=false",
        ],
    ),
    "mulayoff2021-fig3": (
        '[sweep]\n"optim.eta" = [0.01, 0.05, 0.2, 0.4]\n',
        ["measure.flattest=true", "data.noise=0.0"],
    ),
    "qiao2024-fig1": ('[sweep]\n"optim.eta" = [0.01, 0.05, 0.2]\nseeds = [0, 1]\n', []),
    "qiao2024-eta": ('[sweep]\n"optim.eta" = [0.4, 0.01]\n', []),
    "qiao2024-width": (
        '[sweep]\n"model.width" = [5, 9, 10, 100]\n',
        [
            "data.n=10",
            "data.inputs=grid",
            "model.init=data_knots",
            "optim.fit_output=min_norm",
            "optim.max_steps=0",
        ],
    ),
    "qiao2024-knots": ('[sweep]\n"optim.eta" = [0.02, 0.1, 0.4]\n', ["measure.knot_stats=true"]),
    "qiao2024-rate": (
        '[sweep]\n"data.n" = [8, 16, 32]\n"data.seed" = [0, 1]\n',
        ["measure.log_every=0"],
    ),
    "nacson2023-tightness": (
        '[sweep]\n"optim.eta" = [0.05, 0.2]\n',
        [
            "data.source=digits",
            "data.classes=0,1",
            "data.n=40",
            "data.n_val=40",
            "data.center=true",
            "measure.save_net=false",
        ],
    ),
    "nacson2023-depth": (
        '[sweep]\n"data.target" = ["pyramid", "bump"]\n"model.depth" = [1, 2]\n'
        '"optim.eta" = [0.1, 0.5]\n',
        ["data.dim=2", "data.n=30", "data.n_val=30", "data.noise=0.001"],
    ),
    "boursier2025-threshold": (
        '[sweep]\n"data.n" = [8, 32]\n"model.activation" = ["relu", "gelu"]\n',
        [
            "data.dim=2",
            "data.inputs=gaussian",
            "data.target=linear",
            "data.noise=0.5",
            "data.n_val=50",
            "model.init=balanced",
            "model.init_scale=0.001",
            "measure.alignment=true",
            "measure.final_analysis=false",
        ],
    ),
}


def run_tiny_sweep(relustab_bin: str, directory: Path, target: str) -> Path:
    sweep, overrides = TINY_SWEEPS[target]
    directory.mkdir(parents=True, exist_ok=True)
    toml = directory / f"{target}.toml"
    toml.write_text(f'name = "{target}"\n{TINY_COMMON}{sweep}')
    out = directory / target
    command = [relustab_bin, "sweep", str(toml), "--out", str(out), "--jobs", "2", "--quiet"]
    for override in overrides:
        command += ["--set", override]
    subprocess.run(command, check=True, capture_output=True, text=True)
    return out


_PLOTTED: dict[str, Path] = {}


@pytest.fixture
def plotted(relustab_bin, tmp_path_factory):
    """plotted(target): the target's tiny sweep directory, swept and plotted once per session."""

    def get(target: str) -> Path:
        if target not in _PLOTTED:
            directory = run_tiny_sweep(relustab_bin, tmp_path_factory.mktemp("tiny"), target)
            plot_directory(directory, relustab_bin)
            _PLOTTED[target] = directory
        return _PLOTTED[target]

    return get


# Targets that draw more than the figure named after their module (sorted names).
def test_every_target_has_a_tiny_sweep():
    assert set(TINY_SWEEPS) == set(TARGETS)


@pytest.mark.parametrize("target", sorted(TINY_SWEEPS))
def test_tiny_real_sweep_plots_every_figure(plotted, target):
    directory = plotted(target)
    names = assert_index_lists_every_figure(directory)
    # The target's figure, and any further ones named after it (mulayoff2021_fig3_stability,
    # boursier2025_threshold_dynamics).
    assert names[0] == TARGETS[target] and all(n.startswith(TARGETS[target]) for n in names)


def test_regenerated_training_data_reproduce_the_stored_loss(relustab_bin, plotted):
    # Oracle: a numpy forward pass of the stored net on the data regenerated from the run's config
    # gives the loss 1/(2n) sum r^2 that the run itself stored.
    directory = plotted("qiao2024-eta")
    with Results(directory) as results, Relustab(relustab_bin) as tool:
        for run in results.done_runs():
            data = tool.training_data(run.config)
            assert data.x.size == run.config["data.n"]
            residual = net_function(results.net(run), data.x) - data.y
            loss = 0.5 * float(np.mean(residual**2))
            assert abs(loss - run.metric("loss")) <= 1e-12 * max(1.0, loss)
            # f0 on a grid is the same target: sawtooth is 1 - |2|x| - 1| (generators.h).
            grid_x, f0 = tool.clean_target(run.config, -1.0, 1.0, points=9)
            np.testing.assert_allclose(f0, 1 - np.abs(2 * np.abs(grid_x) - 1), rtol=0, atol=1e-15)


def brute_force_g(data_x: np.ndarray, t: float) -> float:
    """Eqs (21)-(23) of paper 1 with X uniform on the samples, strict inequalities."""
    if t < data_x.min() or t > data_x.max():
        return 0.0
    left, right = data_x[data_x < t], data_x[data_x > t]
    n = data_x.size
    g_minus = g_plus = 0.0
    if left.size:
        g_minus = (left.size / n) ** 2 * np.mean(t - left) * math.sqrt(1 + np.mean(left) ** 2)
    if right.size:
        g_plus = (right.size / n) ** 2 * np.mean(right - t) * math.sqrt(1 + np.mean(right) ** 2)
    return min(g_minus, g_plus)


def test_weight_figure_matches_brute_force_g_and_population_values(plotted):
    directory = plotted("mulayoff2021-fig2")
    record = json.loads((directory / "figures" / "mulayoff2021_fig2.json").read_text())
    for law, expected in POPULATION_G_AT_ZERO.items():
        assert abs(record["summary"][f"population g(0), {law}"] - expected) < QUOTED_DIGITS
        panel = record["series"][law]
        assert panel["n"] == 20
        x = np.array(panel["x_data_standardised"])
        assert abs(x.mean()) < 1e-12 and abs(x.std() - 1) < 1e-12
        at, g_emp = np.array(panel["at"]), np.array(panel["g_empirical"])
        for i in np.linspace(0, at.size - 1, 40).astype(int):
            assert abs(g_emp[i] - brute_force_g(x, at[i])) < 1e-12
    # The sup-error panel has both n of the sweep for every law.
    assert sorted(record["series"]["sup_error"]) == sorted(POPULATION_G_AT_ZERO)
    assert record["series"]["sup_error"]["gaussian"]["n"] == [20, 40]


def test_switch_figure_draws_the_stored_nets(plotted):
    directory = plotted("mulayoff2021-fig1")
    record = json.loads((directory / "figures" / "mulayoff2021_fig1.json").read_text())
    with Results(directory) as results:
        by_factor = {r.config["optim.switch_factor"]: r for r in results.runs}
        for name, factor in (("A", 1.0), ("B", 3.0)):
            curves = record["series"][f"curves_{name}"]
            expected = net_function(results.net(by_factor[factor]), np.array(curves["x"]))
            np.testing.assert_allclose(curves["f"], expected, rtol=0, atol=1e-12)
        log_a = results.log(by_factor[1.0])
        assert record["series"]["loss_A"]["loss"] == list(log_a.values("loss"))


def test_absent_metrics_are_skipped_and_listed(relustab_bin, tmp_path):
    # The knot statistics are measured only with measure.knot_stats: without it the figure is still
    # drawn, and every run is listed as lacking them.
    sweep, _ = TINY_SWEEPS["qiao2024-knots"]
    toml = tmp_path / "knots.toml"
    toml.write_text(f'name = "qiao2024-knots"\n{TINY_COMMON}{sweep}')
    out = tmp_path / "knots"
    subprocess.run(
        [relustab_bin, "sweep", str(toml), "--out", str(out), "--quiet"],
        check=True,
        capture_output=True,
    )
    plot_directory(out, relustab_bin)
    assert assert_index_lists_every_figure(out) == ["qiao2024_knots"]
    record = json.loads((out / "figures" / "qiao2024_knots.json").read_text())
    lacking = {(m["run_id"], m["missing"]) for m in record["missing"]}
    assert {(run_id, "knot_q50") for run_id in (1, 2, 3)} <= lacking
    assert record["series"]["knot_quantiles"]["knot_q50"]["median"] == [None, None, None]
    assert record["series"]["knot_quantiles"]["knot_q50"]["count"] == [0, 0, 0]
