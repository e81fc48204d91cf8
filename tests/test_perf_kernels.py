"""The compiled fast paths against plain numpy references: same results, bit for bit.

Each optimisation of the hot stages (issue 6) replaced numpy code by a compiled kernel or a
cheaper bookkeeping; these tests keep the old formulation as the reference.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine import feedback, handling
from sim.engine.cases import COLUMNS, CaseTable, Stage
from sim.engine.queues import PoolSet, serve_fcfs, serve_fcfs_heap, serve_fcfs_rows
from sim.outcomes.compute import _pairwise_sum, compute_kpis, daily_kpis, open_tallies


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


# ----------------------------------------------------------------------------- FCFS kernels
@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 150), pools=st.integers(1, 5),
       window=st.floats(1, 60), decimals=st.integers(0, 2))
def test_heap_kernels_match_the_sorted_recursion(seed, n, pools, window, decimals):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, pools)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    free0 = rng.uniform(0, 30, ptr[-1]) * (rng.random(ptr[-1]) < 0.5)
    speed = rng.uniform(0.5, 2.0, ptr[-1])
    pool = rng.integers(0, pools, n).astype(np.int64)
    arrive = np.round(rng.uniform(0, 40, n), decimals)  # rounded: ties in arrival
    key = rng.permutation(3 * n)[:n].astype(np.int64)  # case ids, not in row order
    work = rng.exponential(3.0, n)

    def out():
        return np.full(n, np.inf), np.full(n, np.inf), np.full(n, -1, np.int64)

    ref, free_ref = out(), free0.copy()
    order = np.lexsort((key, arrive, pool)).astype(np.int64)
    k_ref = serve_fcfs(order, pool, arrive, work, free_ref, speed, ptr, window, *ref)
    heap, free_heap = out(), free0.copy()
    k_heap = serve_fcfs_heap(pool, arrive, key, work, free_heap, speed, ptr, pools, window, *heap)
    assert k_heap == k_ref
    for a, b in zip(ref, heap, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(free_ref, free_heap)

    # the row-indexed variant: cases are rows of longer columns
    rows = np.sort(rng.choice(2 * n + 1, n, replace=False)).astype(np.int64)
    col = {name: np.zeros(2 * n + 1, v.dtype) for name, v in (("pool", pool), ("arrive", arrive),
                                                              ("key", key))}
    col["pool"][rows], col["arrive"][rows], col["key"][rows] = pool, arrive, key
    free_rows = free0.copy()
    pos, start, end, server = serve_fcfs_rows(rows, col["pool"], col["arrive"], col["key"], work,
                                              free_rows, speed, ptr, pools, window)
    ok = np.flatnonzero(ref[2] >= 0)
    np.testing.assert_array_equal(pos, ok)
    np.testing.assert_array_equal(start, ref[0][ok])
    np.testing.assert_array_equal(end, ref[1][ok])
    np.testing.assert_array_equal(server, ref[2][ok])
    np.testing.assert_array_equal(free_rows, free_ref)

    # serving only the pools that can start someone changes nothing
    ps = PoolSet(pools)
    ps.counts, ps.ptr, ps.free, ps.speed = counts, ptr, free0.copy(), speed
    can = ps.can_start(window)
    cand = np.flatnonzero(can[col["pool"][rows]] & (col["arrive"][rows] < window))
    pos2, start2, end2, server2 = ps.serve_rows(rows[cand], col["pool"], col["arrive"], work[cand],
                                                col["key"], window)
    np.testing.assert_array_equal(cand[pos2], ok)
    np.testing.assert_array_equal(start2, ref[0][ok])
    np.testing.assert_array_equal(server2, ref[2][ok])
    np.testing.assert_array_equal(ps.free, free_ref)


def test_serve_rows_counts_busy_hours_like_serve():
    rng = np.random.default_rng(3)
    a, b = PoolSet(3), PoolSet(3)
    for ps in (a, b):
        ps.counts = np.array([2, 0, 3])
        ps.ptr = np.array([0, 2, 2, 5])
        ps.free = np.zeros(5)
        ps.speed = np.ones(5)
    pool, arrive, work = rng.integers(0, 3, 50), rng.uniform(0, 20, 50), rng.exponential(4, 50)
    start, end, server = a.serve(pool, arrive, work, np.arange(50), 24.0)
    pos, s2, e2, _ = b.serve_rows(np.arange(50), pool, arrive, work, np.arange(50), 24.0)
    assert a.busy_hours == b.busy_hours
    np.testing.assert_array_equal(np.flatnonzero(server >= 0), pos)


# ----------------------------------------------------------------------------- sums and KPIs
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 255, 256, 1000, 4099, 100_003])
def test_pairwise_sum_is_numpys(n):
    a = np.random.default_rng(n).standard_normal(n) * 10 ** np.random.default_rng(n + 1).uniform(-3, 6, n)
    assert 0.0 + _pairwise_sum(a, n) == np.sum(a)


def test_daily_kpis_equal_compute_kpis_and_tallies_equal_numpy():
    m = model(days=5, **{"world.emergence_multiplier": 4})
    for _ in range(25):
        m.step()
        full, daily = compute_kpis(m), daily_kpis(m)
        for key, val in daily.items():
            assert val == full[key] or (np.isnan(val) and np.isnan(full[key])), key
        tab, t = m.cases, open_tallies(m)
        np.testing.assert_array_equal(t["per_stage"][:7], np.bincount(tab["stage"], minlength=7))
        np.testing.assert_array_equal(t["per_severity"],
                                      np.bincount(tab["severity"][tab["stage"] <= 3], minlength=4))
        det = np.isfinite(tab["t_detect"])
        assert t["detection_delay_sum"] == float(np.sum(tab["t_detect"][det] - tab["t_emerge"][det]))
    # the recorded series agrees with the full KPIs of the last day
    assert m.timeseries()["safety_index"].iloc[-1] == compute_kpis(m)["safety_index"]


# ----------------------------------------------------------------------------- stages
def reference_accrue(m, idx, until):
    """The numpy formulation of handling.accrue_escalation."""
    tab = m.cases
    start = np.maximum(tab["acc_from"][idx], m.t0)
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
    m.today["escalations"] += int((sev_after - sev_before).sum())
    np.add.at(m.escalations_by_grid, tab["grid"][idx], sev_after - sev_before)
    tab["severity"][idx] = sev_after
    reach = (sev_before < 2) & (sev_after >= 2)
    if reach.any():
        j = (k0 + (2 - sev_before) - 1)[reach]
        with np.errstate(divide="ignore", invalid="ignore"):
            t2 = start[reach] + (thr[reach, j] - before[reach]) / hz[reach]
        tab["t_severity2"][idx[reach]] = t2


def reference_hazard(m):
    """The numpy formulation of feedback.escalation_hazard (per-case hazard)."""
    tab, w = m.cases, m.world
    g = tab["grid"]
    per_1000 = m.open_nearby_per_1000[g]
    waited_days = np.maximum(m.t0 - tab["t_emerge"], 0.0) / 24.0
    res = tab["resident_a"]
    personal = (1.0 + w["escalation_tension_weight"] * m.residents.tension_at(res, m.t0)
                + w["escalation_distrust_weight"] * (1.0 - m.residents.trust_of(res, g)))
    return (w["escalation_hazard_per_hour"] * (1.0 + w["escalation_growth_per_day"] * waited_days)
            * personal * (1.0 + w["escalation_neighbour_weight"] * per_1000))


def test_accrue_and_hazard_match_numpy():
    m = model(days=40, **{"world.emergence_multiplier": 6, "world.escalation_hazard_per_hour": 0.05})
    m.t0, m.t1 = m.day * 24.0, m.day * 24.0 + 24.0
    feedback.escalation_hazard(m)
    np.testing.assert_array_equal(m.cases["hazard"], reference_hazard(m))
    a, b = copy.deepcopy(m), copy.deepcopy(m)
    for mm in (a, b):
        mm.today = {"escalations": 0}
    stage = m.cases["stage"]
    idx = np.flatnonzero(stage <= Stage.QUEUED)
    until = np.linspace(m.t0, m.t1, idx.size)
    handling.accrue_escalation(a, idx, until)
    reference_accrue(b, idx, until)
    assert a.today == b.today and a.today["escalations"] > 0
    np.testing.assert_array_equal(a.escalations_by_grid, b.escalations_by_grid)
    for col in ("hazard_acc", "acc_from", "severity", "t_severity2"):
        np.testing.assert_array_equal(a.cases[col], b.cases[col], err_msg=col)


def test_work_hours_match_numpy():
    m = model(days=20)
    idx = np.arange(len(m.cases))
    tab, h = m.cases, m.handling
    for level in range(6):
        ref = (tab["service_u"][idx, level] * h["mean_hours"][level]
               * m.categories.service_mult[tab["category"][idx]]
               * (1.0 + h["severity_service_factor"] * tab["severity"][idx]))
        ref = ref * 24.0 / h["hours_per_day"][level]
        np.testing.assert_array_equal(handling.work_hours(m, idx, level), ref)


def test_pool_index_and_counts_match_numpy():
    m = model(days=10, residents=60_000)
    tab, lay = m.cases, m.layout
    idx = np.arange(len(tab))
    rng = np.random.default_rng(0)
    level = rng.integers(0, 6, idx.size)
    g = tab["grid"][idx]
    dept = m.categories.department[tab["category"][idx]]
    street, district = lay.street_of[g], lay.district_of[g]
    ref = np.select([level == 0, level <= 2, level == 3, level == 4],
                    [g, street, district * len(m.departments) + dept, dept], district)
    pool = m.pool_index(level, idx)
    np.testing.assert_array_equal(pool, ref)
    np.testing.assert_array_equal(m.pool_counts(level, pool),
                                  [m.pools[lv].counts[p] for lv, p in zip(level, pool, strict=True)])


def test_map_layers_are_computed_when_read():
    m = model(days=8)
    lazy = {name: m.grid_layer(name) for name in ("open_cases", "escalation_risk", "trust",
                                                   "staff_load", "residents", "escalations")}
    m._update_layers()
    for name, arr in lazy.items():
        np.testing.assert_array_equal(arr, m.grid_layer(name), err_msg=name)


def test_first_staffed_matches_the_level_by_level_loop():
    m = model(days=10, residents=60_000, **{"levers.mediators_per_street": 0,
                                            "levers.centre_staff_per_street": 0})
    m.pools[4].counts[1] = 0  # a city department with nobody
    idx = np.arange(len(m.cases))
    level = np.random.default_rng(1).integers(0, 6, idx.size)
    ref = level.copy()
    for _ in range(6):
        pool = m.pool_index(ref, idx)
        empty = (m.pool_counts(ref, pool) == 0) & (ref < 5)
        if not empty.any():
            break
        ref = np.where(empty, ref + 1, ref)
    got_level, got_pool = m.first_staffed(level, idx)
    np.testing.assert_array_equal(got_level, ref)
    np.testing.assert_array_equal(got_pool, m.pool_index(ref, idx))


def test_neighbourhood_sum_matches_padding():
    m = model(days=1, residents=60_000)
    lay = m.layout
    v = np.random.default_rng(2).random(lay.n_grids)
    cells = np.zeros(lay.rows * lay.cols)
    cells[lay.cell_of_grid] = v
    a = np.pad(cells.reshape(lay.rows, lay.cols), 1)
    ref = sum(a[1 + dr: 1 + dr + lay.rows, 1 + dc: 1 + dc + lay.cols]
              for dr in (-1, 0, 1) for dc in (-1, 0, 1)).ravel()[lay.cell_of_grid]
    np.testing.assert_array_equal(feedback.neighbourhood_sum(m, v), ref)
