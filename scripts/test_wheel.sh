#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the wheel of the Python package from scratch (pip wheel ., build isolation, a fresh build
# directory, RELUSTAB_NATIVE off), installs it into a clean temporary virtual environment, imports it
# and runs one analysis, checked against the dense Hessian's top eigenvalue from numpy.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
env -u RELUSTAB_NATIVE /usr/bin/python3 -m venv "$work/build-venv"
"$work/build-venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$work/build-venv/bin/python" -m pip wheel --quiet --disable-pip-version-check --no-deps \
  --config-settings=build-dir="$work/build" -w "$work/dist" .
wheel=$(ls "$work"/dist/relustab-*.whl)
echo "test_wheel: built $(basename "$wheel") ($(du -h "$wheel" | cut -f1)) in $(( $(date +%s) - start )) s"
# The listing first, then the search: `unzip | grep -q` under pipefail fails at random (grep exits at
# the first match and unzip dies of SIGPIPE).
listing=$(unzip -l "$wheel")
if grep -Eq 'relustab/(_core.*\.so)$' <<<"$listing"; then :; else
  echo "test_wheel: the wheel has no compiled module" >&2; exit 1
fi
/usr/bin/python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel"
cd "$work"  # away from the source tree: the installed wheel is what gets imported
"$work/venv/bin/python" - <<'PY'
import numpy as np
import relustab

assert relustab.__file__.startswith(__import__("sys").prefix), relustab.__file__
rng = np.random.default_rng(0)
X = rng.uniform(-1, 1, size=(25, 1))
y = np.sin(3 * X[:, 0])
net = relustab.Net(rng.standard_normal((8, 1)), rng.standard_normal(8), rng.standard_normal(8), 0.1)
report = relustab.analyze(net, X, y, eta=0.1, loss="mse")
H = relustab.hvp(net, X, y, loss="mse").dense()
top = np.linalg.eigvalsh((H + H.T) / 2).max()
assert abs(report.sharpness - top) <= 1e-10 * abs(top), (report.sharpness, top)
print("test_wheel: import and analyze ok:", report.summary())
PY
echo "test_wheel: done in $(( $(date +%s) - start )) s"
