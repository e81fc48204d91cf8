"""The compiled kernels of :mod:`sim.engine.escalation` (the hazard, its integration and the
end-of-day pass), in a module of their own for room; the stage re-exports the names tests use."""

from __future__ import annotations

import numpy as np
from numba import njit

from .intrinsics import prefetch
from .levels import TOP
from .routing import STREET_SCOPED

_STREET_SCOPED = np.zeros(int(TOP) + 1, dtype=np.bool_)  # levels whose street backlogs are balanced
_STREET_SCOPED[list(STREET_SCOPED)] = True
_AHEAD = 128  # prefetch distance in cases (a resident record is one random cache line; 32 to 256
#               measured: 128 was fastest, 2.5 to 4 times faster than no prefetch)


@njit(cache=True)
def _accrue_row(i, u, t0, acc_from, hazard, hazard_acc, thr):  # pragma: no cover - compiled
    """Integrate the hazard of row ``i`` from ``max(acc_from, t0)`` to ``u``; returns the number
    of thresholds crossed before and after, the start of the exposure and the integral before."""
    a = acc_from[i]
    start = a if a >= t0 else t0
    span = u - start
    if not span >= 0.0:
        span = 0.0
    before = hazard_acc[i]
    after = before + hazard[i] * span
    k0 = 0
    k1 = 0
    for c in range(3):
        t = np.float64(thr[i, c])
        if t <= before:
            k0 += 1
        if t <= after:
            k1 += 1
    hazard_acc[i] = after
    acc_from[i] = u
    return k0, k1, start, before


@njit(cache=True)
def _accrue_steps(rows, until, t0, acc_from, hazard, hazard_acc, thr, severity0, severity, grid, category,
                  t_severity2, by_grid, by_grid_category):  # pragma: no cover - compiled
    """Integrate ``hazard`` from ``max(acc_from, t0)`` to ``until`` (one value, or one per row)
    for ``rows`` and apply the severity steps of the thresholds crossed (:func:`_step_row`);
    returns the number of steps."""
    one = until.shape[0] == 1
    steps = 0
    for r in range(rows.shape[0]):
        i = rows[r]
        k0, k1, start, before = _accrue_row(i, until[0] if one else until[r], t0, acc_from, hazard, hazard_acc,
                                            thr)
        if k1 != k0:
            steps += _step_row(i, k0, k1, start, before, hazard, thr, severity0, severity, grid, category,
                               t_severity2, by_grid, by_grid_category)
    return steps


@njit(cache=True)
def _end_of_day(stage, level, severity0, severity, category, grid, t_arrive, acc_from, hazard, hazard_acc, thr,
                t_severity2, entry, top, review_after, street_scoped, t0, t1, by_grid,
                by_grid_category):  # pragma: no cover - compiled
    """:meth:`Escalation.end_of_day`'s pass: :func:`_accrue_steps` to ``t1``
    for the rows in stages 0..2 with ``acc_from < t1``; returns the number of steps and, ascending,
    the rows of those that wait (reporting or queued) below their route's level for their new
    severity (``entry[category, severity]``), then of the other queued rows those that waited
    ``review_after`` hours at a level below ``top``, then of the rest those queued at a level
    with ``street_scoped[level]``."""
    return _end_of_day_rows(np.empty(0, np.int64), True, stage, level, severity0, severity, category, grid,
                            t_arrive, acc_from, hazard, hazard_acc, thr, t_severity2, entry, top, review_after,
                            street_scoped, t0, t1, by_grid, by_grid_category)


