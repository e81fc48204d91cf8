"""Round 8 (backlog stages): the new kernels against the code they replaced, on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

from sim.engine.case_kernels import compact_all
from sim.engine.cases import _ROW_BYTES, COLUMNS
from sim.engine.escalation import _neighbourhood_sum, _per_1000
from sim.engine.intrinsics import memmove


@njit(cache=True)
def _old_compact(flat, width, base, n, holes, j):  # pragma: no cover - compiled
    # the compaction of rounds 5-7 (one memmove per run of kept rows and column), as it was
    n_holes = holes.shape[0]
    write = (base + holes[j]) * width if j < n_holes else 0
    for h in range(j, n_holes):
        lo = (base + holes[h] + 1) * width
        hi = (base + (holes[h + 1] if h + 1 < n_holes else n)) * width
        if hi > lo:
            memmove(flat, write, lo, hi - lo)
            write += hi - lo
    if j > 0:
        write = (base + holes[j - 1] + 1) * width
        for h in range(j - 1, -1, -1):
            lo = (base + (holes[h - 1] + 1 if h > 0 else 0)) * width
            hi = (base + holes[h]) * width
            if hi > lo:
                write -= hi - lo
                memmove(flat, write, lo, hi - lo)


def _columns(rng: np.random.Generator, rows: int) -> tuple[np.ndarray, ...]:
    """Random bytes in buffers shaped like the case table's columns (every width in use)."""
    return tuple(rng.integers(0, 256, rows * int(w), dtype=np.uint8) for w in _ROW_BYTES)


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), spare=st.integers(0, 40),
       share=st.sampled_from([0.0, 0.02, 0.3, 0.9, 1.0]), side=st.floats(0.0, 1.0))
def test_compact_all_matches_memmove_runs(seed, n, spare, share, side):
    """Every byte of every buffer (dead rows included) is what the memmove compaction left."""
    rng = np.random.default_rng(seed)
    base = int(rng.integers(0, spare + 1))
    holes = np.flatnonzero(rng.random(n) < share).astype(np.int64)
    if holes.size == 0:
        holes = np.array([int(rng.integers(0, n))], dtype=np.int64)
    j = int(round(side * holes.size))  # every split: all on the left, all on the right, between
    flats = _columns(rng, base + n + spare)
    want = tuple(f.copy() for f in flats)
    for f, w in zip(want, _ROW_BYTES, strict=True):
        _old_compact(f, int(w), base, n, holes, j)
    compact_all(flats, _ROW_BYTES, base, n, holes, j)
    for got, ref in zip(flats, want, strict=True):
        assert got.tobytes() == ref.tobytes()


@pytest.mark.parametrize("holes", [[0], [4], [0, 1, 2, 3, 4], [1, 3], [0, 4]])
def test_compact_all_edges(holes):
    """Holes at either end, every row a hole, adjacent holes; every split."""
    rng = np.random.default_rng(1)
    h = np.array(holes, dtype=np.int64)
    for j in range(h.size + 1):
        flats = _columns(rng, 9)
        want = tuple(f.copy() for f in flats)
        for f, w in zip(want, _ROW_BYTES, strict=True):
            _old_compact(f, int(w), 2, 5, h, j)
        compact_all(flats, _ROW_BYTES, 2, 5, h, j)
        assert all(a.tobytes() == b.tobytes() for a, b in zip(flats, want, strict=True))


def test_row_bytes_cover_every_width():
    """The word widths compact_all dispatches on: 8, 4, 2 and 1 byte words all occur."""
    widths = {int(w) for w in _ROW_BYTES}
    assert len(COLUMNS) == len(_ROW_BYTES)
    assert any(w % 8 == 0 for w in widths) and any(w % 8 and w % 4 == 0 for w in widths)
    assert any(w % 4 and w % 2 == 0 for w in widths) and any(w % 2 for w in widths)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), grids=st.integers(1, 200), off=st.floats(0.0, 1.0))
def test_per_1000_matches_numpy(seed, grids, off):
    """The fused neighbour term: numpy's formula on the old neighbourhood sum, to the bit."""
    rng = np.random.default_rng(seed)
    nb = rng.integers(0, grids, (grids, 9)).astype(np.int64)
    nb[rng.random((grids, 9)) < off] = -1
    counts = rng.integers(0, 50, grids).astype(np.float64)
    counts[rng.random(grids) < 0.3] = 0.0
    near = rng.integers(0, 5000, grids).astype(np.float64)
    want = _neighbourhood_sum(counts[:, None].copy(), nb)[:, 0] / np.maximum(near, 1.0) * 1000.0
    got = _per_1000(counts, nb, np.maximum(near, 1.0))
    assert got.tobytes() == want.tobytes()
