#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the peers that bench/compare.sh runs beside relustab (bench/README.md), as users install
# them today: one virtual environment .venv-bench made from PyPI only (no system site packages, and
# apart from the project's .venv, which scripts/setup.sh owns) with
#   torch (PyPI's Linux wheel: the CUDA build, whose CPU kernels use MKL; pip also brings its nvidia-*
#   and triton dependencies, about 3.5 GB in all: about 2 minutes here), jax (CPU jaxlib), numpy and
#   scipy (with their bundled OpenBLAS), threadpoolctl, and the curvature libraries researchers use:
#   curvlinops-for-pytorch, pyhessian, hessian-eigenthings.
# Debian packages: only python3-venv (the interpreter and pip for .venv-bench) and g++ (the naive loop).
# The project itself needs none of this. Safe to run again: it installs only what is missing (an old
# .venv-bench made with --system-site-packages, as for Debian's torch before, is made anew).
# Environment: what pip installs for each peer, to pin a version (default: the name, i.e. the newest
# that fits this Python): BENCH_TORCH_SPEC (e.g. "torch==2.15.0"), BENCH_JAX_SPEC, BENCH_NUMPY_SPEC,
# BENCH_SCIPY_SPEC, BENCH_CURVLINOPS_SPEC, BENCH_PYHESSIAN_SPEC, BENCH_EIGENTHINGS_SPEC; BENCH_PIP_ARGS,
# extra arguments for pip.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

debian_packages=(python3 python3-venv g++)
missing=()
for pkg in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "bench_setup: installing Debian packages: ${missing[*]}"
  # Wait for another apt/dpkg run (up to 10 minutes) rather than failing on its lock.
  "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}"
fi

if [ -f .venv-bench/pyvenv.cfg ] && grep -q "include-system-site-packages = true" .venv-bench/pyvenv.cfg; then
  echo "bench_setup: .venv-bench sees the system's site packages (the old Debian-torch layout): making it anew"
  rm -rf .venv-bench
fi
if [ ! -x .venv-bench/bin/python ]; then
  /usr/bin/python3 -m venv .venv-bench
fi

# (module to import, what pip installs); a module that imports is not installed again.
peers=(
  "numpy|${BENCH_NUMPY_SPEC:-numpy}"
  "scipy.sparse.linalg|${BENCH_SCIPY_SPEC:-scipy}"
  "threadpoolctl|threadpoolctl"
  "torch|${BENCH_TORCH_SPEC:-torch}"
  "jax|${BENCH_JAX_SPEC:-jax}"
  "curvlinops|${BENCH_CURVLINOPS_SPEC:-curvlinops-for-pytorch}"
  "pyhessian|${BENCH_PYHESSIAN_SPEC:-pyhessian}"
  "hessian_eigenthings|${BENCH_EIGENTHINGS_SPEC:-hessian-eigenthings}"
)
# The modules that do not import, one per line (one interpreter for all: importing torch takes seconds).
not_importing() {
  .venv-bench/bin/python - "${peers[@]%%|*}" <<'EOF'
import importlib
import sys
for module in sys.argv[1:]:
    try:
        importlib.import_module(module)
    except Exception:  # noqa: BLE001 - any failure means it must be (re)installed
        print(module)
EOF
}
spec_of() {
  local entry
  for entry in "${peers[@]}"; do
    if [ "${entry%%|*}" = "$1" ]; then echo "${entry#*|}"; fi
  done
}
wanted=()
while read -r module; do
  [ -n "$module" ] && wanted+=("$(spec_of "$module")")
done < <(not_importing 2>/dev/null)
if ((${#wanted[@]})); then
  echo "bench_setup: installing into .venv-bench from PyPI: ${wanted[*]}"
  # One pip call, so that one resolver picks versions that fit together.
  # shellcheck disable=SC2086 # BENCH_PIP_ARGS is a list of arguments
  .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check ${BENCH_PIP_ARGS:-} "${wanted[@]}"
fi

# Each library must import; a peer that cannot (say, a package PyPI no longer serves for this Python)
# is reported here, and bench/compare.sh reports its rows as "not available".
status=0
while read -r module; do
  [ -n "$module" ] || continue
  echo "bench_setup: $module does not import in .venv-bench ($(spec_of "$module")); its rows will read" \
    "'not available'" >&2
  status=1
done < <(not_importing 2>/dev/null)
.venv-bench/bin/python - <<'EOF'
import importlib.metadata as m
import sys
names = ["torch", "jax", "jaxlib", "numpy", "scipy", "threadpoolctl", "curvlinops-for-pytorch", "pyhessian",
         "hessian-eigenthings"]
def version(name):
    try:
        return m.version(name)
    except m.PackageNotFoundError:
        return "missing"
print("bench_setup: .venv-bench (Python " + sys.version.split()[0] + "): "
      + ", ".join(f"{name} {version(name)}" for name in names))
EOF
exit $status
