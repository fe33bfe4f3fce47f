# SPDX-License-Identifier: MIT
"""pytest set-up: makes the `figures` package importable and finds the relustab binary."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PYTHON_DIR = Path(__file__).resolve().parent.parent
# Appended, not prepended: the installed package `relustab` (with its compiled module) must win
# over the source directory python/relustab.
sys.path.append(str(PYTHON_DIR))


@pytest.fixture
def relustab_bin() -> str:
    """Path of the relustab binary ($RELUSTAB_BIN); tests that need it are skipped without it."""
    binary = os.environ.get("RELUSTAB_BIN", "")
    if not binary or not os.access(binary, os.X_OK):
        pytest.skip("RELUSTAB_BIN is not set to an executable relustab binary")
    return binary
