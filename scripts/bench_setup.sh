#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the peers that bench/compare.sh runs beside relustab (bench/README.md):
#  - PyTorch 1.13 CPU from Debian (python3-torch) for /usr/bin/python3;
#  - JAX (CPU jaxlib, from PyPI) in a separate virtual environment .venv-bench, created with
#    --system-site-packages so that Debian's torch and numpy stay visible there too.
# The project itself needs none of this (scripts/setup.sh installs that). Safe to run again: it only
# installs what is missing. Environment: BENCH_JAX_SPEC (default "jax") is what pip installs.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

debian_packages=(python3 python3-venv python3-pip python3-numpy python3-torch g++)
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

# JAX is not packaged by Debian. Its own environment keeps it (and the numpy it may pull in) away
# from .venv and from the system interpreter, which runs the torch peers.
if [ ! -x .venv-bench/bin/python ]; then
  /usr/bin/python3 -m venv --system-site-packages .venv-bench
fi
jax_spec=${BENCH_JAX_SPEC:-jax}
if ! .venv-bench/bin/python -c "import jax, jax.numpy as jnp; jnp.zeros(1).block_until_ready()" 2>/dev/null; then
  echo "bench_setup: installing $jax_spec (CPU) into .venv-bench"
  .venv-bench/bin/python -m pip install --quiet --disable-pip-version-check "$jax_spec"
fi

/usr/bin/python3 -c "import torch; print('bench_setup: torch', torch.__version__, '(/usr/bin/python3)')"
.venv-bench/bin/python -c "import jax, sys; print('bench_setup: jax', jax.__version__, 'on Python', sys.version.split()[0], '(.venv-bench)')"
