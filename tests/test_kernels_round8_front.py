"""Round 8 kernels of the front half of the day (emergence, detection, channel choice, routing):
each gives what the code it replaces gave, bit for bit (old code kept here as the reference)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine.cases import HOTLINE, N_DETECTION_CLOCKS, Stage
from sim.engine.choice import LUMP
from sim.engine.detection import _channel_pick, _latent
from sim.engine.front_kernels import stable_order
from sim.engine.levels import Level


def model(days: int = 40, **over: object) -> sim.CityModel:
    scn = sim.load_scenario("town", {"city.residents": 60_000, "world.emergence_multiplier": 5,
                                     "levers.responsibility_clarity": 0.3, **over})
    m = sim.CityModel(scn, rng=5).run(days)
    m.state.cases.compact()  # every row an open case: the tests fill columns of len(table) rows
    return m


# ----------------------------------------------------------------- emergence: arrival order
@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.0, 1.0, exclude_max=True), max_size=200), st.sampled_from([0.0, 24.0, 9_000.0, 1e7]),
       st.integers(0, 7))
def test_stable_order_is_numpys_stable_argsort(u: list[float], t0: float, ties: int) -> None:
    x = np.asarray(u, dtype=np.float64)
    if ties:  # few distinct times: ties everywhere
        x = np.floor(x * ties) / ties
    t = t0 + 24.0 * x
    assert np.array_equal(stable_order(t, t0, 24.0), np.argsort(t, kind="stable"))


def test_stable_order_edges() -> None:
    for t in (np.zeros(0), np.full(5, 48.0), np.full(7, 72.0), np.array([72.0, 48.0, 60.0, 48.0]),
              np.nextafter(72.0, 0.0) - np.arange(4) * 1e-13):
        assert np.array_equal(stable_order(t, 48.0, 24.0), np.argsort(t, kind="stable"))
    pick = np.random.default_rng(3)
    for n in (1, 2, 1_500, 20_000):
        t = 240.0 + 24.0 * pick.random(n)
        assert np.array_equal(stable_order(t, 240.0, 24.0), np.argsort(t, kind="stable"))



# ----------------------------------------------------------------- emergence: rates in the draws' pass
@settings(max_examples=150, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60), st.integers(1, 6),
       st.sampled_from([1e-4, 0.02, 0.5, 3.0, 40.0]), st.sampled_from([1.0, 0.5, 0.0]))
def test_poisson_outer_is_poisson_cells_of_the_rates(seed: int, n_grids: int, n_cat: int, scale: float,
                                                    factor: float) -> None:
    from sim.engine.draws import poisson_cells, poisson_outer

    rng = np.random.default_rng(seed)
    per_grid = rng.integers(0, 5_000, n_grids)
    per_grid[rng.random(n_grids) < 0.2] = 0
    weight = rng.gamma(4.0, 0.25, n_grids)
    per_cat = rng.random(n_cat) * scale / 1_000.0
    rate = per_grid * weight
    rate = rate[:, None] * per_cat[None, :]
    if factor != 1.0:
        rate = rate * factor
    words = rng.integers(0, 2**63, 4, dtype=np.uint64)
    want_st, got_st = words.copy(), words.copy()
    want = poisson_cells(want_st, rate)
    got = poisson_outer(got_st, per_grid, weight, per_cat, factor)
    if got is None:  # a rate of 10 or more: numpy's own draws, the state untouched
        assert rate.max() >= 10.0 and np.array_equal(got_st, words)
    else:
        assert np.array_equal(got, want) and np.array_equal(got_st, want_st)


_SHOCKS = [{"name": "flood", "category": "", "multiplier": 3.0, "start_day": 3, "days": 4, "share_of_grids": 0.4,
            "collective_boost": 0.2}]


@pytest.mark.parametrize("over", [{}, {"world.contagion_magnitude": 0.0, "world.contagion_escalation_magnitude": 0.0},
                                  {"shocks": _SHOCKS}])
def test_emergence_without_the_rate_array_is_the_array_path(over: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    # the fused day (poisson_outer) against the rate array every day (daily_rates, split, poisson_cells)
    from sim.engine import emergence

    over = dict(over)
    shocks = over.pop("shocks", [])
    runs = []
    for fused in (True, False):
        if not fused:
            monkeypatch.setattr(emergence, "poisson_outer", lambda *a: None)
        scn = sim.load_scenario("town", {"city.residents": 60_000, **over})
        m = sim.CityModel(scn, rng=3)
        if shocks:  # a shock from day 3 to day 6 (the scenarios' shocks are tables, not overrides)
            m.state.world["shocks"] = copy.deepcopy(shocks)
            m.emergence.shock_masks = emergence.Emergence(m.state, m.emergence.calendar).shock_masks
        m.run(12)
        runs.append((m.timeseries().to_csv(), {c: m.cases[c].copy() for c in m.cases.cols}))
    assert runs[0][0] == runs[1][0]
    for c, v in runs[0][1].items():
        np.testing.assert_array_equal(v, runs[1][1][c], err_msg=c)


# ----------------------------------------------------------------- channel choice
@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([0.5, 5.0, 60.0]))
def test_choose_is_the_numpy_code(seed: int, spread: float) -> None:
    # _choose (round 8: no scratch array, the second choice only after a failed negotiation, the
    # inverse CDF stopped at the first share above the uniform) against ChoiceModel.act's numpy
    # code; utilities spread wide enough that many shares underflow (a row whose available shares
    # all do would divide by 0: numba raises, before round 8 too, and the model never has one)
    from sim.engine.cases import CITY_OPTIONS, Stage
    from sim.engine.choice import CHANNEL_OF_OPTION, LUMP, NEGOTIATE, _choose, pick, probabilities

    rng = np.random.default_rng(seed)
    m, n = 50, int(rng.integers(0, 40))
    rows = np.sort(rng.choice(m, n, replace=False))
    util = rng.normal(0.0, spread, (n, 8))
    collective = (rng.random(m) < 0.3).astype(np.int8)
    cu = rng.random((m, 4)).astype(np.float32)
    cu[rng.random((m, 4)) < 0.05] = 0.0
    t_act = rng.random(n) * 24
    neg = np.float32(rng.choice([0.0, 0.5, 1.0]))
    group = collective[rows] == 1
    mask = np.ones((n, 8), dtype=bool)
    mask[group, LUMP] = mask[group, NEGOTIATE] = False
    with np.errstate(invalid="ignore"):
        first = pick(probabilities(util, mask), cu[rows, 0])
        others = np.ones(8, dtype=bool)
        others[NEGOTIATE] = False
        second = pick(probabilities(util, others), cu[rows, 2])
    failed = (first == NEGOTIATE) & (cu[rows, 1] >= neg)
    final = np.where(failed, second, first)
    tried = ((1 << first) | np.where(failed, 1 << second, 0)).astype(np.uint8)
    city = np.isin(final, CITY_OPTIONS)
    cols = {"tried": np.zeros(m, np.uint8), "entry": np.full(m, -1, np.int8), "stage": np.zeros(m, np.int8),
            "t_close": np.full(m, np.inf), "detect_left": np.zeros(m), "t_detect": np.full(m, np.inf),
            "channel": np.full(m, -1, np.int8)}
    z = util - util.max(axis=1, keepdims=True)
    ci, ch = _choose(np.exp(z), rows, t_act, collective, cu, neg, *cols.values(), CHANNEL_OF_OPTION,
                     int(Stage.SETTLED), int(Stage.PETITIONED), int(Stage.WENT_PUBLIC), int(Stage.REPORTING))
    assert np.array_equal(ci, rows[city]) and np.array_equal(ch, final[city])
    assert np.array_equal(cols["tried"][rows], tried)
    assert np.array_equal(cols["entry"][rows], final)


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 60))
def test_walk_split_is_the_numpy_code(seed: int, n: int) -> None:
    from sim.engine.choice import COURT, MEDIATION, _walk_split

    rng = np.random.default_rng(seed)
    m = 3 * n + 1
    ci = np.sort(rng.choice(m, n, replace=False)).astype(np.int64)
    ch = rng.integers(2, 6, n)  # the city's options: grid, hotline, mediation, court
    category = rng.integers(0, 4, m).astype(np.int16)
    severity = rng.integers(0, 4, m).astype(np.int8)
    entry_level = rng.integers(0, len(Level), (4, 4)).astype(np.int64)
    walk = ((ch == MEDIATION) & (entry_level[category[ci], severity[ci]] <= Level.COMMUNITY)) | (ch == COURT)
    wi, wl, ti = _walk_split(ci, ch, category, severity, entry_level, MEDIATION, COURT, int(Level.COMMUNITY),
                             int(Level.COURT))
    assert np.array_equal(wi, ci[walk]) and np.array_equal(ti, ci[~walk])
    assert np.array_equal(wl, np.where(ch[walk] == COURT, int(Level.COURT), int(Level.COMMUNITY)))


# ----------------------------------------------------------------- routing: triage
def reference_triage(router, s, rows):
    """Router.triage's numpy code before round 8."""
    tab = s.cases
    sev = tab["severity"][rows]
    spot = ((tab["channel"][rows] != HOTLINE) & (sev == 0)
            & (tab["route_u"][rows, Level.GRID] < router.handling["on_the_spot_share"])
            & (s.pools[Level.GRID].counts[tab["grid"][rows]] > 0))
    si = rows[spot]
    tab["level"][si] = Level.GRID
    tab["entry_level"][si] = Level.GRID
    tab["pool"][si] = tab["grid"][si]
    tab["t_arrive"][si] = tab["t_detect"][si]
    tab["levels_routed"][si] |= np.uint8(1 << Level.GRID)
    rest = rows[~spot]
    router.route(s, rest, router.entry_level(s, rest), tab["t_detect"][rest], router.handling["hops_to_platform"])
    tab["entry_level"][rest] = tab["level"][rest]


