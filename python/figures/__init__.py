# SPDX-License-Identifier: MIT
"""Figures of the reproduction targets (see plot.py)."""
