"""Round 6 of issue 16, the back half of the day (service, queues, routing, accounting): the
compiled passes against the numpy formulations they replaced, kept here as references; they
agree bit for bit.
"""

from __future__ import annotations

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine import service
from sim.engine.cases import Stage, stage_rows
from sim.engine.levels import DEPARTMENT_LEVELS, MEDIATION_LEVELS, TOP, Level
from sim.engine.queues import PoolSet, serve_fcfs_rows
from sim.engine.routing import _COURT_SHARE_KEY, _balance_moves
from sim.engine.service_kernels import book_intervals, mark_started, settle_outcomes
from sim.engine.stories import _FIELDS, StoryLog, _closed_rows
from sim.engine.trust import (
    _IS_CLOSED,
    _IS_KEPT,
    _IS_UNRESOLVED,
    UNRESOLVED,
    _closed_and_kept,
    _satisfaction,
    _shift_by_news,
)


def model(days: int = 40, **over) -> sim.CityModel:
    scn = sim.load_scenario("town", {"city.residents": 60_000, "world.emergence_multiplier": 5,
                                     "levers.responsibility_clarity": 0.3, **over})
    m = sim.CityModel(scn, rng=5).run(days)
    m.state.cases.compact()  # every row an open case: the tests pick rows by len(table)
    return m


# ----------------------------------------------------------------------------- references
def reference_book(partial, full_diff, start, end):
    """BusyLedger.book's numpy formulation (one level's rows)."""
    da = np.floor(start / 24.0).astype(np.int64)
    db = np.floor(end / 24.0).astype(np.int64)
    same = da == db
    np.add.at(partial, da[same], (end - start)[same])
    x = ~same
    np.add.at(partial, da[x], ((da + 1) * 24.0 - start)[x])
    np.add.at(partial, db[x], (end - db * 24.0)[x])
    np.add.at(full_diff, da[x] + 1, 1.0)
    np.add.at(full_diff, db[x], -1.0)


def reference_success(s, rows, level):
    """success_probability's numpy formulation."""
    h, lev = s.handling, s.levers
    p = np.full(rows.size, h["success"][level])
    if level in MEDIATION_LEVELS:
        p += h["training_success_gain"] * lev.mediator_training
    if level in DEPARTMENT_LEVELS:
        p += h["integration_success_gain"] * lev.resource_integration
    p -= h["severity_success_penalty"] * s.cases["severity"][rows]
    p = np.clip(p, 1e-9, 1.0 - 1e-9)
    weight = h["difficulty_weight"]
    if weight == 0:
        return p
    logit = np.log(p / (1.0 - p)) - weight * s.cases["difficulty"][rows].astype(np.float64)
    return 1.0 / (1.0 + np.exp(-logit))


def reference_route(router, s, rows, level, t_ready, hops):
    """Router.route's numpy formulation (with _place)."""
    tab, lev, h = s.cases, s.levers, router.handling
    level = np.asarray(level, dtype=np.int64)
    pool = router.pool_index(s, level, rows)
    delay = hops * lev.latency_hours_per_hop + lev.silo_penalty_hours * (1.0 - lev.resource_integration)
    p_mis = h["misroute_base"] * (1.0 - lev.responsibility_clarity) * (1.0 - lev.resource_integration)
    bounces = np.zeros(rows.size, dtype=np.int64)
    if p_mis > 0:
        u = np.maximum(tab["route_u"][rows, level], 1e-12)
        dept = np.isin(level, DEPARTMENT_LEVELS)
        bounces = np.where(dept, np.floor(np.log(u) / np.log(p_mis)), 0).astype(np.int64)
    t_arrive = t_ready + delay + bounces * (h["bounce_hours"] + lev.latency_hours_per_hop)
    tab["level"][rows] = level
    tab["pool"][rows] = pool
    tab["t_arrive"][rows] = t_arrive
    tab["t_start"][rows] = np.inf
    tab["t_end"][rows] = np.inf
    tab["stage"][rows] = Stage.REPORTING
    tab["levels_routed"][rows] |= (1 << level).astype(np.uint8)
    tab["bounces"][rows] += bounces


