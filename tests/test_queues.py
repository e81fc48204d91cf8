"""The FCFS kernel against a plain reference implementation."""

from __future__ import annotations

import heapq

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.queues import PoolSet


def reference(pool, arrive, work, counts, window_end):
    """Textbook multi-server FCFS per pool with a heap of free times (lowest server on ties)."""
    start = np.full(pool.size, np.inf)
    for p in range(counts.size):
        idx = [i for i in np.lexsort((np.arange(pool.size), arrive, pool)) if pool[i] == p]
        heap = [(0.0, s) for s in range(counts[p])]
        heapq.heapify(heap)
        for i in idx:
            if not heap:
                break
            free, s = heap[0]
            t0 = max(free, arrive[i])
            if t0 >= window_end:
                break
            heapq.heapreplace(heap, (t0 + work[i], s))
            start[i] = t0
    return start


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 60), pools=st.integers(1, 4), seed=st.integers(0, 10**6),
       window=st.floats(1, 50))
def test_kernel_matches_reference(n, pools, seed, window):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 4, pools)
    ps = PoolSet(pools)
    ps.counts = counts.astype(np.int64)
    ps.ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    ps.free = np.zeros(int(counts.sum()))
    ps.speed = np.ones(int(counts.sum()))
    pool = rng.integers(0, pools, n)
    arrive = rng.uniform(0, 40, n)
    work = rng.exponential(3.0, n)
    start, end, server = ps.serve(pool, arrive, work, np.arange(n), window)
    ref = reference(pool, arrive, work, counts, window)
    np.testing.assert_allclose(start, ref)
    ok = np.isfinite(start)
    np.testing.assert_allclose(end[ok] - start[ok], work[ok])
    assert np.all(start[ok] >= arrive[ok])
