"""Capacity-limited first-come-first-served handling in continuous time.

Each handling level has many pools (one per grid, street, district department ...), each with
``c`` servers. A server is described by the time it next falls free and its speed. The kernel
feeds the cases of a level, sorted by (pool, arrival time, case id), into the multi-server FCFS
recursion: the head of a pool's queue takes the earliest-free server at
``max(arrival, free time)``. Service starts only inside the current tick; the rest of the queue
waits, in order, for the next tick — so a staffing change made between ticks applies to the
backlog too. Ties are broken by case id, so runs are deterministic.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def serve_fcfs(order, pool, arrive, work, free, speed, srv_ptr, window_end, out_start, out_end,
               out_server):  # pragma: no cover - compiled
    """FCFS multi-server recursion over cases ``order`` (sorted by pool, then arrival).

    Writes start/end/server of every case that starts before ``window_end``; returns how many.
    ``free``/``speed`` are flat server arrays, pool ``p`` owning ``srv_ptr[p]:srv_ptr[p+1]``.
    """
    n = order.shape[0]
    started = 0
    i = 0
    while i < n:
        p = pool[order[i]]
        lo = srv_ptr[p]
        hi = srv_ptr[p + 1]
        blocked = hi <= lo
        while i < n and pool[order[i]] == p:
            k = order[i]
            i += 1
            if blocked:
                continue
            s = lo
            best = free[lo]
            for j in range(lo + 1, hi):
                if free[j] < best:
                    best = free[j]
                    s = j
            t0 = arrive[k] if arrive[k] > best else best
            if t0 >= window_end:
                blocked = True  # FCFS: nobody behind the head can start either
                continue
            t1 = t0 + work[k] / speed[s]
            free[s] = t1
            out_start[k] = t0
            out_end[k] = t1
            out_server[k] = s
            started += 1
    return started


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
        self.busy_hours = 0.0  # work started in the current tick (for utilisation)

    def resize(self, counts: np.ndarray, now: float, speed_draw) -> None:
        """Set the number of servers per pool. Kept servers keep their free time; new ones are
        free at ``now``; when a pool shrinks the servers that fall free last leave (the cases they
        already hold are finished). ``speed_draw(n)`` gives speeds for new servers."""
        counts = np.asarray(counts, dtype=np.int64)
        if np.array_equal(counts, self.counts):
            return
        free_parts, speed_parts = [], []
        for p in range(self.n_pools):
            lo, hi = self.ptr[p], self.ptr[p + 1]
            f, s = self.free[lo:hi], self.speed[lo:hi]
            c = counts[p]
            if c <= hi - lo:
                keep = np.argsort(f, kind="stable")[:c]
                keep.sort()
                f, s = f[keep], s[keep]
            else:
                extra = c - (hi - lo)
                f = np.concatenate([f, np.full(extra, now)])
                s = np.concatenate([s, speed_draw(extra)])
            free_parts.append(f)
            speed_parts.append(s)
        self.counts = counts
        self.ptr = np.zeros(self.n_pools + 1, dtype=np.int64)
        np.cumsum(counts, out=self.ptr[1:])
        self.free = np.concatenate(free_parts) if free_parts else np.zeros(0)
        self.speed = np.concatenate(speed_parts) if speed_parts else np.zeros(0)

    def serve(self, pool: np.ndarray, arrive: np.ndarray, work: np.ndarray, case_key: np.ndarray,
              window_end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run the FCFS recursion for one tick. Returns start, end (INF if not started), server."""
        n = pool.shape[0]
        start = np.full(n, np.inf)
        end = np.full(n, np.inf)
        server = np.full(n, -1, dtype=np.int64)
        if n:
            serve_fcfs_heap(pool.astype(np.int64), arrive.astype(np.float64), case_key.astype(np.int64),
                            work.astype(np.float64), self.free, self.speed, self.ptr, self.n_pools,
                            float(window_end), start, end, server)
            ok = server >= 0
            self.busy_hours += float(np.sum(end[ok] - start[ok]))
        return start, end, server

    def serve_rows(self, rows: np.ndarray, pool: np.ndarray, arrive: np.ndarray, work: np.ndarray,
                   case_key: np.ndarray, window_end: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`serve` for the cases ``rows`` of full columns ``pool``, ``arrive``, ``case_key``
        (``work`` is given per row), without gathering them. Returns, for the cases that start,
        their positions in ``rows`` (ascending), start, end and server."""
        pos, start, end, server = serve_fcfs_rows(
            np.asarray(rows, dtype=np.int64), pool, arrive, case_key, np.asarray(work, dtype=np.float64),
            self.free, self.speed, self.ptr, self.n_pools, float(window_end))
        self.busy_hours += float(np.sum(end - start))
        return pos, start, end, server

    def can_start(self, window_end: float) -> np.ndarray:
        """Per pool: has a server that falls free before ``window_end`` (so a case that arrived
        before then can start). The queues of the other pools cannot move this tick."""
        return _can_start(self.free, self.ptr, self.n_pools, float(window_end))

    def load(self, queued_per_pool: np.ndarray) -> np.ndarray:
        """Queue length per server in each pool (inf where a pool has no server but a queue)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = queued_per_pool / self.counts
        return np.where(self.counts == 0, np.where(queued_per_pool > 0, np.inf, 0.0), out)


@njit(cache=True)
def _earliest_free(free, lo, hi):  # pragma: no cover - compiled
    best = free[lo]
    for j in range(lo + 1, hi):
        if free[j] < best:
            best = free[j]
    return best


@njit(cache=True)
def _sift_down(h, j, m, arrive, key):  # pragma: no cover - compiled
    """Restore the min-heap ``h[:m]`` (ordered by arrival, then key) below position ``j``."""
    item = h[j]
    while True:
        c = 2 * j + 1
        if c >= m:
            break
        if c + 1 < m and (arrive[h[c + 1]] < arrive[h[c]]
                          or (arrive[h[c + 1]] == arrive[h[c]] and key[h[c + 1]] < key[h[c]])):
            c += 1
        if arrive[h[c]] < arrive[item] or (arrive[h[c]] == arrive[item] and key[h[c]] < key[item]):
            h[j] = h[c]
            j = c
        else:
            break
    h[j] = item


@njit(cache=True)
def serve_fcfs_heap(pool, arrive, key, work, free, speed, srv_ptr, n_pools, window_end, out_start,
                    out_end, out_server):  # pragma: no cover - compiled
    """The recursion of :func:`serve_fcfs` without sorting the whole queue: cases are bucketed by
    pool (counting sort), and each pool's queue is a heap on (arrival, key) popped only until the
    pool blocks — a long backlog costs O(n) a tick, not O(n log n). Same starts as ``serve_fcfs``
    on the (pool, arrival, key) order. Returns how many cases started."""
    n = pool.shape[0]
    offsets = np.zeros(n_pools + 1, np.int64)
    for i in range(n):
        offsets[pool[i] + 1] += 1
    for p in range(n_pools):
        offsets[p + 1] += offsets[p]
    fill = offsets[:-1].copy()
    heap = np.empty(n, np.int64)
    for i in range(n):
        heap[fill[pool[i]]] = i
        fill[pool[i]] += 1
    started = 0
    for p in range(n_pools):
        a = offsets[p]
        m = offsets[p + 1] - a
        lo = srv_ptr[p]
        hi = srv_ptr[p + 1]
        if m == 0 or hi <= lo or _earliest_free(free, lo, hi) >= window_end:
            continue  # no server, or all busy past the window: nobody here starts this tick
        h = heap[a: a + m]
        for j in range(m // 2 - 1, -1, -1):
            _sift_down(h, j, m, arrive, key)
        while m > 0:
            k = h[0]
            s = lo
            best = free[lo]
            for j in range(lo + 1, hi):
                if free[j] < best:
                    best = free[j]
                    s = j
            t0 = arrive[k] if arrive[k] > best else best
            if t0 >= window_end:
                break  # FCFS: nobody behind the head can start either
            t1 = t0 + work[k] / speed[s]
            free[s] = t1
            out_start[k] = t0
            out_end[k] = t1
            out_server[k] = s
            started += 1
            m -= 1
            h[0] = h[m]
            _sift_down(h, 0, m, arrive, key)
    return started


@njit(cache=True)
def _sift_local(h, j, m, arrive, key):  # pragma: no cover - compiled
    """:func:`_sift_down` on the heap ``h`` of positions into local ``arrive``/``key`` copies."""
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
def serve_fcfs_rows(rows, pool, arrive, key, work, free, speed, srv_ptr, n_pools,
                    window_end):  # pragma: no cover - compiled
    """:func:`serve_fcfs_heap` for the cases ``rows`` of full columns; returns the positions in
    ``rows`` (ascending) of the cases that started, with start, end and server. Arrival times
    and keys are copied pool by pool into local arrays, so the heaps compare contiguous data."""
    n = rows.shape[0]
    offsets = np.zeros(n_pools + 1, np.int64)
    pool_of = np.empty(n, np.int64)
    for r in range(n):
        p = pool[rows[r]]
        pool_of[r] = p
        offsets[p + 1] += 1
    for p in range(n_pools):
        offsets[p + 1] += offsets[p]
    fill = offsets[:-1].copy()
    arr_local = np.empty(n, np.float64)
    key_local = np.empty(n, np.int64)
    src = np.empty(n, np.int64)  # local slot -> position in rows
    for r in range(n):
        q = fill[pool_of[r]]
        fill[pool_of[r]] += 1
        arr_local[q] = arrive[rows[r]]
        key_local[q] = key[rows[r]]
        src[q] = r
    heap = np.arange(n)
    pos = np.empty(n, np.int64)
    t_start = np.empty(n, np.float64)
    t_end = np.empty(n, np.float64)
    srv = np.empty(n, np.int64)
    started = 0
    for p in range(n_pools):
        a = offsets[p]
        m = offsets[p + 1] - a
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
            s = lo
            best = free[lo]
            for j in range(lo + 1, hi):
                if free[j] < best:
                    best = free[j]
                    s = j
            t0 = arr_local[q] if arr_local[q] > best else best
            if t0 >= window_end:
                break  # FCFS: nobody behind the head can start either
            r = src[q]
            t1 = t0 + work[r] / speed[s]
            free[s] = t1
            pos[started] = r
            t_start[started] = t0
            t_end[started] = t1
            srv[started] = s
            started += 1
            pops += 1
            m -= 1
            h[0] = h[m]
            if heaped:
                _sift_local(h, 0, m, arr_local, key_local)
    order = np.argsort(pos[:started])
    return pos[:started][order], t_start[:started][order], t_end[:started][order], srv[:started][order]


@njit(cache=True)
def _can_start(free, srv_ptr, n_pools, window_end):  # pragma: no cover - compiled
    """See :meth:`PoolSet.can_start`."""
    out = np.zeros(n_pools, np.bool_)
    for p in range(n_pools):
        lo, hi = srv_ptr[p], srv_ptr[p + 1]
        out[p] = hi > lo and _earliest_free(free, lo, hi) < window_end
    return out


# ----------------------------------------------------------------- pools of cases (CityModel)
@njit(cache=True)
def _pool_index(level, g, dept, street_of, district_of, n_dept):  # pragma: no cover - compiled
    """Pool at ``level`` of cases in grids ``g`` of departments ``dept``: the grid (level 0), its
    street (1, 2), its district's department (3), the city department (4), its district's court."""
    out = np.empty(level.shape[0], np.int64)
    for k in range(level.shape[0]):
        out[k] = _pool_of(level[k], g[k], dept[k], street_of, district_of, n_dept)
    return out


@njit(cache=True)
def _pool_of(lv, g, dept, street_of, district_of, n_dept):  # pragma: no cover - compiled
    if lv == 0:
        return np.int64(g)
    if lv <= 2:
        return np.int64(street_of[g])
    if lv == 3:
        return np.int64(district_of[g]) * n_dept + dept
    if lv == 4:
        return np.int64(dept)
    return np.int64(district_of[g])


@njit(cache=True)
def _first_staffed(level, g, dept, street_of, district_of, n_dept, counts,
                   top):  # pragma: no cover - compiled
    """Per case: the first level from ``level`` up (at most ``top``) whose pool has staff, and
    that pool."""
    n = level.shape[0]
    out_level = np.empty(n, np.int64)
    out_pool = np.empty(n, np.int64)
    for k in range(n):
        lv = level[k]
        p = _pool_of(lv, g[k], dept[k], street_of, district_of, n_dept)
        while lv < top and counts[lv][p] == 0:
            lv += 1
            p = _pool_of(lv, g[k], dept[k], street_of, district_of, n_dept)
        out_level[k] = lv
        out_pool[k] = p
    return out_level, out_pool


@njit(cache=True)
def _pool_counts(level, pool, counts):  # pragma: no cover - compiled
    """``counts[level[k]][pool[k]]`` for every k (``counts``: one array per level)."""
    out = np.empty(level.shape[0], np.int64)
    for k in range(level.shape[0]):
        c = counts[level[k]]
        if pool[k] < 0 or pool[k] >= c.shape[0]:
            raise IndexError("pool index out of range")
        out[k] = c[pool[k]]
    return out
