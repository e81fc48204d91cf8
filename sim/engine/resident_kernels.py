"""Compiled passes over the resident table (:mod:`sim.engine.residents`): effective trust, the
pairwise trust sums, tension's gather and scatter, the picking of parties by position.

Kept apart from the table so that each module stays short; every kernel reproduces the numpy
formulation it replaced bit for bit (the tests hold that formulation as the reference).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .intrinsics import prefetch

_AHEAD = 64  # prefetch distance in residents (the records are random cache lines)


@njit(cache=True)
def _effective_trust(idx, grid, trust, shift):  # pragma: no cover - compiled
    """``np.clip(trust[idx] + shift[grid], 0.0, 1.0)``: float32 + float64 in float64, clipped as
    np.clip does (only values below 0 or above 1 are replaced: -0.0 stays -0.0, NaN stays NaN)."""
    n = idx.shape[0]
    out = np.empty(n)
    for k in range(n):
        if k + _AHEAD < n:
            prefetch(trust, idx[k + _AHEAD])
        x = np.float64(trust[idx[k]]) + shift[grid[k]]
        if x < 0.0:
            x = 0.0
        elif x > 1.0:
            x = 1.0
        out[k] = x
    return out


@njit(cache=True, nogil=True)
def _pairwise(a, lo, n):  # pragma: no cover - compiled
    """numpy's pairwise sum (``pairwise_sum`` in its loops) of ``a[lo:lo + n]`` in float64: a
    plain loop below 8 values, eight accumulators up to 128, halves (a multiple of 8) above."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += np.float64(a[lo + i])
        return res
    if n <= 128:
        r = np.empty(8)
        for j in range(8):
            r[j] = np.float64(a[lo + j])
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] += np.float64(a[lo + i + j])
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res += np.float64(a[lo + i])
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(a, lo, n2) + _pairwise(a, lo + n2, n - n2)


@njit(cache=True, nogil=True)
def _segment_sums(a, start):  # pragma: no cover - compiled
    """``np.add.reduceat(a, start[:-1], dtype=np.float64)`` with ``start[-1] == a.size``."""
    out = np.empty(start.shape[0] - 1)
    for g in range(start.shape[0] - 1):
        lo, hi = start[g], start[g + 1]
        out[g] = np.float64(a[lo]) + _pairwise(a, lo + 1, hi - lo - 1)
    return out


@njit(cache=True, nogil=True)
def _mean_trust_terms(trust_sum, size, shift):  # pragma: no cover - compiled
    """``(np.clip(trust_sum / np.maximum(size, 1) + shift, 0, 1) * size, size.sum())`` for integer
    ``size``: the terms of the city's mean trust in one pass (numpy made four grid-sized
    temporaries). Their sum stays numpy's np.sum: a kernel calling the recursive :func:`_pairwise`
    on float64 for it segfaulted when loaded from numba's cache in a later process."""
    n = size.shape[0]
    y = np.empty(n)
    total = 0
    for g in range(n):
        m = size[g]
        total += m
        v = trust_sum[g] / np.float64(m if m > 1 else 1) + shift[g]
        if v < 0.0:  # np.clip: only values outside [0, 1] replaced (NaN stays NaN)
            v = 0.0
        elif v > 1.0:
            v = 1.0
        y[g] = v * np.float64(m)
    return y, total


@njit(cache=True, nogil=True)
def _scale_clipped(values, start, factor):  # pragma: no cover - compiled
    """``values[start[g]:start[g + 1]] = np.minimum(values[...] * factor[g], 1)`` for every grid
    ``g``, in float32 as numpy computes it (NaN stays NaN)."""
    one = np.float32(1.0)
    for g in range(start.shape[0] - 1):
        f = factor[g]
        for i in range(start[g], start[g + 1]):
            x = values[i] * f
            values[i] = one if x > one else x


@njit(cache=True, nogil=True)
def _tension_gather(idx, tension_t, tension, now, relax, x, ten):  # pragma: no cover - compiled
    """Into ``x``: ``-np.maximum(now - tension_t[idx], 0) / relax``, and into ``ten``: ``tension[idx]``
    (float32, numpy's order; negative indices count from the end, as numpy's do)."""
    n_res = tension.shape[0]
    zero = np.float32(0.0)
    n = idx.shape[0]
    for k in range(n):
        if k + _AHEAD < n:  # a random record per index: ask for those ahead (a hint, never a fault)
            prefetch(tension, idx[k + _AHEAD])
        i = idx[k]
        if i < 0:
            i += n_res
        dt = now - tension_t[i]
        if dt < zero:  # np.maximum: NaN stays NaN
            dt = zero
        x[k] = -dt / relax
        ten[k] = tension[i]


