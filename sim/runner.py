"""``run(scenario, params, seed, days) -> dict``: the one function sweeps and calibration share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .config.scenario import Scenario, load_scenario
from .engine.streams import SeedLike


def flatten_kpis(kpis: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Flatten nested KPI dicts to ``{"by_department.x.cases": 3.0, ...}`` (numbers only)."""
    out: dict[str, float] = {}
    for key, val in kpis.items():
        path = f"{prefix}{key}"
        if isinstance(val, Mapping):
            if key == "provenance":
                continue
            out.update(flatten_kpis(val, path + "."))
        elif isinstance(val, bool | int | float | np.integer | np.floating):
            out[path] = float(val)
    return out


def run(scenario: str | Scenario, params: Mapping[str, Any] | None = None, seed: SeedLike = 0,
        days: int | None = None) -> dict[str, float]:
    """Build the scenario with ``params`` (dotted-key overrides), run it, return flat KPIs."""
    from .model import CityModel

    scn = load_scenario(scenario, dict(params or {}))
    model = CityModel(scn, rng=seed)
    model.run(days)
    return flatten_kpis(model.kpis())