def reference_refer_failed(router, s, rows, level, rest_u):
    """Router.refer_failed's numpy formulation."""
    tab = s.cases
    nxt = np.maximum(level + 1, router.entry_level(s, rows))
    court_key = _COURT_SHARE_KEY.get(level)
    if court_key is not None:
        nxt = np.where(rest_u < router.handling[court_key], TOP, nxt)
    nxt = np.minimum(nxt, TOP)
    t_ready = tab["t_end"][rows]
    tab["acc_from"][rows] = t_ready
    reference_route(router, s, rows, nxt, t_ready, router.handling["hops_per_escalation"])


def reference_balance_moves(rows, pool_col, t_arrive, case_id, counts, district_of_pool, share):
    """_balance_moves' numpy formulation (every row sorted)."""
    n_pools = counts.size
    pool = pool_col[rows].astype(np.int64)
    q = np.bincount(pool, minlength=n_pools).astype(np.float64)
    n_d = int(district_of_pool.max()) + 1
    q_d = np.bincount(district_of_pool, weights=q, minlength=n_d)
    c_d = np.bincount(district_of_pool, weights=counts, minlength=n_d)
    with np.errstate(divide="ignore", invalid="ignore"):
        fair = np.where(c_d[district_of_pool] > 0, counts * q_d[district_of_pool] / c_d[district_of_pool], q)
    n_move = np.floor(share * np.maximum(q - fair, 0.0)).astype(np.int64)
    n_slot = np.where(counts > 0, np.ceil(share * np.maximum(fair - q, 0.0)), 0).astype(np.int64)
    if n_move.sum() == 0 or n_slot.sum() == 0:
        return rows[:0], rows[:0]
    order = np.lexsort((-case_id[rows], -t_arrive[rows], pool))
    sp = pool[order]
    rank = np.arange(sp.size) - np.searchsorted(sp, sp, side="left")
    src = order[rank < n_move[sp]]
    src_d = district_of_pool[pool[src]]
    slot_pool = np.repeat(np.arange(n_pools), n_slot)
    slot_turn = np.arange(slot_pool.size) - np.searchsorted(slot_pool, slot_pool, side="left")
    slot_d = district_of_pool[slot_pool]
    slots = np.lexsort((-(fair - q)[slot_pool], slot_turn, slot_d))
    slot_pool, slot_d = slot_pool[slots], slot_d[slots]
    s_order = np.argsort(src_d, kind="stable")
    src, src_d = src[s_order], src_d[s_order]
    k = np.arange(src.size) - np.searchsorted(src_d, src_d, side="left")
    first_slot = np.searchsorted(slot_d, src_d, side="left")
    n_slots_d = np.searchsorted(slot_d, src_d, side="right") - first_slot
    ok = k < n_slots_d
    return rows[src[ok]], slot_pool[first_slot[ok] + k[ok]]


# ----------------------------------------------------------------------------- tests
@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 200))
def test_book_intervals_matches_add_at(seed, n):
    rng = np.random.default_rng(seed)
    start = rng.uniform(0, 24 * 20, n)
    end = start + rng.exponential(30.0, n) * (rng.random(n) < 0.9)  # some of zero length
    days = int(np.floor(end.max() / 24.0)) + 2
    got_p, got_f = rng.random(days), np.zeros(days + 1)
    ref_p, ref_f = got_p.copy(), got_f.copy()
    book_intervals(got_p, got_f, start, end)
    reference_book(ref_p, ref_f, start, end)
    np.testing.assert_array_equal(got_p, ref_p)
    np.testing.assert_array_equal(got_f, ref_f)


