"""Round 8 (backlog stages): the new kernels against the code they replaced, on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from sim.engine.case_kernels import compact_all
from sim.engine.cases import _ROW_BYTES, COLUMNS
from sim.engine.escalation import _neighbourhood_sum, _per_1000
from sim.engine.intrinsics import memmove


@njit(cache=True)
def _old_compact(flat, width, base, n, holes, j):  # pragma: no cover - compiled
    # the compaction of rounds 5-7 (one memmove per run of kept rows and column), as it was
    n_holes = holes.shape[0]
    write = (base + holes[j]) * width if j < n_holes else 0
    for h in range(j, n_holes):
        lo = (base + holes[h] + 1) * width
        hi = (base + (holes[h + 1] if h + 1 < n_holes else n)) * width
        if hi > lo:
            memmove(flat, write, lo, hi - lo)
            write += hi - lo
    if j > 0:
        write = (base + holes[j - 1] + 1) * width
        for h in range(j - 1, -1, -1):
            lo = (base + (holes[h - 1] + 1 if h > 0 else 0)) * width
            hi = (base + holes[h]) * width
            if hi > lo:
                write -= hi - lo
                memmove(flat, write, lo, hi - lo)


def _columns(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, ...]:
    """Random bytes in buffers shaped like the case table's columns (every width in use)."""
    return tuple(rng.integers(0, 256, rows * int(w), dtype=np.uint8) for w in _ROW_BYTES)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), spare=st.integers(0, 40),
       share=st.sampled_from([0.0, 0.02, 0.3, 0.9, 1.0]), side=st.floats(0.0, 1.0))
def test_compact_all_matches_memmove_runs(seed, n, spare, share, side):
    """Every byte of every buffer (dead rows included) is what the memmove compaction left."""
    rng = np.random.default_rng(seed)
    base = int(rng.integers(0, spare + 1))
    holes = np.flatnonzero(rng.random(n) < share).astype(np.int64)
    if holes.size == 0:
        holes = np.array([int(rng.integers(0, n))], dtype=np.int64)
    j = int(round(side * holes.size))  # every split: all on the left, all on the right, between
    flats = _columns(rng, base + n + spare)
    want = tuple(f.copy() for f in flats)
    for f, w in zip(want, _ROW_BYTES, strict=True):
        _old_compact(f, int(w), base, n, holes, j)
    compact_all(flats, _ROW_BYTES, base, n, holes, j)
    for got, ref in zip(flats, want, strict=True):
        assert got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("holes", [[0], [4], [0, 1, 2, 3, 4], [1, 3], [0, 4]])
def test_compact_all_edges(holes):
    """Holes at either end, every row a hole, adjacent holes; every split."""
    rng = np.random.default_rng(1)
    h = np.array(holes, dtype=np.int64)
    for j in range(h.size + 1):
        flats = _columns(rng, 9)
        want = tuple(f.copy() for f in flats)
        for f, w in zip(want, _ROW_BYTES, strict=True):
            _old_compact(f, int(w), 2, 5, h, j)
        compact_all(flats, _ROW_BYTES, 2, 5, h, j)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(flats, want, strict=True))


def test_row_bytes_cover_every_width():
    """The word widths compact_all dispatches on: 8, 4, 2 and 1 byte words all occur."""
    widths = {int(w) for w in _ROW_BYTES}
    assert len(COLUMNS) == len(_ROW_BYTES)
    assert any(w % 8 == 0 for w in widths) and any(w % 8 and w % 4 == 0 for w in widths)
    assert any(w % 4 and w % 2 == 0 for w in widths) and any(w % 2 for w in widths)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), grids=st.integers(1, 200), off=st.floats(0.0, 1.0))
def test_per_1000_matches_numpy(seed, grids, off):
    """The fused neighbour term: numpy's formula on the old neighbourhood sum, to the bit."""
    rng = np.random.default_rng(seed)
    nb = rng.integers(0, grids, (grids, 9)).astype(np.int64)
    nb[rng.random((grids, 9)) < off] = -1
    counts = rng.integers(0, 50, grids).astype(np.float64)
    counts[rng.random(grids) < 0.3] = 0.0
    near = rng.integers(0, 5000, grids).astype(np.float64)
    want = _neighbourhood_sum(counts[:, None].copy(), nb)[:, 0] / np.maximum(near, 1.0) * 1000.0
    got = _per_1000(counts, nb, np.maximum(near, 1.0))
    assert got.tobytes() == want.tobytes()


