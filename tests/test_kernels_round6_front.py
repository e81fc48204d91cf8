"""Round 6 kernels of the front half of the day (issue 16): numpy's PCG64 and draws compiled
(sim/engine/pcg.py) and emergence's new-case kernels (sim/engine/front_kernels.py) give numpy's
numbers, in numpy's order, and leave the stream where numpy leaves it."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from sim.engine import pcg
from sim.engine.draws import poisson_cells
from sim.engine.front_kernels import arrival_draws, clock_draws, new_case_rows
from sim.engine.streams import Stream, Streams, _Hashed, load_kernel, root_sequence


@njit
def _draws(st, n):  # pragma: no cover - compiled
    raw = np.empty(n, np.uint64)
    uni, ex, nor = np.empty(n), np.empty(n), np.empty(n)
    geo = np.empty(n, np.int64)
    for i in range(n):
        raw[i] = pcg.next_uint64(st)
    for i in range(n):
        uni[i] = pcg.next_double(st)
    for i in range(n):
        ex[i] = pcg.standard_exponential(st)
    for i in range(n):
        nor[i] = pcg.standard_normal(st)
    for i in range(n):
        geo[i] = pcg.geometric(st, 0.05)
    return raw, uni, ex, nor, geo


def _words(pick: np.random.Generator) -> np.ndarray:
    return pick.integers(0, 2**63, 4, dtype=np.uint64) * np.uint64(2) + pick.integers(0, 2, 4, dtype=np.uint64)


@pytest.mark.parametrize("n", [1, 50, 20_000])
def test_pcg_draws_are_numpys(n: int) -> None:
    pick = np.random.default_rng(n)
    for _ in range(5):
        w = _words(pick)
        g = np.random.Generator(np.random.PCG64(_Hashed(w)))
        st = pcg.seeded(w)
        assert np.array_equal(pcg.from_generator(g), st)
        raw, uni, ex, nor, geo = _draws(st, n)
        assert np.array_equal(raw, g.bit_generator.random_raw(n))
        assert np.array_equal(uni, g.random(n))
        assert np.array_equal(ex, g.exponential(1.0, n))
        assert np.array_equal(nor, g.standard_normal(n))
        assert np.array_equal(geo, g.geometric(0.05, n))
        assert np.array_equal(pcg.from_generator(g), st)


def test_stream_state_is_the_generators() -> None:
    for compiled in (False, True):
        if compiled:
            load_kernel()
        streams = Streams(root_sequence(3))
        for day, quals in ((0, ()), (17, (2,)), (400, (1, 5))):
            g = streams.get(Stream.DETECTION, day, *quals)
            assert np.array_equal(streams.state(Stream.DETECTION, day, *quals), pcg.from_generator(g))


def test_poisson_cells_from_state_words() -> None:
    pick = np.random.default_rng(2)
    for scale in (0.0, 0.01, 2.0, 30.0):
        rate = pick.random((300, 5)) * scale
        w = _words(pick)
        g = np.random.Generator(np.random.PCG64(_Hashed(w)))
        st = pcg.seeded(w)
        counts = g.poisson(rate).ravel()
        assert np.array_equal(poisson_cells(st, rate), np.repeat(np.arange(counts.size), counts))
        assert np.array_equal(st, pcg.from_generator(g))


def _spawn_numpy(g, flat, n_cat, t0, start_of, size_of, collective, boost, pair, sev_cum, proactive, coll_action):
    # emergence's _spawn as numpy code (before round 6), residents picked uniformly
    n = flat.size
    grid, cat = flat // n_cat, flat % n_cat
    t = t0 + 24.0 * g.random(n)
    order = np.argsort(t, kind="stable")
    grid, cat, t = grid[order], cat[order], t[order]
    u = g.random((n, 4))
    res_a = start_of[grid] + (u[:, 0] * size_of[grid]).astype(np.int64)
    res_b = start_of[grid] + (u[:, 1] * size_of[grid]).astype(np.int64)
    share = np.minimum(collective[cat] + boost, 1.0)
    is_pair = u[:, 2] < pair[cat]
    is_coll = u[:, 2] >= 1.0 - share
    n_inv = np.where(is_pair, 2, 1)
    many = 10 + g.geometric(0.05, n) - 1
    n_inv = np.where(is_coll, many, n_inv)
    sev = (u[:, 3:4] >= sev_cum[cat][:, :3]).sum(axis=1).astype(np.int8)
    if not coll_action:
        sev = np.where(is_coll, np.maximum(sev, 1), sev)
    pro = g.random(n) < proactive[cat]
    return dict(category=cat, grid=grid, resident_a=res_a, resident_b=np.where(n_inv >= 2, res_b, -1),
                n_involved=n_inv, severity=sev, t_emerge=t, proactive_only=pro), res_b[n_inv >= 2]


@pytest.mark.parametrize("coll_action", [False, True])
def test_new_case_kernels_are_the_numpy_code(coll_action: bool) -> None:
    pick = np.random.default_rng(5)
    for trial in range(20):
        n_grids, n_cat = int(pick.integers(1, 40)), int(pick.integers(1, 6))
        size_of = pick.integers(1, 500, n_grids)
        start_of = np.concatenate([[0], np.cumsum(size_of)[:-1]])
        collective, pair, proactive = pick.random(n_cat) * 0.3, pick.random(n_cat), pick.random(n_cat)
        sev_cum = np.sort(pick.random((n_cat, 4)), axis=1)
        sev_cum[:, -1] = 1.0
        flat = np.sort(pick.integers(0, n_grids * n_cat, int(pick.integers(0, 300))))
        boost = np.where(pick.random(flat.size) < 0.2, 0.5, 0.0)
        w = _words(pick)
        g = np.random.Generator(np.random.PCG64(_Hashed(w)))
        want, want_b = _spawn_numpy(g, flat, n_cat, 48.0, start_of, size_of, collective, boost, pair, sev_cum,
                                    proactive, coll_action)
        st = pcg.seeded(w)
        grid, cat, t, u = arrival_draws(st, flat, n_cat, 48.0)
        res_a = start_of[grid] + (u[:, 0] * size_of[grid]).astype(np.int64)
        lo = int(pick.integers(0, 3))
        cols = dict(category=np.zeros(lo + flat.size, np.int16), grid=np.zeros(lo + flat.size, np.int32),
                    resident_a=np.zeros(lo + flat.size, np.int64), resident_b=np.zeros(lo + flat.size, np.int64),
                    n_involved=np.zeros(lo + flat.size, np.int32), severity0=np.zeros(lo + flat.size, np.int8),
                    severity=np.zeros(lo + flat.size, np.int8), t_emerge=np.zeros(lo + flat.size),
                    proactive_only=np.zeros(lo + flat.size, np.bool_))
        got_b = new_case_rows(st, grid, cat, t, u, res_a, start_of, size_of, collective, boost, pair, sev_cum,
                              proactive, 10, coll_action, lo, *cols.values())
        for k, v in want.items():
            assert np.array_equal(cols[k][lo:], v.astype(cols[k].dtype)), (trial, k)
        assert np.array_equal(cols["severity0"][lo:], want["severity"])
        assert np.array_equal(got_b, want_b)
        assert np.array_equal(st, pcg.from_generator(g))


def test_clock_draws_are_the_numpy_code() -> None:
    pick = np.random.default_rng(9)
    n_levels = 6
    for n in (0, 1, 37, 400):
        lo = 3
        m = lo + n
        words = [_words(pick) for _ in range(7)]
        gens = [np.random.Generator(np.random.PCG64(_Hashed(w))) for w in words]
        det, esc, svc, out, route, back, choice = gens
        t_emerge = pick.random(m) * 100
        want = {
            "detect_left": det.exponential(1.0, n), "fade_left": det.exponential(1.0, n),
            "channel_u": det.random(n), "lapse_left": det.exponential(1.0, n),
            "esc_thresholds": np.cumsum(esc.exponential(1.0, (n, 3)), axis=1),
            "service_u": svc.exponential(1.0, (n, n_levels)), "outcome_u": out.random((n, n_levels)),
            "difficulty": out.standard_normal(n), "route_u": route.random((n, n_levels)),
            "return_u": back.random(n), "return_wait": back.exponential(1.0, n),
        }
        cu = np.empty((n, 4))
        cu[:, :3] = choice.random((n, 3))
        cu[:, 3] = choice.exponential(1.0, n)
        f32 = ("channel_u", "esc_thresholds", "service_u", "outcome_u", "difficulty", "route_u", "return_u",
               "return_wait")
        cols = {"stage": np.full(m, 9, np.int8), "acc_from": np.zeros(m), "t_emerge": t_emerge}
        for k, v in want.items():
            cols[k] = np.zeros((m, *v.shape[1:]), np.float32 if k in f32 else np.float64)
        cols["choice_u"] = np.zeros((m, 4), np.float32)
        order = ("stage", "acc_from", "t_emerge", "detect_left", "fade_left", "channel_u", "lapse_left",
                 "esc_thresholds", "service_u", "outcome_u", "difficulty", "route_u", "return_u", "return_wait",
                 "choice_u")
        sts = [pcg.seeded(w) for w in words]
        clock_draws(*sts, lo, m, 0, *(cols[k] for k in order))
        for k, v in want.items():
            assert np.array_equal(cols[k][lo:], v.astype(cols[k].dtype)), k
        assert np.array_equal(cols["choice_u"][lo:], cu.astype(np.float32))
        assert (cols["stage"][lo:] == 0).all() and (cols["stage"][:lo] == 9).all()
        assert np.array_equal(cols["acc_from"][lo:], t_emerge[lo:])
        for st, g in zip(sts, gens, strict=True):
            assert np.array_equal(st, pcg.from_generator(g))


def test_choice_kernels_are_the_numpy_code() -> None:
    from sim.engine.cases import CITY_OPTIONS, Stage
    from sim.engine.choice import (
        _CITY,
        _PROTEST,
        CHANNEL_OF_OPTION,
        LUMP,
        NEGOTIATE,
        PETITION,
        PUBLIC,
        _choose,
        _shifted_utilities,
        pick,
        probabilities,
        utilities,
    )

    pick_rng = np.random.default_rng(4)
    params = {"asc": list(pick_rng.normal(0, 1, 8)), "days": list(pick_rng.random(8) * 30),
              "cost": list(pick_rng.random(8) * 3), "severity_coef": list(pick_rng.normal(0, 0.5, 8)),
              "time_weight": 0.05, "cost_weight": 0.4, "trust_weight": 1.3, "responsiveness_weight": 0.7,
              "distrust_weight": 0.9, "tension_weight": 1.1}
    for trial in range(20):
        m, n = 60, int(pick_rng.integers(0, 40))
        rows = np.sort(pick_rng.choice(m, n, replace=False))
        grid = pick_rng.integers(0, 10, n)
        resp, trust, tension = pick_rng.random(10), pick_rng.random(n), pick_rng.random(n)
        severity = pick_rng.integers(0, 4, m).astype(np.int8)
        collective = np.where(pick_rng.random(m) < 0.3 * (trial % 2), 1, 0).astype(np.int8)
        cu = pick_rng.random((m, 4)).astype(np.float32)
        t_act = pick_rng.random(n) * 24
        neg = 0.55
        # the numpy code of ChoiceModel.act before round 6
        util = utilities(params, trust, resp[grid], tension, severity[rows])
        group = collective[rows] == 1
        mask = None
        if group.any():
            mask = np.ones((n, 8), dtype=bool)
            mask[group, LUMP] = mask[group, NEGOTIATE] = False
        first = pick(probabilities(util, mask), cu[rows, 0])
        failed = (first == NEGOTIATE) & (cu[rows, 1] >= neg)
        others = np.ones(8, dtype=bool)
        others[NEGOTIATE] = False
        second = pick(probabilities(util, others), cu[rows, 2])
        final = np.where(failed, second, first)
        tried = ((1 << first) | np.where(failed, 1 << second, 0)).astype(np.uint8)
        city = np.isin(final, CITY_OPTIONS)
        # the kernels
        base = (np.asarray(params["asc"]) - params["time_weight"] * np.asarray(params["days"])
                - params["cost_weight"] * np.asarray(params["cost"]))
        z = _shifted_utilities(base, np.asarray(params["severity_coef"]), 1.3, 0.7, 0.9, 1.1, trust, resp, grid,
                               tension, severity, rows, _CITY.astype(float), _PROTEST.astype(float))
        cols = {"tried": np.zeros(m, np.uint8), "entry": np.full(m, -1, np.int8), "stage": np.zeros(m, np.int8),
                "t_close": np.full(m, np.inf), "detect_left": np.zeros(m), "t_detect": np.full(m, np.inf),
                "channel": np.full(m, -1, np.int8)}
        ci, ch = _choose(np.exp(z), rows, t_act, collective, cu, np.float32(neg), *cols.values(), CHANNEL_OF_OPTION,
                         int(Stage.SETTLED), int(Stage.PETITIONED), int(Stage.WENT_PUBLIC), int(Stage.REPORTING))
        assert np.array_equal(ci, rows[city]) and np.array_equal(ch, final[city])
        assert np.array_equal(cols["tried"][rows], tried)
        assert np.array_equal(cols["entry"][rows], final)
        assert np.array_equal(cols["t_detect"][rows[city]], t_act[city])
        assert np.array_equal(cols["channel"][rows[city]], CHANNEL_OF_OPTION[final[city]])
        lump = rows[final == LUMP]
        assert np.array_equal(cols["detect_left"][lump], cu[lump, 3].astype(np.float64))
        for option, stage in ((NEGOTIATE, Stage.SETTLED), (PETITION, Stage.PETITIONED), (PUBLIC, Stage.WENT_PUBLIC)):
            out = final == option
            assert (cols["stage"][rows[out]] == stage).all()
            assert np.array_equal(cols["t_close"][rows[out]], t_act[out])


def test_channel_pick_is_the_numpy_code() -> None:
    from sim.engine.detection import _channel_pick

    pick_rng = np.random.default_rng(8)
    for n in (0, 1, 300):
        h_d = pick_rng.random((n, 5)) * 10.0 ** pick_rng.uniform(-6, 0, (n, 5))
        h_d[pick_rng.random((n, 5)) < 0.3] = 0.0
        h_d[:, 4] += 1e-9  # a positive total, as for every detected row
        instant = pick_rng.random(n) < 0.2
        channel_u = pick_rng.random(n + 7).astype(np.float32)
        di = pick_rng.choice(n + 7, n, replace=False)
        got = _channel_pick(h_d.copy(), instant, channel_u, di)
        hd = h_d.copy()  # detection's numpy code before round 6
        hd[instant, :4] = 0.0
        hd[instant, 4] = 1.0
        share = np.cumsum(hd, axis=1) / hd.sum(axis=1, keepdims=True)
        want = (channel_u[di][:, None] >= share[:, :-1]).sum(axis=1)
        assert np.array_equal(got, want)


def test_perceive_is_the_numpy_code() -> None:
    from sim.engine.cases import Stage
    from sim.engine.choice import _perceive

    pick_rng = np.random.default_rng(12)
    for n_rows in (0, 5, 2000):
        n_grids, fair, memory = 40, 48.0, 20.0
        stage = pick_rng.integers(0, len(Stage), n_rows).astype(np.int8)
        t_detect = pick_rng.random(n_rows) * 500
        t_close = t_detect + pick_rng.exponential(60.0, n_rows)
        grid = pick_rng.integers(0, n_grids, n_rows).astype(np.int32)
        r = pick_rng.random(n_grids)
        want = r.copy()
        rows = np.flatnonzero(np.isin(stage, (Stage.RESOLVED, Stage.LAPSED, Stage.UNRESOLVED)))
        if rows.size:  # perceive's numpy code before round 6
            failed = stage[rows] != Stage.RESOLVED
            sat = np.where(failed, 0.0, fair / np.maximum(t_close[rows] - t_detect[rows], fair))
            n = np.bincount(grid[rows], minlength=n_grids)
            total = np.bincount(grid[rows], weights=sat, minlength=n_grids)
            hit = n > 0
            want[hit] += n[hit] / (n[hit] + memory) * (total[hit] / n[hit] - want[hit])
        _perceive(stage, t_close, t_detect, grid, int(Stage.RESOLVED), int(Stage.LAPSED), int(Stage.UNRESOLVED),
                  fair, memory, r)
        assert r.tobytes() == want.tobytes()


def _cascade_numpy(n, mean, sd, rng):
    # collective.cascade's numpy code before round 6
    from scipy import special

    level = np.zeros(n.size)
    f_level = special.ndtr((level - mean) / sd)
    acted = rng.binomial(n, f_level)
    while True:
        grow = acted > level
        if not grow.any():
            return acted
        new_level = acted[grow].astype(np.float64)
        f_new = special.ndtr((new_level - mean[grow]) / sd)
        p = np.clip((f_new - f_level[grow]) / np.maximum(1.0 - f_level[grow], 1e-300), 0.0, 1.0)
        acted[grow] += rng.binomial(n[grow] - acted[grow], p)
        level[grow], f_level[grow] = new_level, f_new


def test_compiled_cascade_is_the_numpy_code() -> None:
    from sim.engine.collective import cascade

    pick_rng = np.random.default_rng(21)
    for trial in range(40):
        k = int(pick_rng.integers(1, 200))
        n = pick_rng.integers(0, 400, k) * (pick_rng.random(k) < 0.9)
        mean = np.full(k, float(pick_rng.uniform(0.5, 60)))
        sd = float(pick_rng.uniform(1, 30))
        seed = int(pick_rng.integers(1 << 60))
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        assert np.array_equal(cascade(n, mean, sd, a), _cascade_numpy(n, mean, sd, b)), trial
        assert a.bit_generator.state == b.bit_generator.state