def test_success_probability_matches_numpy():
    m = model()
    s = m.state
    rows = np.flatnonzero(s.cases["stage"] <= Stage.IN_SERVICE)
    assert rows.size > 100
    for weight in (s.handling["difficulty_weight"], 0.0):
        s.handling["difficulty_weight"] = weight
        for level in Level:
            np.testing.assert_array_equal(service.success_probability(s, rows, level),
                                          reference_success(s, rows, level), err_msg=f"{level} {weight}")


def test_settle_outcomes_and_mark_started_match_numpy():
    m = model()
    s = m.state
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(s.cases), len(s.cases) // 2, replace=False))
    p = rng.random(rows.size)
    p[:5] = 1.0  # rest uniform 0 where the chance is certain
    for level, top in ((Level.STREET, False), (TOP, True)):
        a, b = copy.deepcopy(s.cases), copy.deepcopy(s.cases)
        fi, rest, n_att, n_ok = settle_outcomes(a, rows, p, int(level), 24.0 * 5, top, int(Stage.RESOLVED),
                                                int(Stage.UNRESOLVED))
        u = b["outcome_u"][rows, level]
        ok = u < p
        keep = b["t_emerge"][rows] >= 24.0 * 5
        assert (n_att, n_ok) == (np.count_nonzero(keep), np.count_nonzero(keep & ok))
        b["stage"][rows[ok]] = Stage.RESOLVED
        b["t_close"][rows[ok]] = b["t_end"][rows[ok]]
        np.testing.assert_array_equal(fi, rows[~ok])
        pf = p[~ok]
        with np.errstate(divide="ignore", invalid="ignore"):
            np.testing.assert_array_equal(rest, np.where(pf < 1.0, (u[~ok] - pf) / (1.0 - pf), 0.0))
        if top:
            b["stage"][fi] = Stage.UNRESOLVED
            b["t_close"][fi] = b["t_end"][fi]
        for col in ("stage", "t_close"):
            np.testing.assert_array_equal(a[col], b[col], err_msg=col)

    a, b = copy.deepcopy(s.cases), copy.deepcopy(s.cases)
    sst = rng.uniform(100.0, 200.0, rows.size)
    end, server = sst + rng.exponential(5.0, rows.size), rng.integers(0, 50, rows.size)
    mark_started(a, rows, sst, end, server, int(Level.STREET), int(Stage.IN_SERVICE))
    b["acc_from"][rows] = np.inf
    wait = sst - b["t_arrive"][rows]
    first = b["visits"][rows] == 0
    b["first_wait"][rows[first]] = wait[first]
    b["esc_before_service"][rows[first]] = b["severity"][rows[first]] - b["severity0"][rows[first]]
    b["wait_total"][rows] += wait
    b["visits"][rows] += 1
    b["t_start"][rows], b["t_end"][rows], b["server"][rows] = sst, end, server
    b["stage"][rows] = Stage.IN_SERVICE
    b["levels_served"][rows] |= np.uint8(1 << Level.STREET)
    for col in a.cols:
        np.testing.assert_array_equal(a[col], b[col], err_msg=col)


def test_route_and_refer_failed_match_numpy():
    m = model()
    s = m.state
    rng = np.random.default_rng(1)
    rows = np.sort(rng.choice(len(s.cases), len(s.cases) // 2, replace=False))
    rest = rng.random(rows.size)
    before = copy.deepcopy(m).cases["bounces"].copy()
    for level in (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.CITY):
        a, b = copy.deepcopy(m), copy.deepcopy(m)
        a.router.refer_failed(a.state, rows, level, rest)
        reference_refer_failed(b.router, b.state, rows, level, rest)
        assert (a.cases["bounces"] != before).any() or level != Level.DISTRICT  # to the city: misrouted
        for col in a.cases.cols:
            np.testing.assert_array_equal(a.cases[col], b.cases[col], err_msg=f"{level} {col}")
    a, b = copy.deepcopy(m), copy.deepcopy(m)  # the review's move: one arrival time for all
    nxt = rng.integers(0, 6, rows.size)
    a.router.route(a.state, rows, nxt, np.full(rows.size, 500.0), 2)
    reference_route(b.router, b.state, rows, nxt, np.full(rows.size, 500.0), 2)
    for col in a.cases.cols:
        np.testing.assert_array_equal(a.cases[col], b.cases[col], err_msg=col)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 150), pools=st.integers(1, 12), share=st.floats(0.05, 1.0))