def _random_table(rng: np.random.Generator, n: int, t1: float) -> dict[str, np.ndarray]:
    """Columns the lapse and end-of-day passes read, with every stage (buried and closed too),
    capped and uncapped severities, exposures before and at ``t1``, waits either side of a review."""
    sev0 = rng.integers(0, 3, n).astype(np.int8)
    return {
        "stage": rng.choice(np.array([-1, 0, 1, 2, 2, 2, 3, 4, 7], np.int8), n),
        "level": rng.integers(-1, 6, n).astype(np.int8),
        "severity0": sev0,
        "severity": np.minimum(sev0 + rng.integers(0, 3, n), 3).astype(np.int8),
        "category": rng.integers(0, 3, n).astype(np.int16),
        "grid": rng.integers(0, 7, n).astype(np.int32),
        "t_arrive": np.where(rng.random(n) < 0.05, np.nan, t1 - rng.uniform(0, 400, n)),
        "acc_from": np.where(rng.random(n) < 0.3, t1, t1 - rng.uniform(0, 60, n)),
        "t_detect": np.where(rng.random(n) < 0.1, np.inf, t1 - rng.uniform(0, 80, n)),
        "hazard": rng.uniform(0, 0.05, n),
        "hazard_acc": rng.uniform(0, 2, n),
        "esc_thresholds": np.cumsum(rng.exponential(1.0, (n, 3)), axis=1).astype(np.float32),
        "t_severity2": np.full(n, np.inf),
        "lapse_left": rng.exponential(1.0, n),
    }


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400))
def test_end_of_day_over_the_rows_lapse_lists_matches_the_full_pass(seed, n):
    """The lapse pass's list holds every row the end-of-day pass acts on: that pass over the list
    gives the full pass's steps, lists, tallies and columns, to the bit (after the lapse stage's
    own writes, as in the plan)."""
    from sim.engine.escalation import _STREET_SCOPED, _end_of_day, _end_of_day_rows
    from sim.engine.lapse import _SEVERITIES, _spend

    rng = np.random.default_rng(seed)
    t0, t1 = 240.0, 264.0
    c = _random_table(rng, n, t1)
    entry = rng.integers(0, 6, (3, 4)).astype(np.int64)
    rules = (entry, 5, 72.0, _STREET_SCOPED, t1)
    rate = 0.02 / 24.0 * 0.5 ** _SEVERITIES.astype(np.float64)
    out, when, acts = _spend(c["stage"], c["acc_from"], c["t_detect"], c["severity"], c["lapse_left"], rate, t0, t1,
                             c["level"], c["category"], c["t_arrive"], *rules)
    c["stage"][out] = 7  # what the lapse stage does to the rows that ran out (their accrual aside)
    assert np.all(np.diff(acts) > 0)
    results = []
    for every in (True, False):
        d = {k: v.copy() for k, v in c.items()}
        by_grid, by_cat = np.zeros(7, np.int64), np.zeros((7, 3), np.int64)
        args = (d["stage"], d["level"], d["severity0"], d["severity"], d["category"], d["grid"], d["t_arrive"],
                d["acc_from"], d["hazard"], d["hazard_acc"], d["esc_thresholds"], d["t_severity2"], entry, 5, 72.0,
                _STREET_SCOPED, t0, t1, by_grid, by_cat)
        got = _end_of_day(*args) if every else _end_of_day_rows(acts, False, *args)
        results.append((got, d, by_grid, by_cat))
    (full, d1, g1, c1), (part, d2, g2, c2) = results
    assert full[0] == part[0]
    for a, b in zip(full[1:], part[1:], strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(g1, g2)
    np.testing.assert_array_equal(c1, c2)
    for k in d1:
        assert d1[k].tobytes() == d2[k].tobytes(), k


def test_lapse_then_escalation_stage_match_the_full_pass():
    """In a model: the escalation stage over the lapse stage's list, and over every row (the list
    forgotten), leave the same model; the list is taken when the table is as lapse left it."""
    import copy

    import sim

    scn = sim.load_scenario("town", {"city.residents": 20_000, "world.emergence_multiplier": 6,
                                     "world.lapse_per_day": 0.2, "world.escalation_hazard_per_hour": 0.004})
    m = sim.CityModel(scn, rng=5).run(25)
    s = m.state
    s.clock.start_day()
    s.today = {k: 0 for k in s.today}
    s.failures_today = []
    for stage in m.plan:
        if stage.name == "lapse":
            break
        stage.run(s)
    a, b = copy.deepcopy(m), copy.deepcopy(m)
    for mm, keep in ((a, True), (b, False)):
        mm.lapse(mm.state)
        if keep:
            expected = mm.escalation._expected
            assert expected is not None and expected[0] == mm.escalation._table_state(mm.state)
            assert 0 < expected[1].size < len(mm.state.cases)
        else:
            mm.escalation._expected = None
        mm.escalation.end_of_day(mm.state)
    assert a.state.today == b.state.today and a.state.today["escalations"] > 0
    np.testing.assert_array_equal(a.escalation.escalations_by_grid, b.escalation.escalations_by_grid)
    np.testing.assert_array_equal(a.escalation.steps_by_grid_category, b.escalation.steps_by_grid_category)
    for col in COLUMNS:
        assert a.state.cases[col].tobytes() == b.state.cases[col].tobytes(), col


def test_escalation_stage_follows_lapse_in_the_plan():
    """The escalation stage trusts the rows the lapse stage listed only while nothing writes the
    case table between them (Escalation.expect): a stage put between the two must clear
    ``escalation._expected`` first — this test fails until whoever inserts one has looked."""
    import sim

    names = sim.CityModel(sim.load_scenario("town", {"city.residents": 5_000}), rng=0).plan_names
    assert names.index("escalation") == names.index("lapse") + 1
