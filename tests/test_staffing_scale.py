"""Staff in proportion to residents (sim/engine/staffing.py, ODD §7.5): district departments,
courts and city departments sized by the residents they serve when the scenario asks for it."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.engine.levels import Level

SCALED = {"handling.district_staff_reference_residents": 50_000,
          "handling.city_staff_reference_residents": 50_000}


def _district_residents(m: sim.CityModel) -> np.ndarray:
    lay = m.layout
    return np.bincount(lay.district_of, weights=np.diff(lay.resident_start), minlength=lay.n_districts)


def test_by_default_every_pool_gets_the_lever():
    m = sim.CityModel("baseline", rng=0)
    for lv in Level:
        assert m.staffing.pool_scale(lv) is None
    assert m.state.pools[Level.COURT].counts.tolist() == [60] * m.layout.n_districts


def test_district_and_city_pools_follow_their_residents():
    m = sim.CityModel("baseline", rng=0, overrides=SCALED)
    lev = m.state.levers
    want = np.rint(lev.legal_capacity * _district_residents(m) / 50_000).astype(int)
    assert m.state.pools[Level.COURT].counts.tolist() == want.tolist()
    n_dep = len(m.state.departments)
    dep = np.rint(lev.department_staff * _district_residents(m) / 50_000).astype(int)
    assert m.state.pools[Level.DISTRICT].counts.tolist() == np.repeat(dep, n_dep).tolist()
    city = round(lev.city_staff * m.layout.n_residents / 50_000)
    assert m.state.pools[Level.CITY].counts.tolist() == [city] * n_dep
    # grid and street levels are per grid and per street already: untouched
    plain = sim.CityModel("baseline", rng=0)
    for lv in (Level.GRID, Level.COMMUNITY, Level.STREET):
        assert m.state.pools[lv].counts.tolist() == plain.state.pools[lv].counts.tolist()


def test_the_cost_counts_the_staff_in_post():
    m = sim.CityModel("baseline", rng=0, overrides=SCALED)
    st, c = m.staffing, m.state.costs
    court = int(m.state.pools[Level.COURT].counts.sum())
    with_court = st.annual_cost(dict(st.current))
    without = st.annual_cost({**st.current, Level.COURT: 0})
    assert with_court - without == pytest.approx(court * c["court_staff"])


@pytest.mark.parametrize("lever", [0, 1])
def test_a_lever_of_zero_staffs_nobody_and_one_staffs_every_pool(lever):
    m = sim.CityModel("baseline", rng=0, overrides={"handling.district_staff_reference_residents": 10_000_000},
                      legal_capacity=lever)
    counts = m.state.pools[Level.COURT].counts
    assert (counts == lever).all()  # residents / R < 0.5 rounds to 0: one is kept while the lever is on


def test_halving_the_reference_doubles_the_court_and_ends_its_saturation():
    # common random numbers: same seed; town's one district has 100,000 residents, so a
    # reference of 50,000 doubles the court (15 -> 30 staff); department staff are held at 6
    arms = {}
    for ref, dep in ((100_000, 6), (50_000, 3)):
        m = sim.CityModel("town", rng=1, legal_capacity=15, department_staff=dep,
                          overrides={"handling.district_staff_reference_residents": ref}).run(120)
        assert m.state.pools[Level.DISTRICT].counts.tolist() == [6] * len(m.state.departments)
        arms[ref] = (int(m.state.pools[Level.COURT].counts.sum()), m.kpis())
    assert arms[100_000][0] == 15 and arms[50_000][0] == 30
    assert arms[100_000][1]["saturated_levels"] == 1 and arms[50_000][1]["saturated_levels"] == 0
    assert arms[50_000][1]["recent_utilisation_by_level"]["court"] < 0.95


def test_the_builds_handlers_are_the_general_loops():
    """The build makes a level's individual handlers (grid workers, mediators) in one pass
    (``Staffing._resize_level``'s first branch): the agents the per-pool loop makes — pool
    after pool, ``per_pool`` each, speeds from the staff stream in that order, free at the
    start — registered with Mesa in that order, and the pools' arrays are theirs."""
    m = sim.CityModel("baseline", rng=0)
    want = m.staffing.desired()
    t0 = m.state.clock.t0
    for lv in (Level.GRID, Level.COMMUNITY):
        agents, pools, per_pool = m.staffing.staff[lv], m.state.pools[lv], want[lv]
        n = pools.n_pools * per_pool
        assert n > 0 and len(agents) == n
        assert [a.pool for a in agents] == np.repeat(np.arange(pools.n_pools), per_pool).tolist()
        ids = [a.unique_id for a in agents]
        assert ids == sorted(ids) and ids == list(range(ids[0], ids[0] + n))
        m.staffing.staff[lv] = []  # the stream's key as the build saw it: no agents yet
        speeds = m.staffing._speeds(lv, n)
        m.staffing.staff[lv] = agents
        assert np.array_equal(np.concatenate([a.speed for a in agents]), speeds)
        assert all(a.servers == 1 and a.free_at.tolist() == [t0] for a in agents)
        assert np.array_equal(pools.speed, speeds) and np.array_equal(pools.free, np.full(n, t0))
        assert pools.counts.tolist() == [per_pool] * pools.n_pools
        assert sum(isinstance(a, type(agents[0])) for a in m.agents) == n  # Mesa's registry agrees
