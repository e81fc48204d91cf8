"""Accounting: closing cases out of the table, and the day's costs and staff time.

Closed cases (resolved, faded, failed at the top) are folded into the outcome accumulator and
handed to the case sink, then dropped from the open-case table: memory stays flat however many
cases a run produces. Cost accrues daily from the staff actually in post (after the budget cap);
utilisation is work started over staff-hours available, per level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..outcomes.accumulate import KpiAccumulator
from .cases import CLOSED_STAGES, Stage
from .levels import LEVELS, N_LEVELS, Level
from .staffing import Staffing
from .state import CityState

UTILISATION_LEVELS = (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.CITY)
"""Levels in the headline utilisation: grid workers mostly patrol, and the court is apart."""


class Accounts:
    """Running totals of a run: outcomes of closed cases, cost to date, busy and available
    staff-hours per level. Stages ``close`` and ``account``."""

    def __init__(self, s: CityState, staffing: Staffing, case_sink: Any = None) -> None:
        self.staffing = staffing
        self.case_sink = case_sink
        self.closed = KpiAccumulator(s.categories.n, len(s.departments))
        self.cost_to_date = 0.0
        self.busy_hours = np.zeros(N_LEVELS)
        self.capacity_hours = np.zeros(N_LEVELS)

    def close(self, s: CityState) -> None:
        """Stage ``close``: hand closed cases to the accumulator and the case sink, then drop
        them. Reads and writes the case table; writes ``today["resolved"]``."""
        tab = s.cases
        stage = tab["stage"]
        closed = np.flatnonzero(stage >= min(CLOSED_STAGES))  # closed stages are the highest codes
        s.today["resolved"] = int(np.count_nonzero(stage[closed] == Stage.RESOLVED))
        if closed.size == 0:
            return
        records = tab.take(closed)
        self.closed.add_closed(records, s.categories.department)
        if self.case_sink is not None:
            self.case_sink.write(records)
        tab.drop(closed)

    def account(self, s: CityState) -> None:
        """Stage ``account``: the day's staff cost, and busy and available hours per level."""
        self.cost_to_date += self.staffing.annual_cost(dict(self.staffing.current)) / 365.0
        for lv, pools in enumerate(s.pools):
            self.busy_hours[lv] += pools.busy_hours
            self.capacity_hours[lv] += pools.counts.sum() * 24.0
            pools.busy_hours = 0.0

    def utilisation(self, levels: tuple[Level, ...] = UTILISATION_LEVELS) -> float:
        """Share of handler time spent on cases at ``levels`` (default: mediators, street centres,
        district and city departments)."""
        lv = [int(x) for x in levels]
        cap = self.capacity_hours[lv].sum()
        return float(self.busy_hours[lv].sum() / cap) if cap else 0.0

    def utilisation_by_level(self) -> dict[str, float]:
        """Share of handler time spent on cases, per level."""
        return {name: self.utilisation((Level(i),)) for i, name in enumerate(LEVELS)}
