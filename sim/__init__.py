"""cityrisk: an agent-based simulator of city social-risk dynamics.

Quick use::

    import sim
    model = sim.CityModel("town", rng=1)
    model.run(30)
    model.levers.mediators_per_street = 20   # a lever, changed mid-run
    model.run(30)
    print(model.kpis()["escalated_share"])

The names below are imported on first use (PEP 562), so ``cityrisk --help`` and ``--version``
do not pay for Mesa, numba and pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .config.params import LEVERS, UNCERTAINTIES, Field, ScenarioError, field_for
    from .config.scenario import Scenario, load_scenario, scenario_names
    from .engine.levels import LEVELS, Level
    from .model import CityModel
    from .runner import flatten_kpis, run

_EXPORTS = {
    "CityModel": "model", "Field": "config.params", "LEVELS": "engine.levels",
    "Level": "engine.levels", "LEVERS": "config.params", "Scenario": "config.scenario",
    "ScenarioError": "config.params", "UNCERTAINTIES": "config.params",
    "field_for": "config.params", "flatten_kpis": "runner", "load_scenario": "config.scenario",
    "run": "runner", "scenario_names": "config.scenario",
}

__all__ = ["CityModel", "Field", "LEVELS", "LEVERS", "Level", "Scenario", "ScenarioError",
           "UNCERTAINTIES", "field_for", "flatten_kpis", "load_scenario", "run", "scenario_names"]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
