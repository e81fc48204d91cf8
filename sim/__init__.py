"""cityrisk: an agent-based simulator of city social-risk dynamics.

Quick use::

    import sim
    model = sim.CityModel("town", rng=1)
    model.run(30)
    model.levers.mediators_per_street = 20   # a lever, changed mid-run
    model.run(30)
    print(model.kpis()["escalated_share"])
"""

from .config.params import LEVERS, UNCERTAINTIES, Field, ScenarioError, field_for
from .config.scenario import Scenario, load_scenario, scenario_names
from .engine.levels import LEVELS, Level
from .model import CityModel
from .runner import flatten_kpis, run

__all__ = ["CityModel", "Field", "LEVELS", "Level", "LEVERS", "Scenario", "ScenarioError", "UNCERTAINTIES",
           "field_for", "flatten_kpis", "load_scenario", "run", "scenario_names"]
__version__ = "0.1.0"