def test_balance_moves_match_numpy(seed, n, pools, share):
    rng = np.random.default_rng(seed)
    size = 2 * n + 1
    rows = np.sort(rng.choice(size, n, replace=False)).astype(np.int64)
    pool_col = rng.integers(0, pools, size).astype(np.int32)
    t_arrive = np.round(rng.uniform(0, 50, size), 1)  # ties in arrival
    case_id = rng.permutation(size).astype(np.int64)
    counts = rng.integers(0, 4, pools).astype(np.int64)
    district = np.sort(rng.integers(0, 3, pools)).astype(np.int64)
    got = _balance_moves(rows, pool_col, t_arrive, case_id, counts, district, share)
    want = reference_balance_moves(rows, pool_col, t_arrive, case_id, counts, district, share)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 120), pools=st.integers(1, 6))
def test_first_free_and_start_order(seed, n, pools):
    """can_start from the kept first free times equals a scan of the servers, before and after
    a day's service; the starts come in row order (what np.argsort of the positions gave)."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, pools)
    n_srv = int(counts.sum())
    ps = PoolSet(pools)
    ps.set_servers(np.repeat(np.arange(pools), counts), [1] * n_srv,
                   [rng.uniform(0, 30, 1) for _ in range(n_srv)], [rng.uniform(0.5, 2, 1) for _ in range(n_srv)])

    def scan(window):
        return np.array([counts[p] > 0 and ps.free[ps.ptr[p]:ps.ptr[p + 1]].min() < window for p in range(pools)],
                        dtype=bool)

    np.testing.assert_array_equal(ps.can_start(20.0), scan(20.0))
    pool = rng.integers(0, pools, n)
    arrive = rng.uniform(0, 40, n)
    key = rng.permutation(n).astype(np.int64)
    rows = np.arange(n, dtype=np.int64)
    pos, start, end, server = ps.serve_rows(rows, pool, arrive, rng.exponential(3.0, n), key, 40.0)
    assert (np.diff(pos) > 0).all()
    np.testing.assert_array_equal(end - start > 0, np.ones(pos.size, bool))
    np.testing.assert_array_equal(arrive[pos] <= start, np.ones(pos.size, bool))
    for window in (20.0, 40.0, 60.0):
        np.testing.assert_array_equal(ps.can_start(window), scan(window))


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 80), pools=st.integers(1, 300))
def test_fcfs_groups_by_sort_or_count_alike(seed, n, pools):
    """serve_fcfs_rows groups the cases by counting their pools, or by a stable sort of them
    (few cases in many pools): the same starts, in the same order, and the same free times."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 3, pools)
    ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    free0 = rng.uniform(0, 30, int(ptr[-1])) * (rng.random(int(ptr[-1])) < 0.5)
    speed = rng.uniform(0.5, 2.0, int(ptr[-1]))
    size = 2 * n + 1
    rows = np.sort(rng.choice(size, n, replace=False)).astype(np.int64)
    pool = rng.integers(0, pools, size).astype(np.int32)
    arrive = np.round(rng.uniform(0, 40, size), 1)
    key = rng.permutation(size).astype(np.int64)
    work = rng.exponential(3.0, n)
    out = []
    for by_pool in (np.zeros(0, np.int64), np.argsort(pool[rows], kind="stable")):
        free = free0.copy()
        out.append((*serve_fcfs_rows(rows, pool, arrive, key, work, free, speed, ptr, pools, 30.0, by_pool), free))
    for a, b in zip(*out, strict=True):
        np.testing.assert_array_equal(a, b)


