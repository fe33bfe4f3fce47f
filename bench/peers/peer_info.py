# SPDX-License-Identifier: MIT
"""Prints, as one JSON object, what the peers run on in this interpreter and environment: the Python,
each peer library's version, the BLAS each one calls and its thread count. bench/compare.py runs it
with the peers' own environment (one thread) and puts the answers in the table's header.

- numpy, scipy: threadpoolctl.threadpool_info() after importing both (the BLAS libraries they load,
  with version, threading layer, kernel architecture and thread count);
- torch: torch.__config__.show() (BLAS_INFO, LAPACK_INFO, the MKL build), torch.backends and
  torch.get_num_threads() (intra-op threads) after the peers' torch.set_num_threads(1);
- jax / jaxlib: versions and devices (XLA compiles its own CPU kernels and loads no BLAS library);
- curvlinops, PyHessian, hessian-eigenthings: versions (they compute with torch).
A missing library gives null, never an error.
"""
import importlib
import importlib.metadata as metadata
import json
import os
import platform
import re
import sys


def version(dist):
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def main():
    info = {"python": platform.python_version(), "executable": sys.executable,
            "env": {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                   "OPENBLAS_CORETYPE", "XLA_FLAGS")}}
    for dist in ("numpy", "scipy", "torch", "jax", "jaxlib", "threadpoolctl", "curvlinops-for-pytorch",
                 "pyhessian", "hessian-eigenthings"):
        info[dist] = version(dist)
    try:
        import numpy  # noqa: F401
        import scipy.linalg  # noqa: F401 - loads scipy's own BLAS
        from threadpoolctl import threadpool_info
        info["blas"] = [{k: pool.get(k) for k in ("user_api", "internal_api", "prefix", "version",
                                                  "threading_layer", "architecture", "num_threads", "filepath")}
                        for pool in threadpool_info()]
    except Exception as error:  # noqa: BLE001
        info["blas_error"] = f"{type(error).__name__}: {error}"
    try:
        import torch
        torch.set_num_threads(1)
        config = torch.__config__.show()
        fields = dict(re.findall(r"(BLAS_INFO|LAPACK_INFO|USE_MKL|USE_CUDA)=([^,\s]+)", config))
        mkl = re.search(r"Intel\(R\) (?:oneAPI )?Math Kernel Library Version ([^\n]+)", config)
        capability = re.search(r"CPU capability usage: (\S+)", config)
        info["torch_blas"] = {
            **fields,
            "mkl": mkl.group(1).strip() if mkl else None,
            "mkl_available": torch.backends.mkl.is_available(),
            "mkldnn_available": torch.backends.mkldnn.is_available(),
            "cpu_capability": capability.group(1) if capability else None,
            "intra_op_threads": torch.get_num_threads(),
            "cuda_build": torch.version.cuda,
        }
    except Exception as error:  # noqa: BLE001
        info["torch_error"] = f"{type(error).__name__}: {error}"
    try:
        jax = importlib.import_module("jax")
        info["jax_devices"] = [str(d) for d in jax.devices()]
    except Exception as error:  # noqa: BLE001
        info["jax_error"] = f"{type(error).__name__}: {error}"
    print(json.dumps(info))


if __name__ == "__main__":
    main()
