"""The FCFS kernel against a textbook multi-server FCFS queue."""

from __future__ import annotations

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.queues import PoolSet


def reference(pool, arrive, key, work, free0, speed, counts, window_end):
    """Per pool: cases in (arrival, key) order take the earliest-free server (lowest index on
    ties) at max(arrival, free time); once the head cannot start before the window ends, nobody
    behind it can. Returns start, end, server and the servers' free times afterwards."""
    n = pool.size
    start, end, server = np.full(n, np.inf), np.full(n, np.inf), np.full(n, -1)
    free = free0.copy()
    ptr = np.concatenate([[0], np.cumsum(counts)])
    for p in range(counts.size):
        queue = sorted((arrive[i], key[i], i) for i in range(n) if pool[i] == p)
        heap = [(free[s], s) for s in range(ptr[p], ptr[p + 1])]
        heapq.heapify(heap)
        for a, _k, i in queue:
            if not heap:
                break
            f, s = heap[0]
            t0 = max(f, a)
            if t0 >= window_end:
                break
            t1 = t0 + work[i] / speed[s]
            heapq.heapreplace(heap, (t1, s))
            start[i], end[i], server[i], free[s] = t0, t1, s, t1
    return start, end, server, free


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 120), pools=st.integers(1, 5),
       window=st.floats(1, 60), decimals=st.integers(0, 2))
def test_serve_rows_matches_reference(seed, n, pools, window, decimals):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, pools)
    n_srv = int(counts.sum())
    free0 = rng.uniform(0, 30, n_srv) * (rng.random(n_srv) < 0.5)  # some servers busy at first
    speed = rng.uniform(0.5, 2.0, n_srv)
    pool = rng.integers(0, pools, n)
    arrive = np.round(rng.uniform(0, 40, n), decimals)  # rounded: ties in arrival
    key = rng.permutation(3 * n)[:n]  # case ids, not in row order
    work = rng.exponential(3.0, n)
    ref_start, ref_end, ref_server, ref_free = reference(pool, arrive, key, work, free0, speed, counts, window)

    # the cases are scattered rows of longer columns, as in the case table
    rows = np.sort(rng.choice(2 * n + 1, n, replace=False)).astype(np.int64)
    col_pool, col_arrive, col_key = (np.zeros(2 * n + 1, np.int64), np.zeros(2 * n + 1),
                                     np.zeros(2 * n + 1, np.int64))
    col_pool[rows], col_arrive[rows], col_key[rows] = pool, arrive, key
    ps = PoolSet(pools)
    ps.set_servers(np.repeat(np.arange(pools), counts), [1] * n_srv, [free0[i:i + 1] for i in range(n_srv)],
                   [speed[i:i + 1] for i in range(n_srv)])
    # only the pools that can start someone are served, as in the engine: that changes nothing
    cand = np.flatnonzero(ps.can_start(window)[pool] & (arrive < window))
    pos, start, end, server = ps.serve_rows(rows[cand], col_pool, col_arrive, work[cand], col_key, window)
    ok = np.flatnonzero(ref_server >= 0)
    np.testing.assert_array_equal(cand[pos], ok)
    np.testing.assert_array_equal(start, ref_start[ok])
    np.testing.assert_array_equal(end, ref_end[ok])
    np.testing.assert_array_equal(server, ref_server[ok])
    np.testing.assert_array_equal(ps.free, ref_free)
    assert np.all(start >= arrive[ok])


def test_set_servers_builds_pool_pointers():
    ps = PoolSet(3)
    ps.set_servers(np.array([0, 2]), [2, 3], [np.zeros(2), np.ones(3)], [np.ones(2), np.ones(3)])
    np.testing.assert_array_equal(ps.counts, [2, 0, 3])
    np.testing.assert_array_equal(ps.ptr, [0, 2, 2, 5])
    np.testing.assert_array_equal(ps.load(np.array([4.0, 1.0, 0.0])), [2.0, np.inf, 0.0])


def priority_reference(pool, arrive, key, prio, work, free0, speed, counts, window_end):
    """Non-preemptive priority by brute force: whenever a server falls free, it takes the best
    (priority, arrival, key) case that has arrived by then, or waits for the next arrival."""
    n = pool.size
    start, server = np.full(n, np.inf), np.full(n, -1)
    free = free0.copy()
    ptr = np.concatenate([[0], np.cumsum(counts)])
    for p in range(counts.size):
        waiting = [i for i in range(n) if pool[i] == p]
        while waiting and ptr[p + 1] > ptr[p]:
            s = ptr[p] + int(np.argmin(free[ptr[p]:ptr[p + 1]]))
            f = free[s]
            if f >= window_end:
                break
            arrived = [i for i in waiting if arrive[i] <= f]
            if not arrived:
                f = min(arrive[i] for i in waiting)
                arrived = [i for i in waiting if arrive[i] <= f]
            if f >= window_end:
                break
            i = min(arrived, key=lambda j: (prio[j], arrive[j], key[j]))
            t0 = max(f, arrive[i])
            start[i], server[i], free[s] = t0, s, t0 + work[i] / speed[s]
            waiting.remove(i)
    return start, server, free


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 60), pools=st.integers(1, 3), window=st.floats(1, 60))
def test_priority_matches_brute_force(seed, n, pools, window):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 3, pools)
    n_srv = int(counts.sum())
    free0 = rng.uniform(0, 20, n_srv) * (rng.random(n_srv) < 0.5)
    speed = rng.uniform(0.5, 2.0, n_srv)
    pool = rng.integers(0, pools, n)
    arrive = np.round(rng.uniform(0, 40, n), 1)
    key = rng.permutation(3 * n)[:n]
    prio = -rng.integers(0, 4, n)  # higher severity first
    work = rng.exponential(3.0, n)
    ref_start, ref_server, ref_free = priority_reference(pool, arrive, key, prio, work, free0, speed, counts,
                                                         window)
    ps = PoolSet(pools)
    ps.set_servers(np.repeat(np.arange(pools), counts), [1] * n_srv, [free0[i:i + 1] for i in range(n_srv)],
                   [speed[i:i + 1] for i in range(n_srv)])
    rows = np.arange(n)
    pos, start, _end, server = ps.serve_rows(rows, pool, arrive, work, key, window, priority=prio)
    ok = np.flatnonzero(ref_server >= 0)
    np.testing.assert_array_equal(pos, ok)
    np.testing.assert_array_equal(start, ref_start[ok])
    np.testing.assert_array_equal(server, ref_server[ok])
    np.testing.assert_array_equal(ps.free, ref_free)
