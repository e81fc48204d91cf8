"""The compiled kernels of the engine against plain numpy formulations of the same mechanism.

Each compiled stage keeps its plain formulation here as the reference; they agree bit for bit
because the kernels do numpy's arithmetic in numpy's dtypes and order.
"""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine.cases import COLUMNS, CaseTable, Stage
from sim.engine.escalation import neighbourhood_sum
from sim.engine.levels import Level
from sim.engine.service import work_hours
from sim.outcomes.compute import compute_kpis, daily_kpis


def model(days: int = 30, residents: int = 20_000, **over) -> sim.CityModel:
    scn = sim.load_scenario("town", {"city.residents": residents, **over})
    return sim.CityModel(scn, rng=11).run(days)


# ----------------------------------------------------------------------------- case table
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), capacity=st.integers(1, 64))
def test_drop_compacts_like_boolean_indexing(seed, capacity):
    rng = np.random.default_rng(seed)
    tab = CaseTable(capacity=capacity)
    ref = {k: np.zeros((0, *shape), dt) for k, (dt, _f, shape) in COLUMNS.items()}
    for _ in range(12):
        sl = tab.append(int(rng.integers(0, 40)))
        for k, (dt, _f, shape) in COLUMNS.items():
            if k != "case_id":
                tab[k][sl] = (rng.random((sl.stop - sl.start, *shape)) * 100).astype(dt)
            ref[k] = np.concatenate([ref[k], tab[k][sl]])
        if len(tab):
            kind = rng.integers(0, 4)
            if kind == 0:  # scattered
                mask = rng.random(len(tab)) < 0.2
            elif kind == 1:  # a prefix (the oldest cases)
                mask = np.arange(len(tab)) < rng.integers(0, len(tab) + 1)
            elif kind == 2:  # a suffix (the newest)
                mask = np.arange(len(tab)) >= rng.integers(0, len(tab) + 1)
            else:  # both ends
                mask = (np.arange(len(tab)) < 3) | (np.arange(len(tab)) >= len(tab) - 3)
            tab.drop(np.flatnonzero(mask) if rng.random() < 0.5 else mask)
            ref = {k: v[~mask] for k, v in ref.items()}
        for k in COLUMNS:
            np.testing.assert_array_equal(tab[k], ref[k], err_msg=k)


# ----------------------------------------------------------------------------- sums and KPIs
def test_daily_kpis_equal_compute_kpis():
    m = model(days=5, **{"world.emergence_multiplier": 4, "run.warmup_days": 3})
    for _ in range(25):
        m.step()
        full, daily = compute_kpis(m.state, m.accounts), daily_kpis(m.state, m.accounts)
        for key, val in daily.items():
            assert val == full[key] or (np.isnan(val) and np.isnan(full[key])), key
    # the recorded series agrees with the full KPIs of the last day
    assert m.timeseries()["safety_index"].iloc[-1] == compute_kpis(m.state, m.accounts)["safety_index"]


# ----------------------------------------------------------------------------- stages
def reference_accrue(m, idx, until):
    """The numpy formulation of Escalation.accrue."""
    tab = m.cases
    start = np.maximum(tab["acc_from"][idx], m.state.clock.t0)
    span = np.maximum(np.asarray(until, dtype=np.float64) - start, 0.0)
    hz = tab["hazard"][idx]
    before = tab["hazard_acc"][idx]
    after = before + hz * span
    thr = tab["esc_thresholds"][idx].astype(np.float64)
    k0 = (thr <= before[:, None]).sum(axis=1)
    k1 = (thr <= after[:, None]).sum(axis=1)
    tab["hazard_acc"][idx] = after
    tab["acc_from"][idx] = until
    sev0 = tab["severity0"][idx].astype(np.int64)
    sev_before, sev_after = np.minimum(sev0 + k0, 3), np.minimum(sev0 + k1, 3)
    m.state.today["escalations"] += int((sev_after - sev_before).sum())
    np.add.at(m.escalation.escalations_by_grid, tab["grid"][idx], sev_after - sev_before)
    tab["severity"][idx] = sev_after
    reach = (sev_before < 2) & (sev_after >= 2)
    if reach.any():
        j = (k0 + (2 - sev_before) - 1)[reach]
        with np.errstate(divide="ignore", invalid="ignore"):
            t2 = start[reach] + (thr[reach, j] - before[reach]) / hz[reach]
        tab["t_severity2"][idx[reach]] = t2


