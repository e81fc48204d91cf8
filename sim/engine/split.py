"""One large pass over the case table on two cores: its rows in contiguous parts, each part in a
compiled kernel that releases the GIL, the parts' results joined in row order.

Only passes whose every result is a count, a list of rows or values in row order, or an in-place
update of the part's own rows are split (sim/outcomes/compute.py, sim/engine/lapse.py): joined,
the parts give the same numbers as one pass, to the bit, with any number of threads (a float sum
is taken over the joined values, never per part). A table under ``SPLIT_MIN_ROWS`` rows is never
split: a thread's hand-over costs tens of microseconds, a pass over it less.

The number of threads is ``CITYRISK_THREADS`` (1 to 64), or the process's usable cores up to 2;
sweep workers use 1 (each worker already has a core: sim/sweep).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

SPLIT_MIN_ROWS = 1 << 18
"""A table with fewer rows is passed over in one piece (at 1x the xian table has about 12,000)."""

THREADS_ENV = "CITYRISK_THREADS"
MAX_THREADS = 64

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def default_threads() -> int:
    """``CITYRISK_THREADS`` when set (ValueError naming it when not an integer in 1..64), else the
    usable cores up to 2."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        return max(1, min(cores, 2))
    try:
        n = int(raw)
    except ValueError:
        n = 0
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"{THREADS_ENV}={raw!r}: must be an integer from 1 to {MAX_THREADS}")
    return n


def threads() -> int:
    """How many threads a split pass uses."""
    global _threads
    if _threads is None:
        _threads = default_threads()
    return _threads


def set_threads(n: int) -> None:
    """Use ``n`` threads (1: every pass in one piece, in the calling thread)."""
    global _threads
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"threads must be from 1 to {MAX_THREADS}, got {n}")
    _threads = n  # the pool's idle threads stay: it starts them as parts need them


def row_parts(n: int) -> list[tuple[int, int]]:
    """Rows ``0..n`` as contiguous ``(lo, hi)`` parts, one per thread (one below ``SPLIT_MIN_ROWS``)."""
    if n < SPLIT_MIN_ROWS or (k := threads()) == 1:  # the usual case first: a small run's day
        return [(0, n)]
    bounds = [n * p // k for p in range(k + 1)]
    return list(zip(bounds[:-1], bounds[1:], strict=True))


def column_parts(n: int, row_bytes: Sequence[int]) -> list[tuple[int, int]]:
    """Columns (``row_bytes``: each one's bytes a row) as contiguous ``(first, stop)`` groups of
    about equal bytes, one per thread, for work on ``n`` rows of each (one below ``SPLIT_MIN_ROWS``)."""
    if n < SPLIT_MIN_ROWS or (k := min(threads(), len(row_bytes))) == 1:
        return [(0, len(row_bytes))]
    ends = np.cumsum(row_bytes)
    cuts = [0, *(int(np.searchsorted(ends, ends[-1] * p / k)) + 1 for p in range(1, k)), len(row_bytes)]
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


def in_parts[T](fn: Callable[[int, int], T], parts: list[tuple[int, int]]) -> list[T]:
    """``fn(lo, hi)`` of every part, in the parts' order: the last in this thread, the others in
    the pool's (``fn`` should spend its time in a kernel compiled with ``nogil=True``)."""
    if len(parts) == 1:
        return [fn(*parts[0])]
    global _pool
    with _pool_lock:  # models stepped in threads of their own (the app's sessions) share the pool
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_THREADS, thread_name_prefix="cityrisk-split")
        pool = _pool
    futures: list[Future[T]] = [pool.submit(fn, lo, hi) for lo, hi in parts[:-1]]
    last = fn(*parts[-1])
    return [f.result() for f in futures] + [last]


def _forget_pool() -> None:
    # a forked child has the pool's object but not its threads
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)
