"""Large passes split over threads (sim/engine/split.py): the parts cover every row and column
once, in order, and a run gives the same numbers to the bit with one thread or two."""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.engine import split
from sim.engine.cases import COLUMNS, CaseTable
from sim.engine.queue_heads import level_heads_in_parts
from tests.test_kernels_round8_service import _queue, reference_heads


@pytest.fixture
def small_split(monkeypatch):
    """Every pass split, however few its rows, with the number of threads given; restored after."""
    monkeypatch.setattr(split, "SPLIT_MIN_ROWS", 1)
    yield split.set_threads
    split.set_threads(split.default_threads())


@given(n=st.integers(0, 5000), k=st.integers(1, 7))
def test_row_parts_cover_the_rows_in_order(n, k):
    split.set_threads(k)
    try:
        parts = split.row_parts(n)
    finally:
        split.set_threads(split.default_threads())
    assert len(parts) == (k if n >= split.SPLIT_MIN_ROWS else 1)
    assert parts[0][0] == 0 and parts[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(parts, parts[1:], strict=False))


@given(widths=st.lists(st.integers(1, 64), min_size=1, max_size=40), k=st.integers(1, 5))
def test_column_parts_cover_the_columns_with_balanced_bytes(widths, k):
    split.set_threads(k)
    try:
        parts = split.column_parts(split.SPLIT_MIN_ROWS, widths)
    finally:
        split.set_threads(split.default_threads())
    assert parts[0][0] == 0 and parts[-1][1] == len(widths)
    assert all(a[1] == b[0] and a[1] > a[0] for a, b in zip(parts, parts[1:], strict=False))
    assert len(parts) <= min(k, len(widths))
    # no group holds more than its share plus its widest column
    share = sum(widths) / min(k, len(widths))
    assert all(sum(widths[a:b]) <= share + max(widths[a:b]) for a, b in parts)


def test_small_tables_are_not_split():
    assert split.row_parts(split.SPLIT_MIN_ROWS - 1) == [(0, split.SPLIT_MIN_ROWS - 1)]
    assert len(split.column_parts(split.SPLIT_MIN_ROWS - 1, [8] * 10)) == 1


@pytest.mark.parametrize("raw", ["0", "65", "two", "1.5"])
def test_bad_thread_counts_name_the_variable(monkeypatch, raw):
    monkeypatch.setenv(split.THREADS_ENV, raw)
    with pytest.raises(ValueError, match=f"{split.THREADS_ENV}='{raw}': must be an integer from 1 to 64"):
        split.default_threads()
    with pytest.raises(ValueError):
        split.set_threads(0)


def test_thread_count_from_the_environment(monkeypatch):
    monkeypatch.setenv(split.THREADS_ENV, "3")
    assert split.default_threads() == 3
    monkeypatch.delenv(split.THREADS_ENV)
    assert 1 <= split.default_threads() <= 2


def test_cli_refuses_a_bad_thread_count(monkeypatch, capsys):
    from sim.cli import main

    monkeypatch.setenv(split.THREADS_ENV, "many")
    assert main(["scenarios"]) == 2
    assert "CITYRISK_THREADS='many'" in capsys.readouterr().err


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), k=st.integers(2, 4))
def test_split_compaction_equals_boolean_indexing(seed, k):
    rng = np.random.default_rng(seed)
    old = split.SPLIT_MIN_ROWS
    split.SPLIT_MIN_ROWS = 1
    split.set_threads(k)
    try:
        tab = CaseTable(capacity=16)
        sl = tab.append(int(rng.integers(1, 300)))
        for name, (dt, _f, shape) in COLUMNS.items():
            if name != "case_id":
                tab[name][sl] = (rng.random((sl.stop, *shape)) * 100).astype(dt)
        ref = {name: tab[name].copy() for name in COLUMNS}
        mask = rng.random(len(tab)) < rng.random()
        tab.drop(np.flatnonzero(mask))
    finally:
        split.SPLIT_MIN_ROWS = old
        split.set_threads(split.default_threads())
    for name in COLUMNS:
        np.testing.assert_array_equal(tab[name], ref[name][~mask], err_msg=name)


def _fingerprint(threads: int, set_threads, calls: list[int]) -> str:
    set_threads(threads)
    m = sim.CityModel(sim.load_scenario("town", {"world.emergence_multiplier": 3}), rng=5).run(60)
    h = hashlib.sha256(m.timeseries().to_csv().encode())
    h.update(repr(sorted(m.kpis().items())).encode())
    for name in COLUMNS:
        h.update(np.ascontiguousarray(m.cases[name]).tobytes())
    return h.hexdigest()