def reference_hazard(m):
    """The numpy formulation of Escalation.hazard (per-case hazard)."""
    tab, w, t0 = m.cases, m.state.world, m.state.clock.t0
    g = tab["grid"]
    per_1000 = m.escalation.open_nearby_per_1000[g]
    waited_days = np.maximum(t0 - tab["t_emerge"], 0.0) / 24.0
    waiting = np.minimum(1.0 + w["escalation_growth_per_day"] * waited_days, w["escalation_max_multiplier"])
    res = tab["resident_a"]
    personal = (1.0 + w["escalation_tension_weight"] * m.residents.tension_at(res, t0)
                + w["escalation_distrust_weight"] * (1.0 - m.residents.trust_of(res, g)))
    neighbour = w["escalation_neighbour_weight"] * (
        1.0 - w["escalation_disclosure_damping"] * m.levers.information_disclosure)
    return (w["escalation_hazard_per_hour"] * m.state.categories.escalation_mult[tab["category"]] * waiting
            * personal * (1.0 + w["escalation_bounce_weight"] * tab["bounces"]) * (1.0 + neighbour * per_1000))


def test_accrue_and_hazard_match_numpy():
    m = model(days=40, **{"world.emergence_multiplier": 6, "world.escalation_hazard_per_hour": 0.002})
    clock = m.state.clock
    clock.start_day()
    m.escalation.hazard(m.state)
    np.testing.assert_allclose(m.cases["hazard"], reference_hazard(m), rtol=1e-6)  # float32 tension
    a, b = copy.deepcopy(m), copy.deepcopy(m)
    for mm in (a, b):
        mm.state.today = {"escalations": 0}
    stage = m.cases["stage"]
    idx = np.flatnonzero(stage <= Stage.QUEUED)
    until = np.linspace(clock.t0, clock.t1, idx.size)
    a.escalation.accrue(a.state, idx, until)
    reference_accrue(b, idx, until)
    assert a.state.today == b.state.today and a.state.today["escalations"] > 0
    np.testing.assert_array_equal(a.escalation.escalations_by_grid, b.escalation.escalations_by_grid)
    for col in ("hazard_acc", "acc_from", "severity", "t_severity2"):
        np.testing.assert_array_equal(a.cases[col], b.cases[col], err_msg=col)


def test_work_hours_match_numpy():
    m = model(days=20)
    idx = np.arange(len(m.cases))
    tab, h = m.cases, m.state.handling
    for level in Level:
        ref = (tab["service_u"][idx, level] * h["mean_hours"][level]
               * m.state.categories.service_mult[tab["category"][idx]]
               * (1.0 + h["severity_service_factor"] * tab["severity"][idx]))
        ref = ref * 24.0 / h["hours_per_day"][level]
        np.testing.assert_array_equal(work_hours(m.state, idx, level), ref)


def test_pool_index_and_counts_match_numpy():
    m = model(days=10, residents=60_000)
    tab, lay = m.cases, m.layout
    idx = np.arange(len(tab))
    rng = np.random.default_rng(0)
    level = rng.integers(0, 6, idx.size)
    g = tab["grid"][idx]
    dept = m.state.categories.department[tab["category"][idx]]
    street, district = lay.street_of[g], lay.district_of[g]
    ref = np.select([level == 0, level <= 2, level == 3, level == 4],
                    [g, street, district * len(m.state.departments) + dept, dept], district)
    pool = m.router.pool_index(m.state, level, idx)
    np.testing.assert_array_equal(pool, ref)
    np.testing.assert_array_equal(m.router.pool_counts(m.state, level, pool),
                                  [m.state.pools[lv].counts[p] for lv, p in zip(level, pool, strict=True)])


def test_map_layers_are_computed_when_read():
    m = model(days=8)
    lazy = {name: m.grid_layer(name) for name in ("open_cases", "escalation_risk", "trust",
                                                   "staff_load", "residents", "escalations")}
    m._update_layers()
    for name, arr in lazy.items():
        np.testing.assert_array_equal(arr, m.grid_layer(name), err_msg=name)


def test_neighbourhood_sum_matches_padding():
    m = model(days=1, residents=60_000)
    lay = m.layout
    v = np.random.default_rng(2).random(lay.n_grids)
    cells = np.zeros(lay.rows * lay.cols)
    cells[lay.cell_of_grid] = v
    a = np.pad(cells.reshape(lay.rows, lay.cols), 1)
    ref = sum(a[1 + dr: 1 + dr + lay.rows, 1 + dc: 1 + dc + lay.cols]
              for dr in (-1, 0, 1) for dc in (-1, 0, 1)).ravel()[lay.cell_of_grid]
    np.testing.assert_array_equal(neighbourhood_sum(m.state, v), ref)


