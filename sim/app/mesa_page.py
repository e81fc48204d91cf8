"""Mesa's own SolaraViz page for cityrisk (the ``viz`` extra: ``pip install 'cityrisk[viz]'``).

The policymaker app (:mod:`sim.app.app`) is cityrisk's main face; this page shows the same model
through Mesa's SolaraViz, for researchers who know Mesa: the map of open cases per grid (a Mesa
property layer of ``model.grid``), two time-series plots from the model's DataCollector (Mesa's
``make_plot_component``) and a lever as a model parameter (applied when Reset builds a new
model, as SolaraViz does)::

    solara run sim/app/mesa_page.py        # or: python -m solara run sim.app.mesa_page
"""

from __future__ import annotations

from typing import Any

import solara
from matplotlib.figure import Figure
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.user_param import Slider
from mesa.visualization.utils import update_counter

from ..model import CityModel

MAP_LAYER = "open_cases"
PLOTS = (("caused_escalation_share", "escalated_share"), ("open_queued", "open_in_service"))


@solara.component
def PropertyLayerMap(model: CityModel) -> None:
    """The open-cases property layer of ``model.grid`` as a heat map.

    (Mesa 3.5's own space components fail on a grid without agents on its cells — staff agents
    here have no map position — so the layer is drawn directly.)"""
    update_counter.get()  # redraw after every step, as Mesa's components do
    fig = Figure(figsize=(5, 4))
    ax = fig.add_subplot()
    _ = model.grid  # the property layers, brought up to date
    data = model.grid_layer(MAP_LAYER)
    img = ax.imshow(data, cmap="Reds", origin="upper", interpolation="nearest")
    fig.colorbar(img, ax=ax, label="open cases per grid")
    ax.set(title=f"Open cases per grid, day {model.day}", xticks=[], yticks=[])
    solara.FigureMatplotlib(fig, format="png", bbox_inches="tight")


def make_page(model: CityModel) -> Any:
    """The SolaraViz page for ``model`` (Reset builds a new one from its scenario)."""
    scenario = model.spec.name
    components = [(PropertyLayerMap, 0), *[make_plot_component(list(keys)) for keys in PLOTS]]
    params = {"scenario": scenario,
              "mediators_per_street": Slider("Mediators per street", model.levers.mediators_per_street, 0, 30, 1)}
    return SolaraViz(model, components=components, model_params=params,
                     name=f"cityrisk — {scenario} (Mesa SolaraViz)")


page = make_page(CityModel("town", rng=0))