def test_triage_is_the_numpy_code() -> None:
    m = model()
    rng = np.random.default_rng(11)
    n = len(m.state.cases)
    tab = m.state.cases
    tab["channel"][:] = rng.integers(-1, 7, n)  # every channel, the hotline's among them
    tab["t_detect"][:] = rng.random(n) * 1000.0
    m.state.pools[Level.GRID].counts[rng.random(m.state.layout.n_grids) < 0.3] = 0  # grids without workers
    for share, clarity in ((0.6, 0.3), (0.7, 1.0), (0.0, 0.3), (1.0, 0.0)):
        # 0.7: a share whose float32 lies below it (the uniforms are compared in float32)
        tab["route_u"][:5, Level.GRID] = np.float32(share)
        rows = np.sort(rng.choice(n, n // 2, replace=False))
        for picked in (rows, rows[:0], rows[:1]):
            a, b = copy.deepcopy(m), copy.deepcopy(m)
            for x in (a, b):
                x.router.handling["on_the_spot_share"] = share
                x.state.levers.responsibility_clarity = clarity
            a.router.triage(a.state, picked)
            reference_triage(b.router, b.state, picked)
            for col in a.cases.cols:
                np.testing.assert_array_equal(a.cases[col], b.cases[col], err_msg=f"{share} {col}")


def reference_walk_in(router, s, rows, level):
    """Router.walk_in's numpy code before round 8."""
    tab = s.cases
    level = np.broadcast_to(np.asarray(level, dtype=np.int64), rows.shape)
    pool = router.pool_index(s, level, rows)
    tab["level"][rows] = level
    tab["pool"][rows] = pool
    tab["t_arrive"][rows] = tab["t_detect"][rows]
    tab["t_start"][rows] = np.inf
    tab["t_end"][rows] = np.inf
    tab["stage"][rows] = Stage.REPORTING
    tab["levels_routed"][rows] |= (1 << level).astype(np.uint8)
    tab["entry_level"][rows] = level


def test_walk_in_is_the_numpy_code() -> None:
    m = model()
    rng = np.random.default_rng(12)
    n = len(m.state.cases)
    m.state.cases["t_detect"][:] = rng.random(n) * 1000.0
    rows = np.sort(rng.choice(n, n // 3, replace=False))
    for level in (Level.COMMUNITY, Level.COURT, rng.integers(0, len(Level), rows.size)):
        for picked in (rows, rows[:0]):
            lv = level if np.ndim(level) == 0 else level[: picked.size]
            a, b = copy.deepcopy(m), copy.deepcopy(m)
            a.router.walk_in(a.state, picked, lv)
            reference_walk_in(b.router, b.state, picked, lv)
            for col in a.cases.cols:
                np.testing.assert_array_equal(a.cases[col], b.cases[col], err_msg=f"{level} {col}")


# ----------------------------------------------------------------- detection
def reference_detection(d, s):
    """Round 7's Detection.__call__: _latent's outcomes written by numpy (round 8: _settle)."""
    tab, t0, t1 = s.cases, s.clock.t0, s.clock.t1
    s.today["detected"] = 0
    lev, w, cats = s.levers, s.world, s.categories
    seen = lev.resource_integration + (1.0 - lev.resource_integration) / cats.n
    delay = float(w["report_delay_hours"])
    fade = w["self_resolution_per_day"] / 24.0 * w["lapse_severity_factor"] ** np.arange(4, dtype=np.float64)
    r = s.residents
    enabled = d.choice.enabled
    n_latent, di, h_d, t_det, t_from, fade_d, instant, fi, t_fade, lumped_f = _latent(
        tab["stage"], tab["grid"], tab["category"], tab["resident_a"], tab["proactive_only"],
        tab["entry_channel"], tab["severity"], tab["t_emerge"], tab["detect_left"], tab["fade_left"],
        s.pools[Level.GRID].counts, cats.patrol_visible, d.video_covered(s), r.propensity, r.trust,
        r.trust_shift, fade, float(t0), float(t1), LUMP, not enabled,
        float(w["patrol_visits_per_worker_day"]), float(w["patrol_detection_per_visit"]), float(seen),
        float(lev.screening_per_week / 7.0 * w["screening_detection"]), float(w["video_detection_per_day"]),
        float(lev.volunteer_participation * w["volunteer_detection_per_day"]), delay, np.float32(delay))
    if n_latent == 0:
        return
    channel = _channel_pick(h_d, instant, tab["channel_u"], di)
    tab["t_close"][fi] = t_fade
    tab["stage"][fi] = np.where(lumped_f, Stage.LUMPED, Stage.FADED)
    acted = channel == N_DETECTION_CLOCKS - 1
    if enabled and acted.any():
        ai = di[acted]
        tab["fade_left"][ai] -= fade_d[acted] * (t_det[acted] - t_from[acted])
        reached = d.choice.act(s, ai, t_det[acted])
        di, channel, t_found = di[~acted], channel[~acted], t_det[~acted]
    else:
        reached, t_found = di[:0], t_det
    tab["t_detect"][di] = t_found
    tab["channel"][di] = channel
    tab["stage"][di] = Stage.REPORTING
    s.today["detected"] = int(di.size + reached.size)
    d.router.triage(s, di)


@pytest.mark.parametrize("over", [{}, {"choice.enabled": False}, {"world.report_delay_hours": 0.0},
                                  {"choice.enabled": False, "world.report_delay_hours": 0.0}])
def test_detection_is_round_7s(over: dict) -> None:
    from sim.model import TIMESERIES_KEYS

    m = model(30, **over)
    rng = np.random.default_rng(len(over))
    for _day in range(6):
        tab = m.cases
        latent = np.flatnonzero(tab["stage"] == Stage.LATENT)
        # more of the rare outcomes: fading today, lumped, found only by the city's channels
        tab["fade_left"][latent[rng.random(latent.size) < 0.2]] = 1e-3
        tab["entry_channel"][latent[rng.random(latent.size) < 0.2]] = LUMP
        tab["proactive_only"][latent[rng.random(latent.size) < 0.1]] = True
        a, b = copy.deepcopy(m), copy.deepcopy(m)
        for x in (a, b):
            x.state.clock.start_day()
            x.state.today = dict.fromkeys(TIMESERIES_KEYS, 0)
            x.state.failures_today = []
        a.detection(a.state)
        reference_detection(b.detection, b.state)
        assert a.state.today == b.state.today
        for col in a.cases.cols:
            np.testing.assert_array_equal(a.cases[col], b.cases[col], err_msg=f"{over} {col}")
        m.run(1)