@njit(cache=True, nogil=True)
def _tension_scatter(idx, ten, decay, amount, now, tension, tension_t):  # pragma: no cover - compiled
    """``tension[idx] = np.minimum(ten * decay + amount, 1)``, ``tension_t[idx] = now`` in float32
    (repeated residents: the last write wins, as in numpy's assignment)."""
    n_res = tension.shape[0]
    one = np.float32(1.0)
    for k in range(idx.shape[0]):
        i = idx[k]
        if i < 0:
            i += n_res
        v = ten[k] * decay[k] + amount
        tension[i] = one if v > one else v  # np.minimum: NaN stays NaN
        tension_t[i] = now


@njit(cache=True, nogil=True)
def _logit_interp(u, z, y, out):  # pragma: no cover - compiled
    """``out = np.interp(scipy.special.logit(u), z, y)`` for an increasing, evenly spaced ``z``:
    scipy's logit (``log(x / (1 - x))``, ``log1p(s) - log1p(-s)`` with ``s = 2(x - 0.5)`` on
    [0.3, 0.65]) and numpy's interpolation (its interval, slope and special cases), the interval
    found from a guess on the even grid, corrected to the one numpy's search finds."""
    n = z.shape[0]
    scale = (n - 1) / (z[n - 1] - z[0])
    for k in range(u.shape[0]):
        p = u[k]
        if p < 0.3 or p > 0.65:
            x = np.log(p / (1 - p))
        else:
            s = 2 * (p - 0.5)
            x = np.log1p(s) - np.log1p(-s)
        if x != x:
            out[k] = x
            continue
        if x < z[0]:
            out[k] = y[0]
            continue
        if x > z[n - 1]:
            out[k] = y[n - 1]
            continue
        j = min(max(int((x - z[0]) * scale), 0), n - 1)
        while j > 0 and z[j] > x:
            j -= 1
        while j < n - 1 and z[j + 1] <= x:
            j += 1
        if j == n - 1 or z[j] == x:
            out[k] = y[j]
            continue
        slope = (y[j + 1] - y[j]) / (z[j + 1] - z[j])
        r = slope * (x - z[j]) + y[j]
        if r != r:  # numpy: NaN in one direction, try the other
            r = slope * (x - z[j + 1]) + y[j + 1]
            if r != r and y[j] == y[j + 1]:
                r = y[j]
        out[k] = r


@njit(cache=True, nogil=True)
def _position_rows(x, grid, start, size, out):  # pragma: no cover - compiled
    """``start[grid] + np.minimum((x * size[grid]).astype(np.int64), size[grid] - 1)``."""
    for k in range(grid.shape[0]):
        g = grid[k]
        r = np.int64(x[k] * np.float64(size[g]))
        if r > size[g] - 1:
            r = size[g] - 1
        out[k] = start[g] + r


@njit(cache=True)
def _move_trust(idx, target, rate, trust, trust_sum, start):  # pragma: no cover - compiled
    """The numpy formulation of ``ResidentTable.move_trust`` for a float32 ``rate`` and float64
    ``target``: each resident once (their first entry, by numpy's stable sort, as np.unique's
    ``return_index``), ascending; ``new = clip(old + rate (float32(target) − old), 0, 1)`` in
    float32 (NaN stays NaN); ``trust_sum`` of their grid (``searchsorted(start, i, 'right') − 1``)
    += float64(new − old), in that order (as np.add.at)."""
    order = _stable_order(idx)
    last_g = start.shape[0] - 2
    g = 0
    prev = 0
    zero, one = np.float32(0.0), np.float32(1.0)
    n = order.shape[0]
    for k in range(n):
        if k + _AHEAD < n:  # the records are random cache lines: ask for those ahead
            prefetch(trust, idx[order[k + _AHEAD]])
        j = order[k]
        i = idx[j]
        if k > 0 and i == prev:
            continue
        prev = i
        old = trust[i]
        new = old + rate * (np.float32(target[j]) - old)
        if new < zero:
            new = zero
        elif new > one:
            new = one
        trust[i] = new
        while g < last_g and start[g + 1] <= i:  # the residents come in ascending order
            g += 1
        trust_sum[g] += np.float64(new - old)


@njit(cache=True)
def _stable_order(keys):  # pragma: no cover - compiled
    """``np.argsort(keys, kind="stable")`` of int64 ``keys``: an LSD radix sort by bytes (stable,
    linear: 20 µs for 3,000 residents' indices, against 115 µs by numba's merge sort) when no key
    is negative, else the merge sort."""
    n = keys.shape[0]
    if n < 2 or keys.min() < 0:
        return np.argsort(keys, kind="mergesort")
    order = np.arange(n)
    tmp = np.empty(n, np.int64)
    count = np.empty(257, np.int64)
    hi = keys.max()
    shift = 0
    while shift < 64 and (hi >> shift) > 0:  # a pass per byte up to the largest key's highest
        count[:] = 0
        for k in range(n):
            count[((keys[order[k]] >> shift) & 255) + 1] += 1
        for d in range(256):
            count[d + 1] += count[d]
        for k in range(n):  # in the order so far: equal digits keep it (stable)
            i = order[k]
            d = (keys[i] >> shift) & 255
            tmp[count[d]] = i
            count[d] += 1
        order, tmp = tmp, order
        shift += 8
    return order
