"""cityrisk with Mesa's own tools: lever keywords, ``running`` at the horizon, ``batch_run``."""

from __future__ import annotations

import mesa
import pytest

import sim


def test_lever_keywords_and_validation():
    m = sim.CityModel("town", rng=1, mediators_per_street=12, overrides={"city.residents": 5_000})
    assert m.levers.mediators_per_street == 12 and m.layout.n_residents == 5_000
    with pytest.raises(sim.ScenarioError, match="levers.no_such_lever"):
        sim.CityModel("town", no_such_lever=1)


def test_run_model_stops_at_the_horizon():
    m = sim.CityModel("town", rng=1, overrides={"city.residents": 5_000, "run.days": 7})
    m.run_model()
    assert m.day == 7 and not m.running
    m.run(3)  # cityrisk's own run goes on past the horizon
    assert m.day == 10


def test_batch_run_gives_a_tidy_table():
    rows = mesa.batch_run(sim.CityModel, {"scenario": "town", "mediators_per_street": [2, 8],
                                          "overrides": [{"city.residents": 5_000, "run.days": 5}]},
                          number_processes=1, rng=[1], data_collection_period=-1, display_progress=False)
    assert len(rows) == 2
    assert sorted(r["mediators_per_street"] for r in rows) == [2, 8]  # a lever is a column
    for r in rows:
        assert r["Step"] == 5 and "safety_index" in r and "caused_escalation_share" in r
