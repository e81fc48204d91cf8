"""Calibration of cityrisk to data: Boston 311 statistics, spec, Optuna fit, report, CLI.

``cityrisk calibrate SPEC --out DIR`` (see docs/calibration.md).
"""

from __future__ import annotations

__all__ = ["boston", "spec", "fit", "report", "cli"]
