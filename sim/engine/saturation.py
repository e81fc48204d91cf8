"""Saturation: levels whose queues grow because work arrives faster than their staff can do it.

A level whose handlers are busy nearly all the time and whose queue keeps growing is not in a
steady state: its backlog, its waits and the escalations they cause rise with the run's length,
so any outcome read at the end depends on how long the run was. The monitor makes that visible
(docs/ODD.md §7.5, "Saturation"): over the last ``WINDOW_DAYS`` days it keeps each level's busy
and available handler-hours (the same booking as the utilisation outcomes) and, every
``SNAPSHOT_EVERY`` days, the number of cases waiting at each level. A level is **saturated** when
its utilisation over the window is at least ``UTILISATION_FLOOR`` and its queue is longer than
at the window's start.

It reads the case table once a week (one compiled pass) and draws no random numbers: outcomes of
the model are unchanged by it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .cases import Stage
from .levels import LEVELS, N_LEVELS

WINDOW_DAYS = 28
"""The recent window (four weeks: long enough to average out a week's rhythm)."""
SNAPSHOT_EVERY = 7
"""Days between counts of the waiting cases (a weekly pass over the case table)."""
UTILISATION_FLOOR = 0.95
"""Utilisation from which a growing queue is called saturation (an M/M/c queue at 0.95 load
already waits many times its service time)."""


@njit(cache=True)
def _queued_per_level(stage, level, queued_code, out):  # pragma: no cover - compiled
    for i in range(stage.size):
        if stage[i] == queued_code:
            out[level[i]] += 1


def queued_per_level(stage: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Cases waiting (stage QUEUED) at each level; buried rows (stage −1) never match."""
    out = np.zeros(N_LEVELS, np.int64)
    _queued_per_level(stage, level, np.int8(Stage.QUEUED), out)
    return out


class SaturationMonitor:
    """Recent busy and available hours per level, and weekly counts of waiting cases."""

    def __init__(self) -> None:
        self.busy = np.zeros((WINDOW_DAYS, N_LEVELS))  # ring buffers indexed by day % WINDOW_DAYS
        self.capacity = np.zeros((WINDOW_DAYS, N_LEVELS))
        self.snapshots: dict[int, np.ndarray] = {}  # day -> waiting cases per level

    def record(self, day: int, busy: np.ndarray, capacity: np.ndarray, stage: np.ndarray,
               level: np.ndarray) -> None:
        """Book ``day``'s busy and available hours (per level), and count the queues weekly."""
        self.busy[day % WINDOW_DAYS] = busy
        self.capacity[day % WINDOW_DAYS] = capacity
        if day % SNAPSHOT_EVERY == 0:
            self.snapshots[day] = queued_per_level(stage, level)
            for old in [d for d in self.snapshots if d < day - 2 * WINDOW_DAYS]:
                del self.snapshots[old]  # only the window's start is ever read

    def report(self, day: int, stage: np.ndarray, level: np.ndarray) -> dict[str, dict[str, float]]:
        """Per level, as of the end of ``day``: utilisation over the last ``WINDOW_DAYS`` days (or
        the run so far), cases waiting now, queue growth per day since the window's start, and
        whether the level is saturated (1.0) or not (0.0)."""
        busy, cap = self.busy.sum(axis=0), self.capacity.sum(axis=0)
        now = queued_per_level(stage, level)
        start = [d for d in self.snapshots if d <= day - WINDOW_DAYS]
        # without a count old enough the window starts before day 0, when nothing waited
        then_day = max(start) if start else -1
        then = self.snapshots[then_day] if start else np.zeros(N_LEVELS, np.int64)
        days = max(day - then_day, 1)
        out: dict[str, dict[str, float]] = {}
        for i, lv in enumerate(LEVELS):
            util = float(busy[i] / cap[i]) if cap[i] > 0 else 0.0
            growth = float(now[i] - then[i]) / days
            out[lv] = {"utilisation": util, "waiting": float(now[i]), "growth_per_day": growth,
                       "saturated": float(util >= UTILISATION_FLOOR and growth > 0)}
        return out