def test_closed_and_kept_rows_match_stage_rows():
    rng = np.random.default_rng(2)
    stage = rng.choice(np.array([*range(len(Stage)), -1], dtype=np.int8), 5_000)  # -1: buried
    closed, kept = _closed_and_kept(stage, _IS_CLOSED, _IS_KEPT)
    np.testing.assert_array_equal(closed, stage_rows(stage, (Stage.RESOLVED, *UNRESOLVED)))
    np.testing.assert_array_equal(kept, stage_rows(stage, (*UNRESOLVED, Stage.LUMPED)))


def reference_stories(self, s) -> None:
    """StoryLog.__call__'s numpy formulation (fancy-indexed ring slots)."""
    tab = s.cases
    rows = _closed_rows(tab["stage"], int(Stage.RESOLVED))[-self.capacity:]
    n = rows.size
    if n == 0:
        return
    vals = {k: tab[k][rows] for k in _FIELDS if k not in ("trust_a", "trust_b")}
    a, b = vals["resident_a"], vals["resident_b"]
    vals["trust_a"] = s.residents.trust_of(a, tab["grid"][rows])
    vals["trust_b"] = np.where(b >= 0, s.residents.trust_of(np.maximum(b, 0), tab["grid"][rows]), np.nan)
    slots = (self.head + np.arange(n)) % self.capacity
    for k, v in vals.items():
        self.cols[k][slots] = v
    self.head = int((self.head + n) % self.capacity)
    self.size = min(self.size + n, self.capacity)


def test_story_ring_matches_numpy(monkeypatch):
    """The ring written in slices holds what fancy-indexed slots held, wrapping included."""
    logs = []
    for ref in (False, True):
        if ref:
            monkeypatch.setattr(StoryLog, "__call__", reference_stories)
        m = sim.CityModel(sim.load_scenario("town", {"world.emergence_multiplier": 3}), rng=6)
        m.stories.__init__(capacity=97)  # wraps every few days, unevenly
        m.run(30)
        logs.append(m.stories)
    assert logs[0].head == logs[1].head and logs[0].size == logs[1].size == 97
    for k in _FIELDS:
        np.testing.assert_array_equal(logs[0].cols[k], logs[1].cols[k], err_msg=k)


def test_trust_news_passes_match_numpy():
    rng = np.random.default_rng(3)
    n, size, grids = 400, 1_000, 30
    rows = np.sort(rng.choice(size, n, replace=False)).astype(np.int64)
    t_detect = rng.uniform(0, 500, size)
    t_close = t_detect + rng.exponential(200.0, size)
    t_detect[rows[:3]] = np.inf  # NaN and -inf hours as numpy gives them
    t_close[rows[:2]] = np.inf
    severity = rng.integers(0, 4, size).astype(np.int8)
    stage = rng.integers(4, len(Stage), size).astype(np.int8)
    grid = rng.integers(0, grids, size).astype(np.int32)
    fair, nb, gain = 72.0, 0.01, 0.9
    got = _satisfaction(rows, t_close, t_detect, severity, stage, _IS_UNRESOLVED, fair)
    with np.errstate(invalid="ignore"):
        hours = t_close[rows] - t_detect[rows]
        want = np.where(hours <= fair, 1.0, fair / np.maximum(hours, fair))
    want = np.where(np.isin(stage[rows], UNRESOLVED), 0.0, want)
    want = np.where(severity[rows] >= 2, want * 0.5, want)
    np.testing.assert_array_equal(got, want)
    weight = np.log1p(rng.integers(1, 9, n))
    a = rng.normal(0, 0.1, grids)
    b = a.copy()
    _shift_by_news(rows, want, weight, grid, a, nb, gain)
    news = want - 0.5
    news = np.where(news > 0, news * gain, news)
    np.add.at(b, grid[rows], nb * news * weight)
    np.testing.assert_array_equal(a, b)
