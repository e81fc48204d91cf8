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
            order = np.lexsort((case_key, arrive, pool)) if n < 4096 else _order(pool, arrive, case_key)
            serve_fcfs(order.astype(np.int64), pool.astype(np.int64), arrive.astype(np.float64),
                       work.astype(np.float64), self.free, self.speed, self.ptr, float(window_end),
                       start, end, server)
            ok = server >= 0
            self.busy_hours += float(np.sum(end[ok] - start[ok]))
        return start, end, server

    def load(self, queued_per_pool: np.ndarray) -> np.ndarray:
        """Queue length per server in each pool (inf where a pool has no server but a queue)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = queued_per_pool / self.counts
        return np.where(self.counts == 0, np.where(queued_per_pool > 0, np.inf, 0.0), out)


def _order(pool: np.ndarray, arrive: np.ndarray, case_key: np.ndarray) -> np.ndarray:
    """Sort by (pool, arrival, case id) without lexsort's slow path on large inputs."""
    by_key = np.argsort(case_key, kind="stable")
    by_arrive = by_key[np.argsort(arrive[by_key], kind="stable")]
    return by_arrive[np.argsort(pool[by_arrive], kind="stable")]
