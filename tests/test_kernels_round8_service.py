"""Round 8, the handle stages (service, queues): the changed kernels against plain formulations
of what they did before, kept here as references; they agree bit for bit."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine import service
from sim.engine.cases import CaseTable
from sim.engine.intrinsics import repeat_byte
from sim.engine.queues import PoolSet
from sim.engine.service_kernels import with_ends


# ----------------------------------------------------------------------------- references
def reference_heads(level_col, stage, t_arrive, t_end, key, level, t1, pool, first_free, k):
    """The FCFS heads pass as a plain loop: waiting rows at ``level`` (REPORTING marked QUEUED),
    the ``k`` first of each pool that can start by (arrival, key), the waiting count of those
    pools, the pools with more waiting rows than kept, and the services ending before ``t1``."""
    can_start = first_free < t1
    by_pool: dict[int, list[int]] = {}
    done = []
    for i in range(stage.size):
        if level_col[i] != level:
            continue
        if stage[i] in (1, 2) and t_arrive[i] < t1:
            stage[i] = 2
            if can_start[pool[i]]:
                by_pool.setdefault(int(pool[i]), []).append(i)
        elif stage[i] == 3 and t_end[i] < t1:
            done.append(i)
    heads = sorted(i for rows in by_pool.values() for i in sorted(rows, key=lambda r: (t_arrive[r], key[r]))[:k])
    cut = sorted(p for p, rows in by_pool.items() if len(rows) > k)
    return np.array(heads, np.int64), sum(map(len, by_pool.values())), np.array(cut, np.int64), np.array(done, np.int64)


def reference_fcfs(rows, pool, arrive, key, work, free, speed, ptr, window):
    """FCFS per pool: the queue in (arrival, key) order, each head on the earliest-free server
    (lowest index on ties) at max(arrival, free time) while that is before ``window``."""
    starts = []
    for p in np.unique(pool[rows]):
        queue = sorted((r for r in range(rows.size) if pool[rows[r]] == p),
                       key=lambda r: (arrive[rows[r]], key[rows[r]]))
        lo, hi = ptr[p], ptr[p + 1]
        for r in queue:
            if hi <= lo:
                break
            s = lo + int(np.argmin(free[lo:hi]))
            t0 = max(arrive[rows[r]], free[s])
            if t0 >= window:
                break
            free[s] = t0 + work[r] / speed[s]
            starts.append((r, t0, free[s], s))
    starts.sort()
    return tuple(np.array([x[j] for x in starts], dt) for j, dt in enumerate((np.int64, float, float, np.int64)))


# ----------------------------------------------------------------------------- the heads pass
def _queue(rng, n, n_pools, level):
    level_col = rng.choice(np.array([-1, 0, 1, 2, 5], np.int8), n, p=[.1, .1, .1, .1, .6])
    level_col[rng.random(n) < 0.5] = level
    stage = rng.choice(np.array([0, 1, 2, 3, 4], np.int8), n, p=[.1, .3, .4, .15, .05])
    t_arrive = np.round(rng.uniform(0, 30, n), int(rng.integers(0, 3)))  # ties in arrival
    t_arrive[rng.random(n) < 0.05] = np.inf
    t_end = rng.uniform(0, 40, n)
    key = rng.permutation(n).astype(np.int64)
    pool = rng.integers(0, n_pools, n).astype(np.int32)
    first_free = rng.uniform(0, 40, n_pools)
    first_free[rng.random(n_pools) < 0.2] = np.inf  # pools without a server
    return level_col, stage, t_arrive, t_end, key, pool, first_free


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 400), n_pools=st.integers(1, 40), k=st.sampled_from([1, 2, 4, 32]),
       listed=st.booleans())
def test_level_heads_matches_reference(seed, n, n_pools, k, listed):
    """The heads pass with its per-pool counts kept across calls, over every row or over the
    list of rows at the level: the same heads, waiting count, cut pools, ending rows and stage
    marks as the plain loop, day after day, and the counts handed back reset (zeros, -inf)."""
    rng = np.random.default_rng(seed)
    scratch = (np.empty((n_pools, k), np.int64), np.zeros(n_pools, np.int64), np.zeros(n_pools, np.int64),
               np.full(n_pools, -np.inf), np.empty(n_pools, np.int64))
    for day in range(3):
        level_col, stage, t_arrive, t_end, key, pool, first_free = _queue(rng, n, n_pools, 3)
        t1 = 24.0 + 4 * day
        want_stage = stage.copy()
        want = reference_heads(level_col, want_stage, t_arrive, t_end, key, 3, t1, pool, first_free, k)
        rows = np.flatnonzero(level_col == 3) if listed else None
        heads, n_wait, cut, done = service._level_heads(rows, level_col, stage, t_arrive, t_end, key, 3, t1, pool,
                                                        first_free, *scratch)
        np.testing.assert_array_equal(np.sort(heads), want[0])
        assert n_wait == want[1]
        np.testing.assert_array_equal(np.sort(cut), want[2])
        np.testing.assert_array_equal(done, want[3])
        np.testing.assert_array_equal(stage, want_stage)
        assert not scratch[1].any() and not scratch[2].any() and (scratch[3] == -np.inf).all()


# ----------------------------------------------------------------------------- FCFS service
@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 150), pools=st.integers(1, 6),
       big=st.sampled_from([0, 5, 40, 120]), ties=st.booleans())
def test_fcfs_large_pools_match_reference(seed, n, pools, big, ties):
    """Pools of more than 32 servers find the first free one over blocks of 16: the same
    servers (lowest index on ties) as a scan; first free times rescanned once per pool."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, big + 1, pools)
    ps = PoolSet(pools)
    free0 = rng.uniform(0, 30, int(counts.sum()))
    if ties:
        free0 = np.round(free0 / 10) * 10  # many servers free at the same time
    ps.set_servers(np.arange(pools), list(counts), np.split(free0, np.cumsum(counts)[:-1]),
                   np.split(rng.uniform(0.5, 2.0, free0.size), np.cumsum(counts)[:-1]))
    size = 2 * n + 1
    rows = np.sort(rng.choice(size, n, replace=False)).astype(np.int64)
    pool = rng.integers(0, pools, size).astype(np.int32)
    arrive = np.round(rng.uniform(0, 40, size), 1)
    key = rng.permutation(size).astype(np.int64)
    work = rng.exponential(3.0, n) if not ties else np.full(n, 0.5)
    free = ps.free.copy()
    want = reference_fcfs(rows, pool, arrive, key, work, free, ps.speed, ps.ptr, 40.0)
    got = ps.serve_rows(rows, pool, arrive, work, key, 40.0)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ps.free, free)
    first = ps.first_free.copy()
    ps.refresh()
    np.testing.assert_array_equal(first, ps.first_free)


