"""Capacity-limited handling in continuous time: first come first served, or by priority.

Each handling level has many pools (one per grid, street, district department ...), each with
``c`` servers. A server is described by the time it next falls free and its speed. FCFS: the
head of a pool's queue (by arrival time, then case id) takes the earliest-free server at
``max(arrival, free time)``. Priority (non-preemptive): when a server falls free it takes the
most urgent case that has arrived by then (smallest priority key, then arrival, then case id),
or, if none has, the next to arrive. Service starts only inside the current tick; the rest of
the queue waits for the next tick — so a staffing change made between ticks applies to the
backlog too. Ties are broken by case id, so runs are deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_COUNT = np.zeros(0, dtype=np.int64)  # serve_fcfs_rows: group the cases by counting their pools


def warm_up() -> None:
    """Load numba's compiler runtime (about a second, once per process) by calling a tiny
    compiled kernel, so that the first simulated day's stage timings do not include it."""
    _earliest_free(np.zeros(1), 0, 1)


class PoolSet:
    """The servers of one handling level: per-pool counts, free times and speeds."""

    def __init__(self, n_pools: int) -> None:
        self.n_pools = n_pools
        self.counts = np.zeros(n_pools, dtype=np.int64)
        self.ptr = np.zeros(n_pools + 1, dtype=np.int64)
        self.free = np.zeros(0, dtype=np.float64)
        self.speed = np.zeros(0, dtype=np.float64)
        # per pool, when its first server falls free (inf: no server), kept in step with ``free``
        # by every method that moves it: ``can_start`` is then one comparison per pool, not a
        # scan of every server (65,000 grid workers in a large city) per level and day
        self.first_free = np.full(n_pools, np.inf)

    def set_servers(self, pool_of_agent: np.ndarray, servers: list[int], free_at: list[np.ndarray],
                    speeds: list[np.ndarray]) -> None:
        """Rebuild the flat server arrays from the staff agents (sorted by pool): agent ``k``
        brings ``servers[k]`` handlers to pool ``pool_of_agent[k]``."""
        if len(servers):
            self.counts = np.bincount(pool_of_agent, weights=servers,
                                      minlength=self.n_pools).astype(np.int64)
        else:
            self.counts = np.zeros(self.n_pools, np.int64)
        self.ptr = np.concatenate([[0], np.cumsum(self.counts)]).astype(np.int64)
        self.free = np.concatenate(free_at) if len(servers) else np.zeros(0)
        self.speed = np.concatenate(speeds) if len(servers) else np.zeros(0)
        self.refresh()

    def refresh(self) -> None:
        """Recompute each pool's first free time after ``free`` was set from outside."""
        self.first_free = _first_free(self.free, self.ptr, self.n_pools)

    def serve_rows(self, rows: np.ndarray, pool: np.ndarray, arrive: np.ndarray, work: np.ndarray,
                   case_key: np.ndarray, window_end: float, priority: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Serve one day of the cases ``rows`` of full columns ``pool``, ``arrive``, ``case_key``
        (and ``priority``: smaller first; None = FCFS), ``work`` given per row, without gathering
        them. Returns, for the cases that start, their positions in ``rows`` (ascending), start,
        end and server; the servers' free times move on."""
        rows = np.asarray(rows, dtype=np.int64)
        work = np.asarray(work, dtype=np.float64)
        if priority is None:
            # few cases in many pools (a grid worker pool per grid): group them by a sort of their
            # pools (numpy's stable one: the same groups, in the same order, as counting the pools)
            by_pool = np.argsort(pool[rows], kind="stable") if 4 * rows.size < self.n_pools else _COUNT
            pos, start, end, server = serve_fcfs_rows(rows, pool, arrive, case_key, work, self.free, self.speed,
                                                      self.ptr, self.n_pools, float(window_end), by_pool)
        else:
            order = np.lexsort((case_key[rows], arrive[rows], pool[rows])).astype(np.int64)
            pos, start, end, server = serve_priority_rows(rows, order, pool, arrive, case_key, priority, work,
                                                          self.free, self.speed, self.ptr, float(window_end))
        # the kernels return the starts in the order they happened: put in order of position
        # (distinct, below rows.size: placed, not sorted), with the pools' first free times
        return _by_position(pos, start, end, server, rows.size, self.first_free, self.free, self.ptr, pool, rows)

    def can_start(self, window_end: float) -> np.ndarray:
        """Per pool: has a server that falls free before ``window_end`` (so a case that arrived
        before then can start). The queues of the other pools cannot move this tick."""
        return self.first_free < window_end  # inf where a pool has no server

    def load(self, queued_per_pool: np.ndarray) -> np.ndarray:
        """Queue length per server in each pool (inf where a pool has no server but a queue)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = queued_per_pool / self.counts
        return np.where(self.counts == 0, np.where(queued_per_pool > 0, np.inf, 0.0), out)


@njit(cache=True)
def _earliest_server(free, lo, hi):  # pragma: no cover - compiled
    """The server of ``lo:hi`` that falls free first (lowest index on ties) and when."""
    s = lo
    best = free[lo]
    for j in range(lo + 1, hi):
        if free[j] < best:
            best = free[j]
            s = j
    return s, best


@njit(cache=True)
def _earliest_free(free, lo, hi):  # pragma: no cover - compiled
    return _earliest_server(free, lo, hi)[1]


@njit(cache=True)
def _start(r, s, t0, work, free, speed, started, pos, t_start, t_end, srv):  # pragma: no cover - compiled
    """Start case ``r`` (position in the rows) on server ``s`` at ``t0``; record it as the
    ``started``-th start and return the new count."""
    t1 = t0 + work[r] / speed[s]
    free[s] = t1
    pos[started] = r
    t_start[started] = t0
    t_end[started] = t1
    srv[started] = s
    return started + 1


@njit(cache=True)
def _sift_local(h, j, m, arrive, key):  # pragma: no cover - compiled
    """Restore the min-heap ``h[:m]`` of positions into ``arrive``/``key`` (ordered by arrival,
    then key) below position ``j``."""
    item = h[j]
    a_item, k_item = arrive[item], key[item]
    while True:
        c = 2 * j + 1
        if c >= m:
            break
        if c + 1 < m and (arrive[h[c + 1]] < arrive[h[c]]
                          or (arrive[h[c + 1]] == arrive[h[c]] and key[h[c + 1]] < key[h[c]])):
            c += 1
        if arrive[h[c]] < a_item or (arrive[h[c]] == a_item and key[h[c]] < k_item):
            h[j] = h[c]
            j = c
        else:
            break
    h[j] = item


@njit(cache=True)
def serve_fcfs_rows(rows, pool, arrive, key, work, free, speed, srv_ptr, n_pools, window_end,
                    by_pool):  # pragma: no cover - compiled
    """The FCFS recursion for the cases ``rows`` of full columns; returns the positions in
    ``rows`` of the cases that started (in the order they started), with start, end and server.

    Cases are grouped by pool: by counting sort, or (``by_pool``: their positions sorted by
    pool, stably; empty: count) in that order — the same groups in the same order; each pool's queue is popped in (arrival, key)
    order only until the pool blocks — a long backlog costs O(n) a day, not O(n log n). Arrival
    times and keys are copied pool by pool into local arrays, so the heap compares contiguous
    data. The head of a queue takes the earliest-free server (lowest index on ties) at
    ``max(arrival, free time)``; once it cannot start before ``window_end`` nobody behind it can."""
    n = rows.shape[0]
    src = np.empty(n, np.int64)  # local slot -> position in rows, grouped by pool
    if by_pool.shape[0] == n:  # the positions sorted by pool (stable)
        group_pool = np.empty(n + 1, np.int64)
        offsets = np.zeros(n + 1, np.int64)
        n_groups = 0
        for q in range(n):
            src[q] = by_pool[q]
            p = pool[rows[by_pool[q]]]
            if n_groups == 0 or group_pool[n_groups - 1] != p:
                group_pool[n_groups] = p
                offsets[n_groups] = q
                n_groups += 1
        offsets[n_groups] = n
    else:  # counting sort: a group per pool, empty or not
        n_groups = n_pools
        group_pool = np.arange(n_pools)
        offsets = np.zeros(n_pools + 1, np.int64)
        pool_of = np.empty(n, np.int64)
        for r in range(n):
            p = pool[rows[r]]
            pool_of[r] = p
            offsets[p + 1] += 1
        for p in range(n_pools):
            offsets[p + 1] += offsets[p]
        fill = offsets[:-1].copy()
        for r in range(n):
            q = fill[pool_of[r]]
            fill[pool_of[r]] += 1
            src[q] = r
    arr_local = np.empty(n, np.float64)
    key_local = np.empty(n, np.int64)
    for q in range(n):
        arr_local[q] = arrive[rows[src[q]]]
        key_local[q] = key[rows[src[q]]]
    heap = np.arange(n)
    pos = np.empty(n, np.int64)
    t_start = np.empty(n, np.float64)
    t_end = np.empty(n, np.float64)
    srv = np.empty(n, np.int64)
    started = 0
    for grp in range(n_groups):
        p = group_pool[grp]
        a = offsets[grp]
        m = offsets[grp + 1] - a
        lo = srv_ptr[p]
        hi = srv_ptr[p + 1]
        if m == 0 or hi <= lo or _earliest_free(free, lo, hi) >= window_end:
            continue  # no server, or all busy past the window: nobody here starts this tick
        h = heap[a: a + m]
        pops = 0
        heaped = False
        while m > 0:
            # Behind busy staff few start a day: find the first few heads by a linear scan, and
            # build a heap only when more start (the order of the starts is the same).
            if not heaped and pops < 8:
                best = 0
                for j in range(1, m):
                    if (arr_local[h[j]] < arr_local[h[best]]
                            or (arr_local[h[j]] == arr_local[h[best]] and key_local[h[j]] < key_local[h[best]])):
                        best = j
                h[0], h[best] = h[best], h[0]
            elif not heaped:
                for j in range(m // 2 - 1, -1, -1):
                    _sift_local(h, j, m, arr_local, key_local)
                heaped = True
            q = h[0]
            s, best = _earliest_server(free, lo, hi)
            t0 = arr_local[q] if arr_local[q] > best else best
            if t0 >= window_end:
                break  # FCFS: nobody behind the head can start either
            started = _start(src[q], s, t0, work, free, speed, started, pos, t_start, t_end, srv)
            pops += 1
            m -= 1
            h[0] = h[m]
            if heaped:
                _sift_local(h, 0, m, arr_local, key_local)
    return pos[:started], t_start[:started], t_end[:started], srv[:started]


@njit(cache=True)
def _first_free(free, srv_ptr, n_pools):  # pragma: no cover - compiled
    """When each pool's first server falls free (inf where a pool has none)."""
    out = np.full(n_pools, np.inf)
    for p in range(n_pools):
        lo, hi = srv_ptr[p], srv_ptr[p + 1]
        if hi > lo:
            out[p] = _earliest_free(free, lo, hi)
    return out


@njit(cache=True)
def _by_position(pos, start, end, server, n, first_free, free, srv_ptr, pool, rows):  # pragma: no cover - compiled
    """The starts (``pos``: distinct positions below ``n`` in ``rows``, with ``start``, ``end``,
    ``server``) in order of position — the order np.argsort(pos) gives; and :func:`_first_free`
    again for the pools of the cases that started."""
    slot = np.full(n, -1, np.int64)
    for k in range(pos.shape[0]):
        slot[pos[k]] = k
        first_free[pool[rows[pos[k]]]] = np.nan  # to scan again: once per pool, not per start
    for k in range(pos.shape[0]):
        p = pool[rows[pos[k]]]
        if first_free[p] != first_free[p]:  # (a court pool of 300 servers starts a dozen a day)
            first_free[p] = _earliest_free(free, srv_ptr[p], srv_ptr[p + 1])
    m = pos.shape[0]
    o_pos = np.empty(m, np.int64)
    o_start = np.empty(m, np.float64)
    o_end = np.empty(m, np.float64)
    o_server = np.empty(m, np.int64)
    j = 0
    for r in range(n):
        k = slot[r]
        if k >= 0:
            o_pos[j] = r
            o_start[j] = start[k]
            o_end[j] = end[k]
            o_server[j] = server[k]
            j += 1
    return o_pos, o_start, o_end, o_server


@njit(cache=True)
def _before(a, b, prio, arrive, key):  # pragma: no cover - compiled
    """Case ``a`` is served before case ``b``: (priority, arrival, key) order."""
    if prio[a] != prio[b]:
        return prio[a] < prio[b]
    if arrive[a] != arrive[b]:
        return arrive[a] < arrive[b]
    return key[a] < key[b]


@njit(cache=True)
def serve_priority_rows(rows, order, pool, arrive, key, prio, work, free, speed, srv_ptr,
                        window_end):  # pragma: no cover - compiled
    """Non-preemptive priority for the cases ``rows`` (``order``: positions in ``rows`` sorted by
    pool, arrival, key). Per pool, each time a server falls free it takes the best case arrived
    by then (a heap on priority, arrival, key), or the next arrival if none has. Returns what
    :func:`serve_fcfs_rows` returns."""
    n = rows.shape[0]
    heap = np.empty(n, np.int64)  # case rows
    pos_of = np.empty(n, np.int64)
    pos = np.empty(n, np.int64)
    t_start = np.empty(n, np.float64)
    t_end = np.empty(n, np.float64)
    srv = np.empty(n, np.int64)
    started = 0
    a = 0
    while a < n:
        p = pool[rows[order[a]]]
        b = a
        while b < n and pool[rows[order[b]]] == p:
            b += 1
        lo = srv_ptr[p]
        hi = srv_ptr[p + 1]
        nxt = a  # next case (in arrival order) not yet in the heap
        m = 0
        while hi > lo:
            s, f = _earliest_server(free, lo, hi)
            if f >= window_end:
                break
            if m == 0 and nxt < b and arrive[rows[order[nxt]]] > f:
                f = arrive[rows[order[nxt]]]  # idle until the next arrival
            while nxt < b and arrive[rows[order[nxt]]] <= f:
                r = order[nxt]
                i = rows[r]
                # push, sift up
                j = m
                m += 1
                while j > 0:
                    par = (j - 1) // 2
                    if _before(i, heap[par], prio, arrive, key):
                        heap[j] = heap[par]
                        pos_of[j] = pos_of[par]
                        j = par
                    else:
                        break
                heap[j] = i
                pos_of[j] = r
                nxt += 1
            if m == 0 or f >= window_end:
                break
            i = heap[0]
            r = pos_of[0]
            # pop, sift down
            m -= 1
            last, last_r = heap[m], pos_of[m]
            j = 0
            while True:
                c = 2 * j + 1
                if c >= m:
                    break
                if c + 1 < m and _before(heap[c + 1], heap[c], prio, arrive, key):
                    c += 1
                if _before(heap[c], last, prio, arrive, key):
                    heap[j] = heap[c]
                    pos_of[j] = pos_of[c]
                    j = c
                else:
                    break
            heap[j] = last
            pos_of[j] = last_r
            t0 = f if f > arrive[i] else arrive[i]
            started = _start(r, s, t0, work, free, speed, started, pos, t_start, t_end, srv)
        a = b
    return pos[:started], t_start[:started], t_end[:started], srv[:started]
