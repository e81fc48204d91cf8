"""Mesa's own SolaraViz page for cityrisk (the ``viz`` extra) renders, steps and redraws."""

from __future__ import annotations

import pytest

solara = pytest.importorskip("solara")
pytest.importorskip("altair", reason="Mesa's visualisation needs the viz extra (altair)")


def test_solaraviz_page_renders_the_layer_map_and_plots():
    import ipywidgets

    import sim
    from sim.app.mesa_page import MAP_LAYER, make_page

    model = sim.CityModel("town", rng=1, overrides={"city.residents": 20_000})
    model.run(3)
    box, rc = solara.render(make_page(model), handle_error=False)
    try:
        images = rc.find(ipywidgets.Image).widgets  # the map and two plots, drawn as PNGs
        assert len(images) >= 3 and all(len(im.value) > 1000 for im in images)
        assert model.grid_layer(MAP_LAYER).shape == (model.layout.rows, model.layout.cols)
    finally:
        rc.close()
