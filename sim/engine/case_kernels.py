"""Compiled passes over the columns of the case table (:class:`sim.engine.cases.CaseTable`): its
compaction, the marks of buried rows, and the defaults of new rows.

A compaction moves the rows kept after the removed ones, in every column. Closed cases are
scattered through the table (at 1x a day closes one row in eight, all ages alike; at 5x a
compaction removes 40,000 rows from the newest 180,000), so the rows kept between two removed
ones are few: 4 to 8 on average. One ``memmove`` per such run and column (84,000 a day at 1x,
1.9 million per compaction at 5x) cost more than the bytes they moved; the rows are instead
listed once, then every column copies them with one loop over that list, in words of its own
width (the same bytes land in the same places: every row a run moved is moved, nothing else is
written).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .intrinsics import memmove


@njit(cache=True, nogil=True)
def compact_all(flats, widths, base, n, holes, j):  # pragma: no cover - compiled
    """Remove rows ``holes`` (sorted, relative to ``base``; ``n`` rows) from every column
    (``flats``: their bytes, ``widths``: their bytes per row): the rows before ``holes[j]`` shift
    towards the end, those after it towards the front, their order kept."""
    right, left = kept_rows(n, holes, j)
    move_columns(flats, widths, base, holes, j, right, left, 0, len(flats))


@njit(cache=True, nogil=True)
def move_columns(flats, widths, base, holes, j, right, left, first, stop):  # pragma: no cover - compiled
    """:func:`compact_all`'s moves of the columns ``first`` to ``stop`` (``right`` and ``left``:
    :func:`kept_rows`): columns apart can be moved by threads apart."""
    for c in range(first, stop):
        flat, width = flats[c], widths[c]
        if width % 8 == 0:
            _move_rows(flat.view(np.uint64), width // 8, base, holes, j, right, left)
        elif width % 4 == 0:
            _move_rows(flat.view(np.uint32), width // 4, base, holes, j, right, left)
        elif width % 2 == 0:
            _move_rows(flat.view(np.uint16), width // 2, base, holes, j, right, left)
        else:
            _move_rows(flat, width, base, holes, j, right, left)


@njit(cache=True, nogil=True)
def kept_rows(n, holes, j):  # pragma: no cover - compiled
    """The kept rows that move: after ``holes[j]`` ascending, and before ``holes[j - 1]``
    descending (the order each side is written in)."""
    n_holes = holes.shape[0]
    right = np.empty((n - holes[j] - 1) - (n_holes - j - 1) if j < n_holes else 0, np.int64)
    k = 0
    for h in range(j, n_holes):
        for r in range(holes[h] + 1, holes[h + 1] if h + 1 < n_holes else n):
            right[k] = r
            k += 1
    left = np.empty(holes[j - 1] - (j - 1) if j > 0 else 0, np.int64)
    k = 0
    for h in range(j - 1, -1, -1):
        for r in range(holes[h] - 1, (holes[h - 1] if h > 0 else -1), -1):
            left[k] = r
            k += 1
    return right, left


@njit(cache=True, nogil=True)
def _move_rows(v, w, base, holes, j, right, left):  # pragma: no cover - compiled
    """Rows ``right`` of a column (``v``: its words, ``w`` a row) to the rows from ``holes[j]`` on,
    and ``left`` to the rows down from ``holes[j - 1]``. In place: a row is written only after the
    row it receives and every row still to be read on its side (further from the holes) was read."""
    if right.shape[0]:
        d = (base + holes[j]) * w
        if w == 1:
            for q in range(right.shape[0]):
                v[d + q] = v[base + right[q]]
        else:
            for q in range(right.shape[0]):
                s = (base + right[q]) * w
                for e in range(w):
                    v[d + q * w + e] = v[s + e]
    if left.shape[0]:
        d = (base + holes[j - 1] + 1) * w  # one past the last row written (moving towards the end)
        if w == 1:
            for q in range(left.shape[0]):
                v[d - 1 - q] = v[base + left[q]]
        else:
            for q in range(left.shape[0]):
                s = (base + left[q]) * w
                t = d - (q + 1) * w
                for e in range(w):
                    v[t + e] = v[s + e]


@njit(cache=True, nogil=True)
def bury_rows(rows, buried, stage, collective, resident_a, resident_b, t_emerge, t_detect,
              t_severity2):  # pragma: no cover - compiled
    """The marks of :meth:`sim.engine.cases.CaseTable.bury` on ``rows`` (stage ``buried``), in one pass."""
    for k in range(rows.shape[0]):
        i = rows[k]
        stage[i] = buried
        collective[i] = -1
        resident_a[i] = resident_b[i] = -1
        t_emerge[i] = t_detect[i] = t_severity2[i] = np.nan


@njit(cache=True, nogil=True)
def fill_rows(flats, widths, fills, lo, hi, case_id, next_id):  # pragma: no cover - compiled
    """Rows ``lo:hi`` of every column (``flats``: their bytes) set to the column's fill value
    (``fills``: one row of each, one after another), then ``case_id`` to ``next_id, next_id + 1, ...``:
    the first row byte by byte, the rest by doubling copies of the rows already filled."""
    total = hi - lo
    at = 0
    for c in range(len(flats)):
        flat, w = flats[c], widths[c]
        if total > 0:
            for b in range(w):
                flat[lo * w + b] = fills[at + b]
            done = 1
            while done < total:
                k = min(done, total - done)
                memmove(flat, (lo + done) * w, lo * w, k * w)
                done += k
        at += w
    for i in range(total):
        case_id[lo + i] = next_id + i
