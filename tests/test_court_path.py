"""The township (street) → court path (``handling.court_share_on_street_failure``, issue 12):
at its default of 0 the model is the one before the path existed, to the bit; at a share s,
the street failures whose outcome uniform's unused part is below s go to court."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.config.scenario import defaults
from sim.engine.levels import TOP, Level
from sim.engine.routing import Router
from sim.model import CityModel
from sim.runner import build_scenario

DAYS = 60
SMALL = {"city.residents": 40_000}


def reference_refer_failed(self: Router, s, rows, level, rest_u) -> None:  # type: ignore[no-untyped-def]
    """``Router.refer_failed`` as it was before the street → court path (commit 69c990d)."""
    tab = s.cases
    nxt = np.maximum(level + 1, self.entry_level(s, rows))
    if level == Level.DISTRICT:
        nxt = np.where(rest_u < self.handling["court_share_on_failure"], TOP, nxt)
    nxt = np.minimum(nxt, TOP)
    t_ready = tab["t_end"][rows]
    tab["acc_from"][rows] = t_ready
    self.route(s, rows, nxt, t_ready, self.handling["hops_per_escalation"])


def _case_table(m: CityModel) -> dict[str, np.ndarray]:
    tab = m.cases
    return {k: np.array(tab[k][: len(tab)]) for k in ("stage", "level", "levels_routed", "t_close",
                                                       "severity", "entry_level")}


def test_at_the_default_share_the_model_is_the_one_before_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    assert defaults()["handling"]["court_share_on_street_failure"] == 0.0
    scn = build_scenario("town", {**SMALL, "handling.court_share_on_street_failure": 0.0})  # baseline sets it
    new = CityModel(scn, rng=3).run(DAYS)
    monkeypatch.setattr(Router, "refer_failed", reference_refer_failed)
    old = CityModel(scn, rng=3).run(DAYS)
    a, b = _case_table(new), _case_table(old)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert new.kpis() == old.kpis()


def test_the_share_decides_by_the_unused_part_of_the_outcome_uniform() -> None:
    m = CityModel("town", rng=1).run(5)
    s = m.state
    m.router.handling = {**m.router.handling, "court_share_on_street_failure": 0.3}
    rows = np.arange(min(40, len(m.cases)))  # open cases as stand-ins for failed ones
    assert rows.size == 40
    rest_u = (np.arange(rows.size) + 0.5) / rows.size
    up = np.minimum(np.maximum(Level.STREET + 1, m.router.entry_level(s, rows)), TOP)
    m.router.refer_failed(s, rows, Level.STREET, rest_u)
    level = m.cases["level"][rows]
    assert np.all(level[rest_u < 0.3] == TOP)
    assert np.array_equal(level[rest_u >= 0.3], up[rest_u >= 0.3])


def test_all_street_failures_to_court_move_resolution_from_county_to_court() -> None:
    # common random numbers: the same draws; only the street failures' destination differs at
    # first (later, contagion and returns make the cases themselves differ)
    kw = {"seed": 0, "days": 60, "stats": ["resolved_by_tier", "dispute_tier"]}
    none = sim.run("town", {**SMALL, "handling.court_share_on_street_failure": 0.0}, **kw)
    every = sim.run("town", {**SMALL, "handling.court_share_on_street_failure": 1.0}, **kw)
    assert every["resolved_by_tier.county"] < none["resolved_by_tier.county"]
    assert every["dispute_tier.county"] < none["dispute_tier.county"]
    assert every["dispute_tier.court"] > none["dispute_tier.court"]


def test_dispute_tiers_follow_the_township_tally() -> None:
    # oracle: each dispute taken in below the district, classified by hand from its record
    from sim.engine.cases import Stage
    from sim.io.sinks import MemorySink
    from sim.runner import flatten_kpis
    from sim.stats import Finished, compute

    scn = build_scenario("town", {**SMALL, "handling.court_share_on_street_failure": 0.5})
    sink = MemorySink()
    m = CityModel(scn, rng=2, case_sink=sink).run(60)
    out = compute(["dispute_tier"], Finished(m, scn, flatten_kpis(m.kpis()), sink))
    rec, live = sink.table(), m.cases
    names = list(scn.data["world"]["categories"])
    dispute = {names.index("public_order"), names.index("major_disputes")}  # routes [1, 2, 3, 4]
    counts = {"village": 0, "township": 0, "county": 0, "court": 0}
    rows = [(rec, i) for i in range(len(rec["stage"]))] + [(live, i) for i in range(len(live))]
    for tab, i in rows:
        if int(tab["category"][i]) not in dispute or not 0 <= int(tab["entry_level"][i]) <= Level.STREET:
            continue
        went = {lv for lv in Level if int(tab["levels_routed"][i]) & (1 << lv)}
        if Level.COURT in went:
            counts["court"] += 1
        elif went & {Level.DISTRICT, Level.CITY}:
            counts["county"] += 1
        elif tab["stage"][i] == Stage.RESOLVED:
            counts["township" if tab["level"][i] == Level.STREET else "village"] += 1
    total = sum(counts.values())
    assert total > 100 and counts["court"] > 0
    for tier, n in counts.items():
        assert out[f"dispute_tier.{tier}"] == pytest.approx(n / total), tier
