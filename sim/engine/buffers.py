"""Large column buffers that give their memory back: each in an anonymous mapping of its own.

The case table of a large run holds gigabytes in a few dozen columns that grow, move and shrink.
Left to ``malloc``, a freed column can stay in the heap (glibc raises its mmap threshold after
each large free, up to 32 MB) and the dead rows of a compacted table stay resident. A column in
a private anonymous mapping of its own (``mmap``) instead

* grows in place (``mremap``: the pages are remapped, not copied, so the old and the new buffer
  are never both resident),
* and returns the pages of its dead rows to the system at once (``madvise(MADV_DONTNEED)``: the
  next read of such a page gives zeros, the next write a fresh page).

The arrays are ordinary numpy arrays (``np.frombuffer`` views of the mapping); only the memory
behind them differs. A copied or unpickled array is an ordinary heap array again, and works the
same (it just does not release memory early).
"""

from __future__ import annotations

import mmap
from typing import Any

import numpy as np

MAP_BYTES = 1 << 20
"""Buffers of at least this many bytes get a mapping of their own (smaller ones are not worth a
system call each)."""
_PAGE = mmap.PAGESIZE
_MAPPABLE = all(hasattr(mmap, k) for k in ("MAP_PRIVATE", "MAP_ANONYMOUS", "MADV_DONTNEED"))
"""Private anonymous mappings and ``madvise`` (POSIX; Windows gets heap arrays)."""


def new_column(rows: int, dtype: Any, shape: tuple[int, ...] = ()) -> np.ndarray:
    """An uninitialised ``(rows, *shape)`` array: in a mapping of its own when large (its pages
    are zero until first written, and only touched pages are resident), else ``np.empty``."""
    count = rows * (int(np.prod(shape)) if shape else 1)
    nbytes = count * np.dtype(dtype).itemsize
    if nbytes < MAP_BYTES or nbytes == 0 or not _MAPPABLE:
        return np.empty((rows, *shape), dtype=dtype)
    buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(rows, *shape)


def mapping_of(col: np.ndarray) -> mmap.mmap | None:
    """The mapping behind ``col`` when it is a whole buffer made by :func:`new_column`."""
    base: Any = col
    while isinstance(base, np.ndarray):
        base = base.base
    if isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap):
        return base.obj
    return None


def release_rows(col: np.ndarray, lo: int, hi: int, live_lo: int, live_hi: int) -> None:
    """Give back the pages of rows ``lo:hi`` of ``col`` (a whole buffer) whose rows are all
    outside the live rows ``live_lo:live_hi`` (every row outside them is dead: its contents do not
    matter): those pages read as zeros afterwards. Nothing happens when ``col`` is not in a
    mapping of its own."""
    buf = mapping_of(col) if hi > lo else None
    if buf is None:
        return
    assert hi <= live_lo or lo >= live_hi or live_hi <= live_lo, "live rows are not released"
    width = col.itemsize * (col.size // col.shape[0])
    start, end = lo * width // _PAGE * _PAGE, -(-hi * width // _PAGE) * _PAGE  # pages touching lo:hi
    if live_hi > live_lo:  # ... less those holding a live byte
        if hi <= live_lo:
            end = min(end, live_lo * width // _PAGE * _PAGE)
        else:
            start = max(start, -(-live_hi * width // _PAGE) * _PAGE)
    end = min(end, len(buf))  # the last page may be partly outside the buffer: still its own
    if end > start:
        buf.madvise(mmap.MADV_DONTNEED, start, end - start)


def resized(buf: mmap.mmap, rows: int, dtype: Any, shape: tuple[int, ...] = ()) -> np.ndarray | None:
    """The mapping ``buf`` of a :func:`new_column` buffer resized in place to ``rows`` rows, as a
    new array: its first rows keep their contents, new rows read as zeros. ``None`` when a view
    of it is still alive (the caller must drop its own first): copy it then."""
    count = rows * (int(np.prod(shape)) if shape else 1)
    try:
        buf.resize(count * np.dtype(dtype).itemsize)
    except (BufferError, SystemError):  # SystemError: no mremap on this system
        return None
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(rows, *shape)
