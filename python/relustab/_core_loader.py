# SPDX-License-Identifier: MIT
"""The compiled module, imported once: a clear message when the package was not built."""

from __future__ import annotations

try:
    from . import _core as core  # noqa: F401
except ImportError as error:  # pragma: no cover - only without a build
    raise ImportError(
        "relustab's compiled module relustab._core is missing: install the package with "
        "`pip install .` (or `bash scripts/setup.sh`) from the repository root") from error
