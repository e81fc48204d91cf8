"""Round 8 (trust, contagion, collective): the compiled formulations against the numpy ones they
replaced, bit for bit, on small random inputs (edge cases included)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.resident_kernels import _move_trust


def _move_trust_before(trust, trust_sum, start, idx, target, rate):
    """``ResidentTable.move_trust`` as numpy computed it (the reference)."""
    idx, first = np.unique(idx, return_index=True)
    target = np.asarray(target, dtype=np.float32)[first] if np.ndim(target) else target
    old = trust[idx]
    new = np.clip(old + rate * (target - old), 0.0, 1.0).astype(np.float32)
    trust[idx] = new
    np.add.at(trust_sum, np.searchsorted(start, idx, side="right") - 1, (new - old).astype(np.float64))


def _residents(rng, n_grids):
    sizes = rng.integers(0, 6, n_grids)  # empty grids too
    sizes[rng.integers(0, n_grids)] += 1  # at least one resident
    start = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    trust = rng.random(int(start[-1])).astype(np.float32)
    special = np.array([0.0, -0.0, 1.0, np.nan, -0.25, 1.5], np.float32)
    pick = rng.random(trust.size) < 0.2
    trust[pick] = rng.choice(special, int(pick.sum()))
    trust_sum = rng.random(n_grids) * 10.0 ** rng.integers(-3, 6, n_grids)
    return start, trust, trust_sum


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 40), st.integers(0, 60), st.sampled_from([0.1, 0.05, 0.5, 1.0, 0.0, 2.0, 1e-8]),
       st.integers(0, 2**32 - 1))
def test_move_trust_is_the_numpy_formulation(n_grids, n, rate, seed):
    rng = np.random.default_rng(seed)
    start, trust, trust_sum = _residents(rng, n_grids)
    idx = rng.integers(0, trust.size, n)  # repeats: the first entry counts
    target = rng.random(n)
    special = np.array([0.0, -0.0, 1.0, 0.5, np.nan, -1.0, 3.0, 1e-40, 1.0000001])
    pick = rng.random(n) < 0.3
    target[pick] = rng.choice(special, int(pick.sum()))
    want_t, want_s = trust.copy(), trust_sum.copy()
    _move_trust_before(want_t, want_s, start, idx, target, rate)
    _move_trust(idx, target, np.float32(rate), trust, trust_sum, start)
    assert trust.tobytes() == want_t.tobytes() and trust_sum.tobytes() == want_s.tobytes()


def test_move_trust_through_the_table_uses_both_paths_alike():
    # the table's method: the compiled pass for array targets, numpy otherwise (a scalar target)
    from types import SimpleNamespace

    from sim.engine.residents import ResidentTable

    rng = np.random.default_rng(7)
    start, trust, trust_sum = _residents(rng, 30)
    tab = ResidentTable.__new__(ResidentTable)
    tab._state = np.zeros((trust.size, 4), np.float32)
    tab._set_views()
    tab.trust[:] = trust
    tab.trust_sum, tab.start = trust_sum.copy(), start
    tab.layout = SimpleNamespace(resident_start=start)
    idx = rng.integers(0, trust.size, 50)
    target = rng.random(50)
    want_t, want_s = trust.copy(), trust_sum.copy()
    _move_trust_before(want_t, want_s, start, idx, target, 0.1)
    tab.move_trust(idx, target, 0.1)
    assert tab.trust.tobytes() == want_t.tobytes() and tab.trust_sum.tobytes() == want_s.tobytes()
    _move_trust_before(want_t, want_s, start, idx, 0.0, 0.05)
    tab.move_trust(idx, 0.0, 0.05)  # scalar target: numpy's path
    assert tab.trust.tobytes() == want_t.tobytes() and tab.trust_sum.tobytes() == want_s.tobytes()
    tab.move_trust(idx[:0], target[:0], 0.1)  # nothing to move
    assert tab.trust.tobytes() == want_t.tobytes()


def _excite_before(exc, new, steps, m, m_esc, q, share, reach, nb):
    """Contagion's numpy formula: ``E = q E + (1 − q) K * (m new + m_esc steps)``, the neighbourhood
    sum over each grid's map cells in order (the reference of the compiled day)."""
    own = (m * new + m_esc * steps).astype(np.float64) * share[:, None]
    total = np.zeros_like(own)
    for j in range(9):
        h = nb[:, j]
        total[h >= 0] += own[h[h >= 0]]
    return exc * q + (1.0 - q) * (own + reach * (total - own))


@settings(max_examples=120, deadline=None)
@given(st.integers(1, 30), st.integers(1, 5), st.sampled_from([0.0, 0.1, 0.35, -0.2]),
       st.sampled_from([0.0, 0.05, -0.1]), st.sampled_from([0.3, 1.0, 0.01]), st.integers(0, 2**32 - 1))
