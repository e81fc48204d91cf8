"""The forecast's target: the simulated truth a warning is scored against (never a feature).

A grid has a *target event* on a day when one of its cases escalated (a severity step, at any
stage, detected or not) or a collective incident began there (a case reached severity ≥ 2, by
escalation or because it emerged that serious). Which of the two counts is the ``kind``:
``"escalation"``, ``"collective"`` or ``"escalation_or_collective"`` (the default). Everything is
read from the case table's columns (``t_severity2``, ``t_emerge``, ``severity0``) and the day's
escalation steps per grid, so a richer notion of collective incidents (more columns) changes
this one function.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..engine.cases import CaseTable

KINDS = ("escalation", "collective", "escalation_or_collective")


def target_events(tab: CaseTable, steps_today: np.ndarray, t0: float, t1: float,
                  kind: str = "escalation_or_collective", first: int = 0) -> np.ndarray:
    """Target events per grid in ``[t0, t1)``: ``steps_today`` are the day's escalation steps per
    grid; collective incidents are cases whose severity reached 2 in the day (``t_severity2``) or
    that emerged in the day at severity ≥ 2. The union counts escalation steps plus the cases
    that emerged collective (a case escalating to 2 is already a step). ``first``: the first row
    that may have emerged in the day (rows before it were appended before the day began: a case
    enters the table on the day it emerges), so only the newest rows are looked at."""
    if kind not in KINDS:
        raise ValueError(f"target kind {kind!r}: must be one of {KINDS}")
    n = steps_today.size
    if kind == "escalation":
        return steps_today.astype(np.float64)
    born = _born_serious(tab["t_emerge"][first:], tab["severity0"][first:], float(t0), float(t1))  # in order
    born_collective = np.bincount(tab["grid"][first:][born], minlength=n).astype(np.float64)
    if kind == "escalation_or_collective":
        return steps_today + born_collective
    reached = (tab["t_severity2"] >= t0) & (tab["t_severity2"] < t1)
    return np.bincount(tab["grid"][reached], minlength=n) + born_collective


@njit(cache=True)
def _born_serious(t_emerge, severity0, t0, t1):  # pragma: no cover - compiled
    # np.flatnonzero((t_emerge >= t0) & (t_emerge < t1) & (severity0 >= 2))
    n = 0
    for i in range(t_emerge.size):
        if t_emerge[i] >= t0 and t_emerge[i] < t1 and severity0[i] >= 2:
            n += 1
    rows = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(t_emerge.size):
        if t_emerge[i] >= t0 and t_emerge[i] < t1 and severity0[i] >= 2:
            rows[j] = i
            j += 1
    return rows


def add_target_events(week: np.ndarray, tab: CaseTable, esc: np.ndarray, seen: np.ndarray, t0: float, t1: float,
                      kind: str = "escalation_or_collective", first: int = 0) -> None:
    """``week += target_events(tab, (esc - seen).astype(float), t0, t1, kind, first)``, then
    ``seen[:] = esc``: ``esc`` are the escalation steps per grid so far, ``seen`` those at the
    day's start. The default kind in one compiled pass (no grid-sized temporaries a day; the
    counts are whole numbers, so the sums are the same floats)."""
    if kind != "escalation_or_collective":
        week += target_events(tab, (esc - seen).astype(np.float64), t0, t1, kind, first)
        seen[...] = esc
        return
    _add_day(week, esc, seen, tab["t_emerge"][first:], tab["severity0"][first:], tab["grid"][first:],
             float(t0), float(t1))


@njit(cache=True)
def _add_day(week, esc, seen, t_emerge, severity0, grid, t0, t1):  # pragma: no cover - compiled
    # born = np.bincount(grid[_born_serious(...)], minlength=n).astype(float64), then
    # week += (esc - seen).astype(float64) + born and seen[:] = esc
    born = np.zeros(week.size)
    for i in range(t_emerge.size):
        if t_emerge[i] >= t0 and t_emerge[i] < t1 and severity0[i] >= 2:
            born[grid[i]] += 1.0
    for g in range(week.size):
        week[g] += np.float64(esc[g] - seen[g]) + born[g]
        seen[g] = esc[g]
