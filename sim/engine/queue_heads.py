"""The heads of a level's FCFS queues: one pass over the rows at the level keeps, of each pool's
waiting rows, the first ``k`` by (arrival, case id) in a bounded heap (:func:`_level_heads`), and
lists the services ending today. A large table is passed over in a part per thread
(:func:`level_heads_in_parts`, sim/engine/split.py): each part keeps its own heads of every pool,
and the first ``k`` of their union are the first ``k`` of the pool (the same rows, which the
caller sorts; the same cut pools and counts)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit

from .intrinsics import no_byte
from .split import in_parts, row_parts


def level_heads_in_parts(rows: np.ndarray | None, cols: tuple, scratch: Callable[[int], tuple], n: int,
                         ) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
    """:func:`_level_heads` (``cols``: its arguments from ``level_col`` to ``first_free``) over
    ``rows``, or every row of the table's ``n`` when None, in a part per thread when there are
    many (``scratch(i)``: the heaps and per-pool arrays of part ``i``, kept by the caller). The
    heads come unsorted, as :func:`_level_heads` gives them; the cut pools sorted."""
    parts = row_parts(n)
    if len(parts) == 1:
        return _level_heads(rows, *cols, *scratch(0))
    index = {lo: i for i, (lo, _hi) in enumerate(parts)}
    level_col, stage, t_arrive, t_end, key, level, t1, pool, first_free = cols

    def part(lo: int, hi: int) -> tuple[np.ndarray, int, np.ndarray, np.ndarray]:
        sc = scratch(index[lo])
        if rows is not None:
            return _level_heads(rows[lo:hi], *cols, *sc)
        part_cols = (*(c[lo:hi] for c in (level_col, stage, t_arrive, t_end, key)), level, t1, pool[lo:hi], first_free)
        heads, n_wait, cut, done = _level_heads(None, *part_cols, *sc)
        return heads + lo, n_wait, cut, done + lo

    got = in_parts(part, parts)
    k = scratch(0)[0].shape[1]
    heads = np.concatenate([g[0] for g in got])
    # a pool whose parts kept more than k in all: its first k by (arrival, case id) of those
    p_of = pool[heads]
    over = np.bincount(p_of, minlength=first_free.shape[0]) > k
    cut = np.union1d(np.concatenate([g[2] for g in got]), np.flatnonzero(over))
    if over.any():
        sel = over[p_of]
        many = heads[sel]
        many = many[np.lexsort((key[many], t_arrive[many], pool[many]))]
        group = pool[many]
        rank = np.arange(many.size) - np.searchsorted(group, group)
        heads = np.concatenate([heads[~sel], many[rank < k]])
    return heads, sum(g[1] for g in got), cut, np.concatenate([g[3] for g in got])


@njit(cache=True)
def _later(a, b, arrive, key):  # pragma: no cover - compiled
    """Row ``a`` comes after row ``b`` in FCFS order (arrival, then case id)."""
    return arrive[a] > arrive[b] or (arrive[a] == arrive[b] and key[a] > key[b])


@njit(cache=True, nogil=True)
def _level_heads(rows, level_col, stage, t_arrive, t_end, key, level, t1, pool, first_free, heap, kept, total,
                 bound, touched):  # pragma: no cover - compiled
    """:func:`_level_rows` for FCFS over the rows at ``level`` (``rows``, ascending; None: every
    row whose ``level_col`` is ``level``; numba compiles the two cases apart), keeping of each
    pool's waiting rows only the ``k`` first by (arrival, case id): a bounded max-heap per pool
    (``heap``: pools x k, scratch). A pool can start someone where its ``first_free`` time is
    before ``t1``. Returns the kept rows (grouped by pool, unsorted), the number of waiting rows
    in the pools that can start, the pools with more waiting rows than kept (cut queues, which
    kept ``k``), and the rows whose service ends today.

    The per-pool ``kept``, ``total`` (zeros) and ``bound`` (-inf) are kept across days and
    handed back as they came: only the pools met (``touched``, scratch) are set up and reset,
    not four fresh arrays of every pool (13,000 grid pools at 1x, whose queues hold about 1,000
    rows a day)."""
    k = heap.shape[1]  # heap[p, :kept[p]] holds pool p's kept rows; the rest is never read
    # Rows arriving later than ``bound[p]`` cannot enter pool p's heap: NaN where no one can
    # start (no arrival passes ``<=``), +inf until the heap is full, then the arrival of its last
    # kept row; -inf before the pool's first row (arrival times are finite). One well predicted
    # test per row instead of a branch on the pool (in a long court queue, whether a row's pool
    # can start is a coin flip the CPU mispredicts half the time).
    nt = 0
    n = stage.shape[0] if rows is None else rows.shape[0]
    done = np.empty(n, np.int64)
    d = 0
    for r in range(n):
        if rows is None:
            i = r
            if level_col[i] != level:
                continue
        else:
            i = rows[r]
        s = stage[i]
        if (s == 1 or s == 2) and t_arrive[i] < t1:
            if s == 1:
                stage[i] = 2
            p = pool[i]
            b = bound[p]
            if b == -np.inf:  # the pool's first row
                b = np.inf if first_free[p] < t1 else np.nan
                bound[p] = b
                touched[nt] = p
                nt += 1
            total[p] += 1
            if not t_arrive[i] <= b:
                continue  # later than every kept row (or nobody starts in this pool)
            m = kept[p]
            if m < k:  # push, sift up
                j = m
                while j > 0:
                    par = (j - 1) // 2
                    if _later(i, heap[p, par], t_arrive, key):
                        heap[p, j] = heap[p, par]
                        j = par
                    else:
                        break
                heap[p, j] = i
                kept[p] = m + 1
                if m + 1 == k:
                    bound[p] = t_arrive[heap[p, 0]]
            elif _later(heap[p, 0], i, t_arrive, key):  # replace the last kept, sift down
                j = 0
                while True:
                    c = 2 * j + 1
                    if c >= k:
                        break
                    if c + 1 < k and _later(heap[p, c + 1], heap[p, c], t_arrive, key):
                        c += 1
                    if _later(heap[p, c], i, t_arrive, key):
                        heap[p, j] = heap[p, c]
                        j = c
                    else:
                        break
                heap[p, j] = i
                bound[p] = t_arrive[heap[p, 0]]
        elif s == 3 and t_end[i] < t1:
            done[d] = i
            d += 1
    n_kept = 0
    n_wait = 0
    n_cut = 0
    for t in range(nt):
        p = touched[t]
        n_kept += kept[p]
        if bound[p] == bound[p]:  # can start (NaN: cannot, kept nothing)
            n_wait += total[p]
            n_cut += 1 if total[p] > kept[p] else 0
    rows = np.empty(n_kept, np.int64)
    cut = np.empty(n_cut, np.int64)
    w = 0
    c = 0
    for t in range(nt):
        p = touched[t]
        for j in range(kept[p]):
            rows[w] = heap[p, j]
            w += 1
        if bound[p] == bound[p] and total[p] > kept[p]:
            cut[c] = p
            c += 1
        kept[p] = 0
        total[p] = 0
        bound[p] = -np.inf
    # unsorted: the caller sorts them with numpy (a compiled sort costs seconds to compile)
    return rows, n_wait, cut, done[:d].copy()


@njit(cache=True, nogil=True)
def _rows_at(level_col, words, base, rep, level):  # pragma: no cover - compiled
    """Rows whose ``level_col`` is ``level``, ascending, skipping eight rows at a time where none
    is (``words``, ``base``, ``rep``: the column as 8-byte words, ``CaseTable.words``, and the
    level in every byte). Inside a word that holds the level, every row is written and the count
    moves on only for a match: no branch to mispredict (2-4 times faster at 5x, one row in 10-80)."""
    n = level_col.shape[0]
    out = np.empty(n, np.int64)
    k = 0
    i = 0
    while i < n and (base + i) & 7 != 0:  # up to the first whole word
        if level_col[i] == level:
            out[k] = i
            k += 1
        i += 1
    while i + 8 <= n:
        if not no_byte(words, base + i, rep):
            for b in range(8):  # k <= i + b: the slot is inside ``out``
                out[k] = i + b
                k += 1 if level_col[i + b] == level else 0
        i += 8
    while i < n:
        if level_col[i] == level:
            out[k] = i
            k += 1
        i += 1
    return out[:k].copy()