def test_excite_day_is_the_numpy_formula_day_after_day(n, k, m, m_esc, reach, seed):
    from sim.engine.contagion import _excite_day, neighbour_of

    rng = np.random.default_rng(seed)
    nb = rng.integers(-1, n, (n, 9))  # any map: -1 off it, repeats and asymmetric cells too,
    nb[:, 4] = np.arange(n)  # but each grid in its own centre (as map_neighbours makes them)
    share = 1.0 / (1.0 + reach * rng.integers(0, 9, n))
    q = float(np.exp(-1.0 / rng.uniform(1.0, 30.0)))
    exc = rng.random((n, k)) * (rng.random((n, k)) < 0.7)
    steps_now = np.zeros((n, k), np.int64)
    steps_seen = steps_now.copy()
    new = np.zeros((n, k), np.int64)
    own, hit, near = np.empty((n, k)), np.empty(n, np.bool_), np.zeros(n, np.uint16)
    start, pos = neighbour_of(nb)
    for _day in range(3):
        today = (rng.random((n, k)) < 0.15) * rng.integers(1, 4, (n, k))
        steps = (rng.random((n, k)) < 0.1) * rng.integers(1, 3, (n, k))
        want = _excite_before(exc, today, steps, m, m_esc, q, share, reach, nb)
        new += today
        steps_now += steps
        _excite_day(exc, new, steps_now, steps_seen, m, m_esc, q, share, reach, nb, start, pos, own, hit, near)
        assert exc.tobytes() == want.tobytes()
        assert not new.any() and (steps_seen == steps_now).all() and not near.any()


def test_neighbour_of_inverts_the_map():
    from sim.engine.contagion import neighbour_of

    nb = np.array([[-1, 1, 2, 0, 0, -1, 2, 2, 1], [0] * 9, [-1] * 9])
    start, pos = neighbour_of(nb)
    for h in range(3):
        cells = sorted(int(p) for p in pos[start[h]:start[h + 1]])
        assert cells == sorted(g * 9 + j for g in range(3) for j in range(9) if nb[g, j] == h)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 40), st.integers(0, 2**32 - 1))
def test_parties_are_the_concatenation(n, seed):
    from sim.engine.trust import _parties

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 1000, 60)
    b = np.where(rng.random(60) < 0.4, -1, rng.integers(0, 1000, 60))
    rows = rng.integers(0, 60, n)
    target = rng.random(n)
    people, of = _parties(rows, a, b)
    both = b[rows] >= 0
    want = np.concatenate([a[rows], b[rows][both]])
    assert people.dtype == want.dtype and people.tobytes() == want.tobytes()
    assert target[of].tobytes() == np.concatenate([target, target[both]]).tobytes()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 80), st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_tally_free_resets_its_kept_buffers(n, n_cat, seed):
    # the per-key buffers are kept from day to day: whatever they held, the tallies are numpy's
    from sim.engine.collective import _tally_free

    rng = np.random.default_rng(seed)
    community_of = rng.integers(0, 5, 12).astype(np.int32)
    collective = rng.choice(np.array([0, 0, 1, 2], np.int8), n)
    grid = rng.integers(0, 12, n).astype(np.int32)
    category = rng.integers(0, n_cat, n).astype(np.int16)
    n_involved = rng.integers(1, 6, n).astype(np.int32)
    size = 5 * n_cat
    free = np.flatnonzero(collective == 0)
    key = community_of[grid[free]].astype(np.int64) * n_cat + category[free]
    agg, best = rng.random(size), rng.integers(-5, 50, size)
    best_n, last = rng.integers(-5, 50, size), rng.integers(-5, 50, size).astype(np.int32)
    chain = np.full(n, -7, np.int32)
    for _day in range(2):
        _tally_free(collective, grid, category, n_involved, community_of, n_cat, agg, best, best_n, last, chain, 0)
        assert agg.tobytes() == np.bincount(key, weights=n_involved[free], minlength=size).tobytes()
        order = np.lexsort((free, -n_involved[free], key))
        keys, first = np.unique(key[order], return_index=True)
        want = np.full(size, -1)
        want[keys] = free[order[first]]
        assert (best == want).all()
        for k in range(size):  # each key's chain: its free rows, last first
            rows, i = [], last[k]
            while i >= 0:
                rows.append(int(i))
                i = chain[i]
            assert rows == [int(r) for r in free[key == k][::-1]]


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 300), st.sampled_from([1, 2, 255, 256, 70_000, 13_000_000, 2**40, 2**62]),
       st.booleans(), st.integers(0, 2**32 - 1))
def test_stable_order_is_numpys_stable_argsort(n, top, negative, seed):
    from sim.engine.resident_kernels import _stable_order

    rng = np.random.default_rng(seed)
    keys = rng.integers(-top if negative else 0, top, n)
    keys[rng.random(n) < 0.3] = rng.integers(0, top, 1)  # many ties
    assert _stable_order(keys).tobytes() == np.argsort(keys, kind="stable").astype(np.int64).tobytes()
