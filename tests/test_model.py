"""CityModel: determinism, stage invariants, levers (common random numbers), API."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.cli import dumps
from sim.engine.agents import Mediator
from sim.engine.cases import Stage


def small(name: str = "town", residents: int = 20_000, **levers) -> sim.Scenario:
    over = {"city.residents": residents, **{f"levers.{k}": v for k, v in levers.items()}}
    return sim.load_scenario(name, over)


def test_same_seed_same_json_different_seed_differs():
    a = sim.CityModel(small(), rng=7).run(40).kpis()
    b = sim.CityModel(small(), rng=7).run(40).kpis()
    c = sim.CityModel(small(), rng=8).run(40).kpis()
    assert dumps(a) == dumps(b)
    assert dumps(a) != dumps(c)


def test_json_has_the_documented_keys():
    k = json.loads(dumps(sim.CityModel(small(), rng=1).run(20).kpis()))
    for key in ("cases_total", "cases_resolved", "resolved_share", "escalated_share", "collective_incidents",
                "major_incidents", "median_hours_to_resolution", "p90_hours_to_resolution",
                "grassroots_resolution_share", "mean_detection_delay_hours", "mean_trust", "safety_index",
                "staff_cost", "by_category", "by_department", "provenance"):
        assert key in k, key
    assert set(k["provenance"]) >= {"version", "git_commit", "scenario_hash", "seed"}
    assert 0 <= k["resolved_share"] <= 1 and 0 <= k["escalated_share"] <= 1
    assert 0 <= k["safety_index"] <= 100
    for dept in k["by_department"].values():
        assert set(dept) == {"cases", "closed_within_24h", "closed_within_168h", "closed_within_720h"}
        assert dept["closed_within_24h"] <= dept["closed_within_168h"] <= dept["closed_within_720h"] <= 1


def check_invariants(m: sim.CityModel, emerged: int) -> None:
    tab, t1 = m.cases, m.state.clock.t1
    stage = tab["stage"]
    assert np.all((stage >= Stage.LATENT) & (stage <= Stage.IN_SERVICE))  # closed cases left the table
    assert len(np.unique(tab["case_id"])) == len(tab)
    # every day: emerged = resolved + faded + lapsed + decided against + open (no other exit)
    assert int(m.accounts.exits.sum()) + len(tab) == emerged
    assert m.accounts.exits[:Stage.RESOLVED].sum() == 0
    lat, rep, que, svc = (stage == s for s in (Stage.LATENT, Stage.REPORTING, Stage.QUEUED, Stage.IN_SERVICE))
    assert np.all(~np.isfinite(tab["t_detect"][lat]))
    assert np.all(tab["t_arrive"][rep] >= t1)
    assert np.all((tab["t_arrive"][que] < t1) & ~np.isfinite(tab["t_start"][que]))
    assert np.all((tab["t_start"][svc] < t1) & (tab["t_end"][svc] >= t1))
    assert np.all((tab["severity"] >= tab["severity0"]) & (tab["severity"] <= 3))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(residents=st.integers(2_000, 30_000), gw=st.integers(0, 8), med=st.integers(0, 12),
       dept=st.integers(0, 8), integ=st.floats(0, 1), latency=st.floats(0, 96), clarity=st.floats(0, 1),
       hazard=st.floats(0, 0.05), mult=st.floats(0.1, 8), days=st.integers(1, 25), seed=st.integers(0, 2**32))
def test_every_case_is_in_exactly_one_stage_every_tick(residents, gw, med, dept, integ, latency, clarity,
                                                        hazard, mult, days, seed):
    scn = sim.load_scenario("town", {
        "city.residents": residents, "levers.grid_workers_per_grid": gw, "levers.mediators_per_street": med,
        "levers.department_staff": dept, "levers.resource_integration": integ,
        "levers.latency_hours_per_hop": latency, "levers.responsibility_clarity": clarity,
        "world.escalation_hazard_per_hour": hazard, "world.emergence_multiplier": mult})
    m = sim.CityModel(scn, rng=seed)
    emerged = 0
    for _ in range(days):
        m.step()
        emerged += m.state.today["new_cases"] + m.state.today["returned"] + m.state.today["mobilisations"]
        check_invariants(m, emerged)


def paired(metric: str, base: dict, alt: dict, seeds=range(5), days: int = 120, residents: int = 40_000):
    """Per-seed differences alt − base of a KPI (same seed in both arms: common random numbers)."""
    out = []
    for seed in seeds:
        a = sim.CityModel(small("baseline", residents, **base), rng=seed).run(days).kpis()[metric]
        b = sim.CityModel(small("baseline", residents, **alt), rng=seed).run(days).kpis()[metric]
        out.append(b - a)
    d = np.array(out)
    t = d.mean() / (d.std(ddof=1) / np.sqrt(d.size)) if d.std() > 0 else np.sign(d.mean()) * np.inf
    return d, t


def test_more_mediators_fewer_escalations():
    # the escalations the system causes; cases that arrive serious are no lever's doing
    d, t = paired("caused_escalation_share", {"mediators_per_street": 3}, {"mediators_per_street": 12})
    assert t < -3, (d, t)


def test_more_latency_more_escalations_and_slower_resolution():
    d, t = paired("caused_escalation_share", {"latency_hours_per_hop": 2}, {"latency_hours_per_hop": 72})
    assert t > 3, (d, t)
    d, t = paired("median_hours_to_resolution", {"latency_hours_per_hop": 2}, {"latency_hours_per_hop": 72})
    assert t > 3, (d, t)


def test_more_integration_less_misrouting_and_faster_resolution():
    d, t = paired("misrouted_share", {"resource_integration": 0.1}, {"resource_integration": 0.9})
    assert t < -3, (d, t)
    d, t = paired("median_hours_to_resolution", {"resource_integration": 0.1}, {"resource_integration": 0.9})
    assert t < -3, (d, t)


def test_common_random_numbers_keep_emergence_identical_across_policies():
    a = sim.CityModel(small(mediators_per_street=2), rng=3).run(30)
    b = sim.CityModel(small(mediators_per_street=20), rng=3).run(30)
    # the background grievances: contagion (triggered cases) answers how the city treats people
    def background(m: sim.CityModel) -> list[int]:
        ts = m.timeseries()
        return list(ts["new_cases"] - ts["triggered"])

    assert background(a) == background(b)


def test_lever_changes_mid_run_apply_and_are_validated():
    m = sim.CityModel(small(), rng=2).run(10)
    m.levers.mediators_per_street = 20
    m.run(1)
    assert m.state.pools[sim.Level.COMMUNITY].counts.min() == 20
    assert len(m.staffing.staff[sim.Level.COMMUNITY]) == 20 * m.layout.n_streets
    assert len(m.agents_by_type[Mediator]) == 20 * m.layout.n_streets  # Mesa's registry agrees
    with pytest.raises(sim.ScenarioError, match=r"levers.video_coverage"):
        m.levers.video_coverage = 3
    with pytest.raises(sim.ScenarioError):
        m.levers.no_such_lever = 1


def test_budget_cap_scales_staff_down():
    m = sim.CityModel(small(budget_million_yuan=1.0), rng=0)
    full = sim.CityModel(small(), rng=0)
    want = m.staffing.desired()
    assert m.staffing.annual_cost(want) <= 1.0e6 + 1e-6 or sum(want.values()) == 0
    assert sum(want.values()) < sum(full.staffing.desired().values())


def test_resident_view_grid_layers_plan_and_timeseries():
    m = sim.CityModel(small(), rng=4).run(5)
    r = m.resident(123)
    assert 0 <= r.trust <= 1 and 0 <= r.tension <= 1 and 0 <= r.grid < m.layout.n_grids
    with pytest.raises(IndexError):
        m.resident(10**9)
    for name in ("open_cases", "escalation_risk", "trust", "staff_load", "residents", "escalations"):
        layer = m.grid_layer(name)
        assert layer.shape == (m.layout.rows, m.layout.cols)
    assert m.district_of_cell.max() == m.layout.n_districts - 1
    assert m.plan_names[0] == "staffing" and "detection" in m.plan_names
    ts = m.timeseries()
    assert len(ts) == 5 and ts["day"].tolist() == [0, 1, 2, 3, 4]


def test_staff_agents_are_mesa_agents_with_costs():
    m = sim.CityModel(small(), rng=0)
    from sim.engine.agents import Department, GridWorker, Mediator

    workers = m.agents_by_type[GridWorker]
    assert len(workers) == 5 * m.layout.n_grids
    assert len(m.agents_by_type[Mediator]) == m.levers.mediators_per_street * m.layout.n_streets
    dep = next(iter(m.agents_by_type[Department]))
    assert dep.servers == m.levers.department_staff and dep.cost_per_year > 0 and dep.name


def test_run_function_returns_flat_numbers():
    out = sim.run("town", {"city.residents": 10_000, "levers.video_coverage": 0.5}, seed=1, days=10)
    assert all(isinstance(v, float) for v in out.values())
    assert "by_department.justice.closed_within_24h" in out


def test_model_pickles_and_no_court_means_waiting_not_a_free_exit():
    import pickle

    m = sim.CityModel(small(legal_capacity=0, department_staff=1, city_staff=1), rng=5).run(60)
    again = pickle.loads(pickle.dumps(m))
    assert again.levers.legal_capacity == 0
    tab = m.cases
    # cases bound for a court with nobody wait there (their clocks running) until they lapse
    assert np.any((tab["level"] == sim.Level.COURT) & (tab["stage"] == Stage.QUEUED))
    assert m.accounts.exits[Stage.UNRESOLVED] == 0


@pytest.mark.parametrize("on", [True, False])
def test_the_build_runs_without_the_cyclic_collector_and_restores_it(monkeypatch, on):
    """CityModel's build pauses Python's cyclic garbage collector (a full collection over the
    build's objects frees nothing and cost 0.1 s) and leaves it as it found it, also when the
    scenario is refused."""
    import gc

    import sim.model as model_module

    during: list[bool] = []
    real = model_module.build_layout
    monkeypatch.setattr(model_module, "build_layout", lambda *a, **k: (during.append(gc.isenabled()), real(*a, **k))[1])
    was = gc.isenabled()
    try:
        (gc.enable if on else gc.disable)()
        sim.CityModel(small(), rng=0)
        assert during == [False] and gc.isenabled() is on
        with pytest.raises(sim.ScenarioError):
            sim.CityModel(small(), rng=0, overrides={"world.emergence_multiplier": -1})
        assert gc.isenabled() is on
    finally:
        (gc.enable if was else gc.disable)()