@njit(cache=True)
def _end_of_day_rows(rows, every, stage, level, severity0, severity, category, grid, t_arrive, acc_from, hazard,
                     hazard_acc, thr, t_severity2, entry, top, review_after, street_scoped, t0, t1, by_grid,
                     by_grid_category):  # pragma: no cover - compiled
    """:func:`_end_of_day` over ``rows`` (ascending), or over every row when ``every``."""
    n = stage.shape[0] if every else rows.shape[0]
    up = np.empty(n, np.int64)
    due = np.empty(n, np.int64)
    bal = np.empty(n, np.int64)
    n_up = 0
    n_due = 0
    n_bal = 0
    steps = 0
    for r in range(n):
        i = r if every else rows[r]
        st = stage[i]
        if st > 2 or st < 0:
            continue
        if acc_from[i] < t1:
            if severity[i] < 3:
                k0, k1, start, before = _accrue_row(i, t1, t0, acc_from, hazard, hazard_acc, thr)
                if k1 != k0:
                    steps += _step_row(i, k0, k1, start, before, hazard, thr, severity0, severity, grid,
                                       category, t_severity2, by_grid, by_grid_category)
            # else: severity is capped (severity0 + thresholds crossed, at most 3, never lower), so
            # no crossing can change anything: the integral (read by nothing else) and its start
            # are left as they are — most of a 5x backlog. The start stays below t1, which is
            # tomorrow's t0, and every reader takes max(acc_from, t0) (accrue, lapse) or tests
            # acc_from < t1 (this pass): the same as if it had moved to t1.
            if (st == 1 or st == 2) and level[i] >= 0 and entry[category[i], severity[i]] > level[i]:
                up[n_up] = i
                n_up += 1
                continue
        if st == 2:
            lv = level[i]
            if lv < top and t1 - t_arrive[i] >= review_after:
                due[n_due] = i
                n_due += 1
            elif lv >= 0 and street_scoped[lv] and t1 - t_arrive[i] >= -np.inf:
                bal[n_bal] = i
                n_bal += 1
    return steps, up[:n_up].copy(), due[:n_due].copy(), bal[:n_bal].copy()


@njit(cache=True)
def _gather_residents(res, grid, per_grid, tension_t, tension, trust, now, relax, x, ten,
                      tru):  # pragma: no cover - compiled
    """For residents ``res``, into ``x``, ``ten``, ``tru``: ``-max(now - tension_t, 0) / relax`` in
    float32 (the exponent of tension decay), their tension and their own trust (one pass over the
    resident records); ``per_grid`` (zeros) counts the rows of each ``grid`` (exact integers, as
    np.bincount). Rows without a resident (-1: closed rows buried in place, CaseTable.bury) are
    skipped (zeros)."""
    n = res.shape[0]
    zero = np.float32(0.0)
    for k in range(n):
        if k + _AHEAD < n:  # the record a few dozen cases ahead: its cache miss overlaps this one
            prefetch(tension_t, res[k + _AHEAD])
        i = res[k]
        if i < 0:
            x[k] = ten[k] = tru[k] = zero
            continue
        per_grid[grid[k]] += 1.0
        _resident_terms(i, k, tension_t, tension, trust, now, relax, x, ten, tru)


@njit(cache=True)
def _resident_terms(i, k, tension_t, tension, trust, now, relax, x, ten, tru):  # pragma: no cover - compiled
    """Resident ``i``'s terms of :func:`_gather_residents` into ``x[k]``, ``ten[k]``, ``tru[k]``."""
    zero = np.float32(0.0)
    dt = now - tension_t[i]
    if not dt >= zero:
        dt = zero
    x[k] = -dt / relax
    ten[k] = tension[i]
    tru[k] = trust[i]


@njit(cache=True)
def _uncapped_rows(res, grid, severity, per_grid, rows):  # pragma: no cover - compiled
    """``per_grid`` (zeros) counts the open rows of each ``grid`` as :func:`_gather_residents` does;
    ``rows`` receives, ascending, the open rows whose ``severity`` is below 3. Returns their number."""
    m = 0
    for k in range(res.shape[0]):
        if res[k] >= 0:
            per_grid[grid[k]] += 1.0
            if severity[k] < 3:
                rows[m] = k
                m += 1
    return m


@njit(cache=True)
def _gather_rows(rows, res, tension_t, tension, trust, now, relax, x, ten, tru):  # pragma: no cover - compiled
    """:func:`_gather_residents`' terms of the residents of ``rows`` (open rows), into ``x[j]``,
    ``ten[j]``, ``tru[j]`` for the ``j``-th row (no counting)."""
    n = rows.shape[0]
    for j in range(n):
        if j + _AHEAD < n:
            prefetch(tension_t, res[rows[j + _AHEAD]])
        _resident_terms(res[rows[j]], j, tension_t, tension, trust, now, relax, x, ten, tru)


