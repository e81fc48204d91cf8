"""Lapse: the parties of a detected case give up waiting for it to be handled.

While a detected case waits (in transit or queued, not in service), its parties give up at the
hazard ``world.lapse_per_day × world.lapse_severity_factor ** severity`` per day — serious
cases are dropped less often. The clock is a unit-exponential budget drawn at emergence and
spent at the day's hazard. A lapsed case leaves the system (``Stage.LAPSED``): a documented exit,
not a resolution — its residents' trust and tension take the hit, and the grievance may come
back (:mod:`sim.engine.emergence`). Undetected cases fade in the same way in detection.
"""

from __future__ import annotations

import numpy as np

from .cases import Stage
from .escalation import Escalation
from .state import CityState


def lapse_rate_per_hour(world: dict, severity: np.ndarray) -> np.ndarray:
    """Hourly lapse hazard of cases of ``severity``."""
    return world["lapse_per_day"] / 24.0 * world["lapse_severity_factor"] ** severity.astype(np.float64)


class Lapse:
    """Stage ``lapse``. Reads waiting cases and world; writes their lapse clocks and, for those
    that lapse, their escalation up to the lapse, stage and close time."""

    def __init__(self, escalation: Escalation) -> None:
        self.escalation = escalation

    def __call__(self, s: CityState) -> None:
        tab, t0, t1 = s.cases, s.clock.t0, s.clock.t1
        if s.world["lapse_per_day"] <= 0:
            return
        rows = np.flatnonzero((tab["stage"] == Stage.REPORTING) | (tab["stage"] == Stage.QUEUED))
        if rows.size == 0:
            return
        start = np.maximum(np.maximum(tab["acc_from"][rows], t0), tab["t_detect"][rows])
        span = np.maximum(t1 - start, 0.0)
        rate = lapse_rate_per_hour(s.world, tab["severity"][rows])
        left = tab["lapse_left"][rows]
        gone = (rate > 0) & (left <= rate * span)
        tab["lapse_left"][rows[~gone]] = left[~gone] - rate[~gone] * span[~gone]
        out = rows[gone]
        if out.size == 0:
            return
        t_lapse = start[gone] + left[gone] / rate[gone]
        self.escalation.accrue(s, out, t_lapse)  # the clock runs until they give up
        tab["stage"][out] = Stage.LAPSED
        tab["t_close"][out] = t_lapse
