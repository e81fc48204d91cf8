"""Faster, exact equivalents of numpy ``Generator`` draws the model makes every day.

``poisson_cells(rng, rate)`` returns what ``np.repeat(np.arange(rate.size),
rng.poisson(rate).ravel())`` returns — each cell's index as many times as its Poisson count — and
leaves ``rng`` in the same state. Emergence draws two Poisson counts for each of ``xian``'s
64,765 grid × category cells every day; numpy's ``poisson`` spends about 10–19 ns a cell in its
per-element loop (one ``exp`` and one uniform per cell), here about 3.

How it stays exact: for ``0 < lam < 10`` numpy uses the multiplication method
(``random_poisson_mult``: multiply uniforms until the product is ``<= exp(-lam)``; every uniform
is one ``next_double`` of the bit generator) and for ``lam == 0`` returns 0 without a draw. The
kernel steps numpy's PCG64 itself (:mod:`sim.engine.pcg`: the same uniforms, no block to draw,
save and rewind) and consumes them in the same order. ``exp(-lam)`` is the C library's, as
numpy's is; it is computed only when the first uniform is not surely below it:
``exp(-lam) >= 1 - lam``, so a uniform under ``1 - lam - 1e-12`` gives a count of 0 whatever the
last bits of ``exp`` (most cells, since the rates are small). At a cell with ``lam >= 10``
(numpy's PTRS method) or a negative or NaN rate the state is put back and numpy's own
``poisson`` draws them all.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .pcg import from_generator, next_double, to_generator

_MARGIN = 1e-12  # far wider than libm's error of exp (under 1 ulp, 1.1e-16 near 1)


@njit(cache=True)
def _room(n_cells):  # pragma: no cover - compiled
    # the first buffer's length for the cells of ``n_cells`` rates: one slot a cell (at 5x the
    # triggered cases, 4,300 a day, overflowed a sixteenth of xian's cells, and the whole pass ran
    # again); only the slots filled are ever touched, so the rest of the buffer costs nothing
    return 64 + n_cells


def poisson_cells(rng: np.random.Generator | np.ndarray, rate: np.ndarray) -> np.ndarray:
    """Cell indices (C order of ``rate``) repeated by their Poisson(``rate``) counts; ``rng`` (a
    PCG64 ``Generator``, or a stream's state words: :mod:`sim.engine.pcg`) is left exactly
    where ``rng.poisson(rate)`` leaves it."""
    lam = np.ascontiguousarray(rate, dtype=np.float64).reshape(-1)
    if isinstance(rng, np.ndarray):
        cells, ok = _poisson_mult(rng, lam, _MARGIN)
        if ok:
            return cells
        gen = np.random.Generator(np.random.PCG64())
        to_generator(gen, rng)
        counts = gen.poisson(rate).reshape(-1)
        rng[:] = from_generator(gen)
        return np.repeat(np.arange(counts.size), counts)
    if isinstance(rng.bit_generator, np.random.PCG64) and lam.size:
        st = from_generator(rng)
        cells, ok = _poisson_mult(st, lam, _MARGIN)
        if ok:
            to_generator(rng, st)
            return cells
    counts = rng.poisson(rate).reshape(-1)
    return np.repeat(np.arange(counts.size), counts)


@njit(cache=True)
def _poisson_mult(st, lam, margin):  # pragma: no cover - compiled
    """numpy's ``random_poisson`` for ``0 <= lam < 10``, drawing from the PCG64 state ``st`` in
    numpy's order. Returns each cell's index repeated by its count (``np.repeat(arange,
    counts)``) and True; an empty array and False, with ``st`` as it was, if a rate is
    negative, NaN or ``>= 10``."""
    saved = st.copy()
    size = _room(lam.shape[0])
    while True:
        cells = np.empty(size, np.int64)
        total = _poisson_fill(st, lam, margin, cells)
        if total >= 0:
            return cells[:total].copy(), True
        st[:] = saved  # put back: numpy's own draws (-2), or again with room for the cells (-1)
        if total == -2:
            return cells[:0], False
        size *= 4


@njit(cache=True)
def _poisson_fill(st, lam, margin, cells):  # pragma: no cover - compiled
    # the cells, in one pass, into ``cells``; their number, -1 if ``cells`` is too small, -2
    # at a rate numpy's multiplication method does not take
    total = 0
    for i in range(lam.shape[0]):
        total = _cell(st, lam[i], margin, i, cells, total)
        if total < 0:
            return total
    return total


@njit(cache=True, inline="always")
def _cell(st, lm, margin, i, cells, total):  # pragma: no cover - compiled
    # numpy's random_poisson_mult for cell i at rate lm: its index appended once per count;
    # the new number of cells, -1 if ``cells`` is too small, -2 at a rate it does not take
    if not (lm >= 0.0 and lm < 10.0):
        return -2
    if lm == 0.0:
        return total
    prod = next_double(st)  # numpy: prod = 1.0, then prod *= U (1.0 * U is U exactly)
    if prod < (1.0 - lm) - margin:  # surely <= exp(-lam): a count of 0 after one uniform
        return total
    enlam = math.exp(-lm)
    while prod > enlam:
        if total == cells.shape[0]:
            return -1
        cells[total] = i
        total += 1
        prod *= next_double(st)
    return total


def poisson_outer(st: np.ndarray, per_grid: np.ndarray, weight: np.ndarray, per_cat: np.ndarray,
                  factor: float) -> np.ndarray | None:
    """:func:`poisson_cells` of the rates ``(per_grid × weight)[:, None] × per_cat[None, :] ×
    factor`` (numpy's products, in that order) from the state words ``st``, without the rate
    array (emergence's day: one pass instead of four over 64,765 cells); None, with ``st`` as
    it was, where a rate needs numpy's own draws."""
    size = _room(per_grid.shape[0] * per_cat.shape[0])
    while True:
        cells = np.empty(size, np.int64)
        total = _outer_fill(st, per_grid, weight, per_cat, float(factor), _MARGIN, cells)
        if total >= 0:
            return cells[:total].copy()
        if total == -2:
            return None
        size *= 4


@njit(cache=True)
def _outer_fill(st, per_grid, weight, per_cat, factor, margin, cells):  # pragma: no cover - compiled
    # _poisson_fill over the rates of poisson_outer, made cell by cell (st put back unless done)
    saved = st.copy()
    n_cat = per_cat.shape[0]
    total = 0
    for g in range(per_grid.shape[0]):
        x = np.float64(per_grid[g]) * weight[g]
        for c in range(n_cat):
            total = _cell(st, (x * per_cat[c]) * factor, margin, g * n_cat + c, cells, total)
            if total < 0:
                st[:] = saved
                return total
    return total