@njit(cache=True)
def _per_1000(counts, nb, floor):  # pragma: no cover - compiled
    """``neighbourhood_sum(counts) / floor * 1000.0`` (per grid), the same additions in the same
    order. Most of a map's neighbour cells hold no grid (72 % in xian), irregularly: their 0.0
    is selected, not branched to (a branch per cell mispredicted often: 146 µs a day against
    84 µs)."""
    n = counts.shape[0]
    out = np.empty(n)
    for g in range(n):
        total = 0.0
        for j in range(9):
            h = nb[g, j]
            v = counts[h if h >= 0 else 0]
            total += v if h >= 0 else 0.0
        out[g] = total / floor[g] * 1000.0
    return out


@njit(cache=True)
def _hazard(out, g, t_emerge, decay, tension, trust, shift, per_1000, t0, base, growth, max_mult,
            w_tension, w_distrust, w_neighbour, cat_mult, category, bounces,
            w_bounce):  # pragma: no cover - compiled
    """The hazard of the module docstring for every open case. Closed rows buried in place
    (CaseTable.bury: NaN emergence time, which no open case has) are skipped: nothing reads
    their hazard."""
    for k in range(out.shape[0]):
        if t_emerge[k] != t_emerge[k]:
            continue
        out[k] = _hazard_row(k, k, g, t_emerge, decay, tension, trust, shift, per_1000, t0, base, growth, max_mult,
                             w_tension, w_distrust, w_neighbour, cat_mult, category, bounces, w_bounce)


@njit(cache=True)
def _hazard_rows(rows, out, g, t_emerge, decay, tension, trust, shift, per_1000, t0, base, growth, max_mult,
                 w_tension, w_distrust, w_neighbour, cat_mult, category, bounces,
                 w_bounce):  # pragma: no cover - compiled
    """:func:`_hazard` of the open ``rows`` alone, their resident terms (``decay``, ``tension``,
    ``trust``) in the order of ``rows`` (:func:`_gather_rows`)."""
    for j in range(rows.shape[0]):
        k = rows[j]
        out[k] = _hazard_row(k, j, g, t_emerge, decay, tension, trust, shift, per_1000, t0, base, growth, max_mult,
                             w_tension, w_distrust, w_neighbour, cat_mult, category, bounces, w_bounce)


@njit(cache=True)
def _hazard_row(k, j, g, t_emerge, decay, tension, trust, shift, per_1000, t0, base, growth, max_mult,
                w_tension, w_distrust, w_neighbour, cat_mult, category, bounces,
                w_bounce):  # pragma: no cover - compiled
    """The hazard of row ``k``, its resident terms at ``j``: numpy's arithmetic in its order."""
    one32 = np.float32(1.0)
    waited_days = t0 - t_emerge[k]
    if not waited_days >= 0.0:
        waited_days = 0.0
    waited_days = waited_days / 24.0
    waiting = 1.0 + growth * waited_days
    if waiting > max_mult:
        waiting = max_mult
    tension_now = tension[j] * decay[j]  # float32
    trust_now = np.float64(trust[j]) + shift[g[k]]
    trust_now = min(max(trust_now, 0.0), 1.0)
    personal = np.float64(one32 + w_tension * tension_now) + w_distrust * (1.0 - trust_now)
    return (base * cat_mult[category[k]] * waiting * personal * (1.0 + w_bounce * bounces[k])
            * (1.0 + w_neighbour * per_1000[g[k]]))


@njit(cache=True, error_model="numpy")
def _step_row(i, k0, k1, start, before, hazard, thr, severity0, severity, grid, category, t_severity2, by_grid,
              by_grid_category):  # pragma: no cover - compiled
    """Severity steps of row ``i`` that crossed thresholds ``k0`` to ``k1``: severity0 + crossed
    (capped at 3), tallied per grid and per grid and category; the time severity first reached
    2, ``start + (threshold - before) / hazard`` (float32 threshold in float64). Returns the
    number of steps."""
    sev0 = np.int64(severity0[i])
    sb = min(sev0 + k0, 3)
    sa = min(sev0 + k1, 3)
    d = sa - sb
    by_grid[grid[i]] += d
    by_grid_category[grid[i], category[i]] += d
    severity[i] = sa
    if sb < 2 and sa >= 2:
        j = k0 + (2 - sb) - 1  # the threshold that took it to 2
        t_severity2[i] = start + (np.float64(thr[i, j]) - before) / hazard[i]
    return d