def test_a_run_is_the_same_with_one_thread_or_two(small_split, monkeypatch):
    calls: dict[str, list[int]] = {}
    real = split.in_parts

    def counting(seen: list[int]):
        def in_parts(fn, parts):
            seen.append(len(parts))
            return real(fn, parts)
        return in_parts

    for module in ("sim.outcomes.compute", "sim.engine.lapse", "sim.engine.cases", "sim.engine.queue_heads",
                   "sim.engine.collective"):
        monkeypatch.setattr(f"{module}.in_parts", counting(calls.setdefault(module, [])))
    one = _fingerprint(1, small_split, [])
    assert all(set(seen) <= {1} for seen in calls.values())  # one part (the compaction: no call)
    for seen in calls.values():
        seen.clear()
    two = _fingerprint(2, small_split, [])
    # every split pass ran in two parts on most of the 60 days (the compaction every few days)
    assert all(seen.count(2) >= 10 for seen in calls.values()), {m: seen.count(2) for m, seen in calls.items()}
    assert one == two


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 400), n_pools=st.sampled_from([1, 3, 12, 40, 150]),
       k=st.sampled_from([1, 2, 4, 32]),
       listed=st.booleans(), threads=st.integers(2, 4))
def test_split_queue_heads_match_reference(seed, n, n_pools, k, listed, threads):
    """The heads of every pool's queue from parts of the rows: the same heads, waiting count, cut
    pools, ending rows and stage marks as the plain loop (few pools: the parts' heads overlap; many: a pool cut in one part only)."""
    rng = np.random.default_rng(seed)
    scratches: dict[int, tuple] = {}

    def scratch(i):
        return scratches.setdefault(i, (np.empty((n_pools, k), np.int64), np.zeros(n_pools, np.int64),
                                        np.zeros(n_pools, np.int64), np.full(n_pools, -np.inf),
                                        np.empty(n_pools, np.int64)))

    old = split.SPLIT_MIN_ROWS
    split.SPLIT_MIN_ROWS = 1
    split.set_threads(threads)
    try:
        level_col, stage, t_arrive, t_end, key, pool, first_free = _queue(rng, n, n_pools, 3)
        want_stage = stage.copy()
        want = reference_heads(level_col, want_stage, t_arrive, t_end, key, 3, 24.0, pool, first_free, k)
        rows = np.flatnonzero(level_col == 3) if listed else None
        cols = (level_col, stage, t_arrive, t_end, key, 3, 24.0, pool, first_free)
        heads, n_wait, cut, done = level_heads_in_parts(rows, cols, scratch, n if rows is None else rows.size)
    finally:
        split.SPLIT_MIN_ROWS = old
        split.set_threads(split.default_threads())
    np.testing.assert_array_equal(np.sort(heads), want[0])
    assert n_wait == want[1]
    np.testing.assert_array_equal(np.sort(cut), want[2])
    np.testing.assert_array_equal(done, want[3])
    np.testing.assert_array_equal(stage, want_stage)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), threads=st.integers(2, 4))
def test_split_collective_tally_matches_one_pass(seed, threads):
    """Collective action's tally from parts of the rows: the same aggrieved sums, the same best row
    (the first of the largest: ties across parts go to the earlier) and the same rows linked per
    community and category as one pass."""
    model = _town()
    tab, coll = model.cases, model.collective
    rng = np.random.default_rng(seed)
    tab["n_involved"][:] = rng.integers(1, 4, tab.n)  # many ties
    tab["collective"][:] = rng.choice(np.array([0, 0, 0, 1, 2], np.int8), tab.n)
    n_cat = model.state.categories.n
    got = []
    old = split.SPLIT_MIN_ROWS
    split.SPLIT_MIN_ROWS = 1
    try:
        for k in (1, threads):
            split.set_threads(k)
            chain = np.full(tab.n, -7, np.int32)
            lasts = coll._tally(tab, model.layout.community_of, n_cat, chain)
            linked = []
            for key in range(coll._last.size):
                rows = []
                for last in lasts:
                    i = last[key]
                    while i >= 0:
                        rows.append(int(i))
                        i = chain[i]
                linked.append(sorted(rows))
            got.append((coll._aggrieved.copy(), coll._best.copy(), coll._best_n.copy(), linked))
    finally:
        split.SPLIT_MIN_ROWS = old
        split.set_threads(split.default_threads())
    (a1, b1, n1, l1), (a2, b2, n2, l2) = got
    assert a1.tobytes() == a2.tobytes()
    np.testing.assert_array_equal(b1, b2)
    np.testing.assert_array_equal(n1[b1 >= 0], n2[b2 >= 0])
    assert l1 == l2


@functools.cache
def _town() -> sim.CityModel:
    return sim.CityModel(sim.load_scenario("town", {"world.emergence_multiplier": 3}), rng=5).run(30)


def test_models_stepped_in_threads_of_their_own_share_the_pool(small_split):
    """The app steps each session's model in a thread of its own: two runs at once, every pass
    split, give what each gives alone (the pool is shared; every part's buffers are its model's)."""
    import threading

    small_split(2)
    alone = _fingerprint(2, small_split, [])
    got: list[str] = []
    runs = [threading.Thread(target=lambda: got.append(_fingerprint(2, small_split, []))) for _ in range(2)]
    for t in runs:
        t.start()
    for t in runs:
        t.join()
    assert got == [alone, alone]
