"""Faster, exact equivalents of numpy ``Generator`` draws the model makes every day.

``poisson_cells(rng, rate)`` returns what ``np.repeat(np.arange(rate.size),
rng.poisson(rate).ravel())`` returns — each cell's index as many times as its Poisson count — and
leaves ``rng`` in the same state. Emergence draws two Poisson counts for each of ``xian``'s
64,765 grid × category cells every day; numpy's ``poisson`` spends about 10–19 ns a cell in its
per-element loop (one ``exp`` and one uniform per cell), here about 3.

How it stays exact: for ``0 < lam < 10`` numpy uses the multiplication method
(``random_poisson_mult``: multiply uniforms until the product is ``<= exp(-lam)``; every uniform
is one ``next_double`` of the bit generator) and for ``lam == 0`` returns 0 without a draw. The
kernel takes the same uniforms from one bulk ``rng.random`` block and consumes them in the same
order, then the bit generator is reset and advanced by exactly the number used (one step of
PCG64 per ``next_double``). ``exp(-lam)`` is the C library's, as numpy's is; it is computed only
when the first uniform is not surely below it: ``exp(-lam) >= 1 - lam``, so a uniform under
``1 - lam - 1e-12`` gives a count of 0 whatever the last bits of ``exp`` (most cells, since the
rates are small). Any cell with ``lam >= 10`` (numpy's
PTRS method), a negative or NaN rate, a non-PCG64 generator or a block that ran out falls back
to numpy's own ``poisson`` from the saved state.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_MARGIN = 1e-12  # far wider than libm's error of exp (under 1 ulp, 1.1e-16 near 1)


def poisson_cells(rng: np.random.Generator, rate: np.ndarray) -> np.ndarray:
    """Cell indices (C order of ``rate``) repeated by their Poisson(``rate``) counts; ``rng`` is
    left exactly where ``rng.poisson(rate)`` leaves it."""
    lam = np.ascontiguousarray(rate, dtype=np.float64).reshape(-1)
    bitgen = rng.bit_generator
    if isinstance(bitgen, np.random.PCG64) and lam.size:
        saved = bitgen.state
        block = lam.size + 64 + lam.size // 8
        for _ in range(3):
            u = rng.random(block)
            cells, used = _poisson_mult(lam, u, _MARGIN)
            bitgen.state = saved
            if used >= 0:
                bitgen.advance(used)
                if saved["has_uint32"]:  # advance() drops a buffered 32-bit half: keep it
                    bitgen.state = {**bitgen.state, "has_uint32": saved["has_uint32"],
                                    "uinteger": saved["uinteger"]}
                return cells
            if used == -2:  # a rate numpy's multiplication method does not take
                break
            block *= 4
    counts = rng.poisson(rate).reshape(-1)
    return np.repeat(np.arange(counts.size), counts)


@njit(cache=True)
def _poisson_mult(lam, u, margin):  # pragma: no cover - compiled
    """numpy's ``random_poisson`` for ``0 <= lam < 10`` from the uniforms ``u``, in order.
    Returns each cell's index repeated by its count (``np.repeat(arange, counts)``) and the
    number of uniforms used; -1 if ``u`` ran out, -2 if a rate is negative, NaN or ``>= 10``
    (checked before anything is used)."""
    n = lam.shape[0]
    counts = np.zeros(n, np.int64)
    for i in range(n):
        if not (lam[i] >= 0.0 and lam[i] < 10.0):
            return counts[:0], -2
    m = u.shape[0]
    k = 0
    total = 0
    for i in range(n):
        lm = lam[i]
        if lm == 0.0:
            continue
        if k >= m:
            return counts[:0], -1
        u0 = u[k]
        if u0 < (1.0 - lm) - margin:  # surely <= exp(-lam): a count of 0 after one uniform
            k += 1
            continue
        enlam = math.exp(-lm)
        x = 0
        prod = 1.0
        while True:
            if k >= m:
                return counts[:0], -1
            prod *= u[k]
            k += 1
            if prod > enlam:
                x += 1
            else:
                break
        counts[i] = x
        total += x
    cells = np.empty(total, np.int64)
    j = 0
    for i in range(n):
        for _ in range(counts[i]):
            cells[j] = i
            j += 1
    return cells, k