def reference_lapse(m: sim.CityModel) -> None:
    """The lapse stage in plain numpy (its formulation before it was compiled)."""
    from sim.engine.lapse import lapse_rate_per_hour

    s = m.state
    tab, t0, t1 = s.cases, s.clock.t0, s.clock.t1
    rows = np.flatnonzero((tab["stage"] == Stage.REPORTING) | (tab["stage"] == Stage.QUEUED))
    start = np.maximum(np.maximum(tab["acc_from"][rows], t0), tab["t_detect"][rows])
    span = np.maximum(t1 - start, 0.0)
    rate = lapse_rate_per_hour(s.world, tab["severity"][rows])
    left = tab["lapse_left"][rows]
    gone = (rate > 0) & (left <= rate * span)
    tab["lapse_left"][rows[~gone]] = left[~gone] - rate[~gone] * span[~gone]
    out = rows[gone]
    t_lapse = start[gone] + left[gone] / rate[gone]
    m.escalation.accrue(s, out, t_lapse)
    tab["stage"][out] = Stage.LAPSED
    tab["t_close"][out] = t_lapse


def test_lapse_matches_numpy():
    m = model(days=30, **{"world.emergence_multiplier": 6, "world.lapse_per_day": 0.2})
    m.state.clock.start_day()
    m.escalation.hazard(m.state)
    a, b = copy.deepcopy(m), copy.deepcopy(m)
    for mm in (a, b):
        mm.state.today = {"escalations": 0}
    a.lapse(a.state)
    reference_lapse(b)
    assert (a.cases["stage"] == Stage.LAPSED).sum() > 0  # some lapse today ...
    assert (a.cases["lapse_left"] < m.cases["lapse_left"]).sum() > 20  # ... and more budgets are spent
    for col in COLUMNS:
        np.testing.assert_array_equal(a.cases[col], b.cases[col], err_msg=col)
    assert a.state.today == b.state.today


def test_neighbourhood_sum_of_columns_matches_one_column_at_a_time():
    m = model(days=1, residents=60_000)
    v = np.random.default_rng(3).random((m.layout.n_grids, 3)) * (np.random.default_rng(4).random((m.layout.n_grids, 3)) < 0.2)
    out = neighbourhood_sum(m.state, v)
    for c in range(3):
        assert out[:, c].tobytes() == neighbourhood_sum(m.state, np.ascontiguousarray(v[:, c])).tobytes()


def test_contagion_update_matches_numpy():
    # the compiled update against Contagion.kernel's numpy formula, with events in few grids
    m = model(days=5, residents=60_000)
    con, s = m.contagion, m.state
    rng = np.random.default_rng(5)
    shape = con.excitation.shape
    new = (rng.random(shape) < 0.03) * rng.integers(1, 4, shape)
    steps = (rng.random(shape) < 0.01) * rng.integers(1, 3, shape)
    ref = con.excitation * con.q + (1.0 - con.q) * con.kernel(
        s, (con.magnitude * new + con.escalation_magnitude * steps).astype(np.float64))
    from sim.engine.contagion import _excite
    from sim.engine.escalation import map_neighbours
    exc = con.excitation.copy()
    _excite(exc, new, steps, con.magnitude, con.escalation_magnitude, con.q, con._own_share(s), con.reach,
            map_neighbours(s.layout))
    assert exc.tobytes() == ref.tobytes()


def test_collective_tallies_match_numpy():
    from sim.engine.collective import _tally_free
    m = model(days=20, residents=60_000, **{"world.emergence_multiplier": 5})
    tab, lay, n_cat = m.state.cases, m.layout, m.state.categories.n
    free = np.flatnonzero(tab["collective"] == 0)
    key = lay.community_of[tab["grid"][free]].astype(np.int64) * n_cat + tab["category"][free]
    size = lay.n_communities * n_cat
    ref = np.bincount(key, weights=tab["n_involved"][free], minlength=size)
    order = np.lexsort((free, -tab["n_involved"][free], key))
    keys, first = np.unique(key[order], return_index=True)
    agg, best = np.zeros(size), np.full(size, -1, dtype=np.int64)
    last, chain = np.full(size, -1, dtype=np.int32), np.full(tab.n, -7, dtype=np.int32)
    _tally_free(tab["collective"], tab["grid"], tab["category"], tab["n_involved"], lay.community_of, n_cat,
                agg, best, np.zeros(size, dtype=tab["n_involved"].dtype), last, chain, 0)
    assert agg.tobytes() == ref.tobytes()
    np.testing.assert_array_equal(np.flatnonzero(best >= 0), keys)
    np.testing.assert_array_equal(best[keys], free[order[first]])
    # the chains link exactly the free rows of each key (what marking the joined rows visits)
    for k in keys[:: max(1, keys.size // 50)]:
        rows, i = [], last[k]
        while i >= 0:
            rows.append(i)
            i = chain[i]
        np.testing.assert_array_equal(rows[::-1], free[key == k])
