"""Compiled kernels of the front of the day. Emergence's new cases: numpy's draws, in numpy's
order, from the day's fresh streams as PCG64 state words (:mod:`sim.engine.pcg`,
:meth:`~sim.engine.streams.Streams.state`).

``random()``, ``exponential(1.0)``, ``standard_normal()`` and ``geometric(p)`` drawn one at a
time give exactly the numbers of numpy's vectorised calls on the stream's ``Generator``
(``tests/test_kernels_round6_front.py`` compares every kernel with the numpy code it replaces);
the exponential and normal draws are inlined here (:mod:`sim.engine.pcg`; numba's cache does not
see a change there: edit this file too, or delete its cache, when they change).
A day's few thousand new cases then cost a few compiled loops instead of some sixty numpy calls
on small arrays and twenty ``Generator`` objects. Detection's triage of what it found
(:func:`triage_split`, for :meth:`~sim.engine.routing.Router.triage`): one pass instead of some
thirty numpy calls (round 8).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .pcg import geometric, next_double, standard_exponential, standard_normal


@njit(cache=True)
def arrival_draws(rng, flat, n_cat, t0):  # pragma: no cover - compiled
    """Emergence's first draws for the new cases ``flat`` (cell indices, grid-major):
    ``grid, cat = flat // n_cat, flat % n_cat``; times ``t0 + 24 rng.random(n)``; the cases in
    time order (numpy's stable argsort: :func:`stable_order`), then ``u = rng.random((n, 4))``."""
    n = flat.shape[0]
    t = np.empty(n)
    for i in range(n):
        t[i] = t0 + 24.0 * next_double(rng)
    order = stable_order(t, t0, 24.0)
    grid = np.empty(n, np.int64)
    cat = np.empty(n, np.int64)
    ts = np.empty(n)
    for j in range(n):
        f = flat[order[j]]
        grid[j] = f // n_cat
        cat[j] = f % n_cat
        ts[j] = t[order[j]]
    u = np.empty((n, 4))
    for j in range(n):
        for c in range(4):
            u[j, c] = next_double(rng)
    return grid, cat, ts, u


@njit(cache=True)
def stable_order(t, lo, span):  # pragma: no cover - compiled
    """``np.argsort(t, kind="stable")`` for times ``t`` spread over ``[lo, lo + span]`` (finite,
    not NaN), in expected linear time: numba's mergesort spent ~75 ns a case (0.58 ms for 5x's
    7,500 a day). A counting sort into ``n`` buckets by ``(t - lo) × n / span`` keeps ties in
    index order; the bucket is a non-decreasing function of ``t`` (each rounded operation is
    monotone), so an insertion sort within each bucket (moving only past strictly greater
    times) gives the one stable order."""
    n = t.shape[0]
    scale = n / span
    bucket = np.empty(n, np.int64)
    start = np.zeros(n + 1, np.int64)
    for i in range(n):
        b = min(max(int((t[i] - lo) * scale), 0), n - 1)  # int(): truncation, as a cast
        bucket[i] = b
        start[b + 1] += 1
    for c in range(n):
        start[c + 1] += start[c]
    order = np.empty(n, np.int64)
    fill = start[:n].copy()
    for i in range(n):  # in index order: ties stay in it
        order[fill[bucket[i]]] = i
        fill[bucket[i]] += 1
    for c in range(n):
        for j in range(start[c] + 1, start[c + 1]):
            x = order[j]
            k = j
            while k > start[c] and t[order[k - 1]] > t[x]:
                order[k] = order[k - 1]
                k -= 1
            order[k] = x
    return order


@njit(cache=True)
def new_case_rows(rng, grid, cat, t, u, res_a, resident_start, residents_per_grid, collective, boost, pair,
                  severity_cum, proactive, min_involved, collective_action, lo,
                  col_category, col_grid, col_resident_a, col_resident_b, col_n_involved, col_severity0,
                  col_severity, col_t_emerge, col_proactive):  # pragma: no cover - compiled
    """The rest of emergence's ``_spawn`` for the cases of :func:`arrival_draws`, written to the
    table's rows ``lo ..``: the second party, pair or collective (its size ``min_involved − 1 +
    geometric(rng, 0.05)``, drawn for every case as numpy did), the severity from the category's
    cumulative shares, and whether only the city's own channels can find it (``rng.random``
    after the sizes). Returns the second parties of the cases with two or more involved (whose
    tension rises)."""
    n = grid.shape[0]
    n_inv = np.empty(n, np.int64)
    res_b = np.empty(n, np.int64)
    for i in range(n):
        g = grid[i]
        c = cat[i]
        size = residents_per_grid[g]
        res_b[i] = resident_start[g] + np.int64(u[i, 1] * size)
        share = collective[c] + boost[i]
        if share > 1.0:
            share = 1.0
        is_collective = u[i, 2] >= 1.0 - share
        n_inv[i] = 2 if u[i, 2] < pair[c] else 1
        sev = 0
        for k in range(3):
            if u[i, 3] >= severity_cum[c, k]:
                sev += 1
        if is_collective:
            if not collective_action and sev < 1:
                sev = 1
            n_inv[i] = -1  # sized below, after every case's geometric draw
        r = lo + i
        col_category[r] = c
        col_grid[r] = g
        col_resident_a[r] = res_a[i]
        col_severity0[r] = sev
        col_severity[r] = sev
        col_t_emerge[r] = t[i]
    for i in range(n):  # rng.geometric(0.05, n): one draw per case
        many = min_involved + geometric(rng, 0.05) - 1
        if n_inv[i] < 0:
            n_inv[i] = many
    m = 0
    for i in range(n):
        r = lo + i
        col_n_involved[r] = n_inv[i]
        if n_inv[i] >= 2:
            col_resident_b[r] = res_b[i]
            m += 1
        else:
            col_resident_b[r] = -1
    for i in range(n):
        col_proactive[lo + i] = next_double(rng) < proactive[cat[i]]
    second = np.empty(m, np.int64)
    j = 0
    for i in range(n):
        if n_inv[i] >= 2:
            second[j] = res_b[i]
            j += 1
    return second


@njit(cache=True)
def clock_draws(det, esc, svc, out, route, back, choice, lo, hi, latent, stage, acc_from, t_emerge, detect_left,
                fade_left, channel_u, lapse_left, esc_thresholds, service_u, outcome_u, difficulty, route_u,
                return_u, return_wait, choice_u):  # pragma: no cover - compiled
    """Emergence's ``_draw_clocks`` for rows ``lo:hi``: every stream's draws in numpy's order
    (each of a stream's vectorised calls over all the rows before its next), cast to the
    columns' dtypes on assignment as numpy casts them."""
    for r in range(lo, hi):
        stage[r] = latent
        acc_from[r] = t_emerge[r]
    for r in range(lo, hi):
        detect_left[r] = standard_exponential(det)
    for r in range(lo, hi):
        fade_left[r] = standard_exponential(det)
    for r in range(lo, hi):
        channel_u[r] = next_double(det)
    for r in range(lo, hi):
        lapse_left[r] = standard_exponential(det)
    for r in range(lo, hi):  # np.cumsum(exponential((n, 3)), axis=1), left to right
        total = 0.0
        for k in range(3):
            total += standard_exponential(esc)
            esc_thresholds[r, k] = total
    n_levels = service_u.shape[1]
    for r in range(lo, hi):
        for k in range(n_levels):
            service_u[r, k] = standard_exponential(svc)
    for r in range(lo, hi):
        for k in range(n_levels):
            outcome_u[r, k] = next_double(out)
    for r in range(lo, hi):
        difficulty[r] = standard_normal(out)
    for r in range(lo, hi):
        for k in range(n_levels):
            route_u[r, k] = next_double(route)
    for r in range(lo, hi):
        return_u[r] = next_double(back)
    for r in range(lo, hi):
        return_wait[r] = standard_exponential(back)
    for r in range(lo, hi):
        for k in range(3):
            choice_u[r, k] = next_double(choice)
    for r in range(lo, hi):
        choice_u[r, 3] = standard_exponential(choice)


@njit(cache=True)
def triage_split(rows, channel, severity, category, grid, route_u, t_detect, workers, entry_level, hotline, share, grid_level,
            level_col, entry_col, pool_col, t_arrive, levels_routed):  # pragma: no cover - compiled
    """:meth:`~sim.engine.routing.Router.triage` before the move, numpy's comparisons (the share as float32, as numpy
    compares it with the float32 uniforms): minor cases found by a grid worker (not the hotline)
    whose uniform falls under the on-the-spot share, in a grid with workers, placed at the grid.
    Returns the others with their entry levels (written as their entry level: the move puts
    them there), detection times and routing uniforms at those levels."""
    n = rows.shape[0]
    rest = np.empty(n, np.int64)
    level = np.empty(n, np.int64)
    t_ready = np.empty(n, np.float64)
    u = np.empty(n, np.float32)
    m = 0
    for k in range(n):
        i = rows[k]
        g = grid[i]
        if channel[i] != hotline and severity[i] == 0 and route_u[i, grid_level] < share and workers[g] > 0:
            level_col[i] = grid_level
            entry_col[i] = grid_level
            pool_col[i] = g
            t_arrive[i] = t_detect[i]
            levels_routed[i] |= np.uint8(1 << grid_level)
        else:
            lv = np.int64(entry_level[category[i], severity[i]])
            entry_col[i] = lv
            rest[m] = i
            level[m] = lv
            t_ready[m] = t_detect[i]
            u[m] = route_u[i, lv]
            m += 1
    return rest[:m], level[:m], t_ready[:m], u[:m]


_LOW7C = np.uint64(0x7C7C7C7C7C7C7C7C)  # bits 2-6 of every byte
_LOW7F = np.uint64(0x7F7F7F7F7F7F7F7F)
_HIGH = np.uint64(0x8080808080808080)


@njit(cache=True)
def exit_rows(stage, words, base, want):  # pragma: no cover - compiled
    """Rows whose stage ``s`` has ``want[s & 255]``, ascending, for codes ``want`` of closed
    stages only (4 to 127): ``stage_rows``' rows, skipping eight rows at a time where none is
    closed (``words``, ``base``: the stage column as 8-byte words, ``CaseTable.words``). A word
    holds a closed stage if and only if one of its bytes has a bit of 2-6 set (not an open stage,
    0-3) and bit 7 clear (not ``BURIED``): per byte, ``(b & 0x7C) + 0x7F`` sets bit 7 exactly
    when ``b & 0x7C`` is not 0, with no carry into the next byte. The returns' daily pass at 5x
    (day 200, 700,000 rows): 0.22 -> 0.11 ms."""
    n = stage.shape[0]
    out = np.empty(n, np.int64)
    k = 0
    i = 0
    while i < n and (base + i) & 7 != 0:  # up to the first whole word
        if want[stage[i] & 255]:
            out[k] = i
            k += 1
        i += 1
    while i + 8 <= n:
        w = words[(base + i) >> 3]
        if ((w & _LOW7C) + _LOW7F) & ~w & _HIGH:
            for b in range(8):  # k <= i + b: the slot is inside ``out``
                out[k] = i + b
                k += 1 if want[stage[i + b] & 255] else 0
        i += 8
    while i < n:
        if want[stage[i] & 255]:
            out[k] = i
            k += 1
        i += 1
    return out[:k].copy()
