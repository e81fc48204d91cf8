"""Compiled passes of the back half of the day (service, accounting): each replaces a run of
numpy fancy-indexing passes over the same rows by one loop, with numpy's arithmetic in numpy's
dtypes and, where floats are summed, numpy's order (``np.add.at`` adds in index order)."""

from __future__ import annotations

import numpy as np
from numba import njit

from .cases import CaseTable


def book_intervals(partial: np.ndarray, full_diff: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
    """Book services ``[start, end)`` (hours) into one level's row of a busy ledger: hours in
    the first and last day of each service to ``partial``, +1 / -1 at the ends of its whole
    days to ``full_diff`` (both long enough for the last day, ``BusyLedger._grow``)."""
    _book_intervals(partial, full_diff, np.asarray(start, dtype=np.float64), np.asarray(end, dtype=np.float64))


def mark_started(tab: CaseTable, rows: np.ndarray, start: np.ndarray, end: np.ndarray, server: np.ndarray,
                 level: int, in_service: int) -> None:
    """Record the services that start today on the cases ``rows`` (distinct): waits, visits,
    start, end, server, stage ``in_service``, the level in ``levels_served``, and the
    escalation clock stopped (``acc_from`` = inf)."""
    _mark_started(np.asarray(rows, dtype=np.int64), start, end, server, level, in_service,
                  tab["t_arrive"], tab["acc_from"], tab["visits"], tab["first_wait"],
                  tab["esc_before_service"], tab["severity"], tab["severity0"],
                  tab["wait_total"], tab["t_start"], tab["t_end"], tab["server"],
                  tab["stage"], tab["levels_served"])


def with_ends(done: np.ndarray, rows: np.ndarray, end: np.ndarray, t1: float) -> np.ndarray:
    """The rows ``done`` (ascending) and those of ``rows`` (ascending, disjoint from ``done``) whose
    service ``end`` is before ``t1``, ascending: what ``np.sort(np.concatenate([done,
    rows[end < t1]]))`` gives, merged in one compiled pass instead of four numpy calls."""
    return _with_ends(np.asarray(done, dtype=np.int64), np.asarray(rows, dtype=np.int64), end, float(t1))


def settle_outcomes(tab: CaseTable, rows: np.ndarray, p: np.ndarray, level: int, warmup_hours: float, top: bool,
                    resolved: int, unresolved: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Outcomes of the services at ``level`` that end today (cases ``rows``, success chances
    ``p``): success where the case's outcome uniform is below ``p``. Resolved cases — and at the
    ``top`` level failed ones, as ``unresolved`` — close at their service end. Returns the failed
    rows, the rest of their uniform above ``p`` rescaled to a uniform (0 where ``p`` is 1), and
    the attempts and successes of cases that emerged after the warm-up."""
    fi, rest, counts = _settle_outcomes(np.asarray(rows, dtype=np.int64), p, tab["outcome_u"], level,
                                        float(warmup_hours), tab["t_emerge"], tab["stage"], tab["t_close"],
                                        tab["t_end"], bool(top), resolved, unresolved)
    return fi, rest, int(counts[0]), int(counts[1])


@njit(cache=True)
def _settle_outcomes(rows, p, outcome_u, level, warmup_hours, t_emerge, stage, t_close, t_end, top, resolved,
                     unresolved):  # pragma: no cover - compiled
    n = rows.shape[0]
    failed = np.empty(n, np.int64)
    rest = np.empty(n, np.float64)
    counts = np.zeros(2, np.int64)
    f = 0
    for k in range(n):
        i = rows[k]
        u = outcome_u[i, level]
        ok = u < p[k]
        if t_emerge[i] >= warmup_hours:
            counts[0] += 1
            if ok:
                counts[1] += 1
        if ok:
            stage[i] = resolved
            t_close[i] = t_end[i]
            continue
        failed[f] = i
        pf = p[k]
        rest[f] = (np.float64(u) - pf) / (1.0 - pf) if pf < 1.0 else 0.0
        f += 1
        if top:
            stage[i] = unresolved
            t_close[i] = t_end[i]
    return failed[:f].copy(), rest[:f].copy(), counts


@njit(cache=True)
def _book_intervals(partial, full_diff, start, end):  # pragma: no cover - compiled
    # BusyLedger.book's five np.add.at passes, in their order: same-day services, then first
    # days, then last days (the +/-1 counts are exact in any order)
    n = start.shape[0]
    da = np.empty(n, np.int64)
    db = np.empty(n, np.int64)
    for k in range(n):
        da[k] = np.int64(np.floor(start[k] / 24.0))
        db[k] = np.int64(np.floor(end[k] / 24.0))
    for k in range(n):
        if da[k] == db[k]:
            partial[da[k]] += end[k] - start[k]
    for k in range(n):
        if da[k] != db[k]:
            partial[da[k]] += (da[k] + 1) * 24.0 - start[k]
    for k in range(n):
        if da[k] != db[k]:
            partial[db[k]] += end[k] - db[k] * 24.0
    for k in range(n):
        if da[k] != db[k]:
            full_diff[da[k] + 1] += 1.0
            full_diff[db[k]] -= 1.0


@njit(cache=True)
def _mark_started(rows, start, end, server, level, in_service, t_arrive, acc_from, visits, first_wait,
                  esc_before, severity, severity0, wait_total, t_start, t_end, server_col, stage,
                  levels_served):  # pragma: no cover - compiled
    bit = np.uint8(1 << level)
    for k in range(rows.shape[0]):
        i = rows[k]
        acc_from[i] = np.inf
        wait = start[k] - t_arrive[i]
        if visits[i] == 0:
            first_wait[i] = wait
            esc_before[i] = severity[i] - severity0[i]
        wait_total[i] += wait
        visits[i] += 1
        t_start[i] = start[k]
        t_end[i] = end[k]
        server_col[i] = server[k]
        stage[i] = in_service
        levels_served[i] |= bit


@njit(cache=True)
def _with_ends(done, rows, end, t1):  # pragma: no cover - compiled
    m = 0
    for k in range(rows.shape[0]):
        if end[k] < t1:
            m += 1
    nd = done.shape[0]
    out = np.empty(nd + m, np.int64)
    i = 0
    w = 0
    for k in range(rows.shape[0]):
        if end[k] < t1:
            r = rows[k]
            while i < nd and done[i] < r:
                out[w] = done[i]
                w += 1
                i += 1
            out[w] = r
            w += 1
    while i < nd:
        out[w] = done[i]
        w += 1
        i += 1
    return out