# ----------------------------------------------------------------------------- rows at a level
@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 300), base=st.integers(0, 15),
       share=st.sampled_from([0.0, 0.01, 0.1, 0.5, 1.0]))
def test_rows_at_matches_flatnonzero(seed, n, base, share):
    """The branch-free word pass finds the rows at a level, ascending, wherever row 0 falls in
    a word and whatever the share of rows at the level (none to all)."""
    rng = np.random.default_rng(seed)
    tab = CaseTable(capacity=n + base + 8)
    tab.append(n + base)
    tab.base, tab.n = base, n
    lv = tab["level"]
    lv[:] = rng.choice(np.array([-1, 0, 1, 5], np.int8), n)
    lv[rng.random(n) < share] = 3
    for level in (3, 5, 4):
        got = service._rows_at(lv, *tab.words("level"), repeat_byte(level), level)
        np.testing.assert_array_equal(got, np.flatnonzero(lv == level))


# ----------------------------------------------------------------------------- today's ends
@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10**6), n_done=st.integers(0, 50), n=st.integers(0, 50))
def test_with_ends_matches_sort_of_concatenation(seed, n_done, n):
    """The services ending today merged with those that started and ended today: the rows that
    numpy's sort of their concatenation gives."""
    rng = np.random.default_rng(seed)
    pick = rng.permutation(4 * (n_done + n) + 1)
    done = np.sort(pick[:n_done]).astype(np.int64)
    rows = np.sort(pick[n_done: n_done + n]).astype(np.int64)
    end = rng.uniform(0, 48, n)
    end[rng.random(n) < 0.1] = 24.0  # at t1 exactly: not today
    want = np.sort(np.concatenate([done, rows[end < 24.0]]))
    np.testing.assert_array_equal(with_ends(done, rows, end, 24.0), want)
