"""Accounting: closing cases out of the table, and the day's costs and staff time.

Closed cases (resolved, faded, lapsed, decided against) are folded into the outcome totals and
handed to the case sink, then dropped from the open-case table (buried in place and compacted
every few days, ``CaseTable.bury``): memory stays flat however many cases a run produces. Every exit is counted by stage, so on every day
``emerged = resolved + faded + lapsed + unresolved + open`` (``Accounts.exits``).

Staff time is booked day by day: a service from ``a`` to ``b`` counts only its hours inside each
day, so work booked past the end of a run is not counted as done and utilisation cannot exceed 1
(a handler serves one case at a time). Cost accrues daily from the staff in post (after the
budget cap) plus video, integration and prevention spending. Cases that emerged during the
warm-up (``run.warmup_days``), and that period's cost and staff time, are left out of the outcomes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..outcomes.accumulate import KpiAccumulator
from .cases import RECORD_COLUMNS, Stage
from .levels import LEVELS, N_LEVELS, Level
from .saturation import SaturationMonitor
from .service_kernels import book_intervals
from .staffing import Staffing
from .state import CityState

UTILISATION_LEVELS = (Level.COMMUNITY, Level.STREET, Level.DISTRICT, Level.CITY)
"""Levels in the headline utilisation: grid workers mostly patrol, and the court is apart."""


class BusyLedger:
    """Handler-hours busy per level and day, from service intervals (difference arrays)."""

    def __init__(self) -> None:
        self.partial = np.zeros((N_LEVELS, 64))  # hours in the first and last day of a service
        self.full_diff = np.zeros((N_LEVELS, 65))  # +1 / -1 at the ends of whole busy days

    def _grow(self, day: int) -> None:
        if day + 2 > self.partial.shape[1]:
            n = max(day + 2, 2 * self.partial.shape[1])
            self.partial = np.pad(self.partial, ((0, 0), (0, n - self.partial.shape[1])))
            self.full_diff = np.pad(self.full_diff, ((0, 0), (0, n + 1 - self.full_diff.shape[1])))

    def book(self, level: int, start: np.ndarray, end: np.ndarray) -> None:
        """Book services ``[start, end)`` (hours) at ``level``."""
        if start.size == 0:
            return
        # one compiled pass for numpy's five np.add.at passes (their order kept)
        self._grow(int(np.floor(end.max() / 24.0)))  # the last day any service ends in
        book_intervals(self.partial[level], self.full_diff[level], start, end)

    def busy(self, day: int) -> np.ndarray:
        """Busy handler-hours of ``day`` per level."""
        self._grow(day)
        return self.partial[:, day] + 24.0 * self.full_diff[:, : day + 1].sum(axis=1)


class Accounts:
    """Running totals of a run: outcome totals of closed cases, exits by stage, attempts and
    successes per level, cost to date, busy and available staff-hours per level. Stages
    ``close`` and ``account``."""

    def __init__(self, s: CityState, staffing: Staffing, warmup_days: int, case_sink: Any = None) -> None:
        self.staffing = staffing
        self.case_sink = case_sink
        self.warmup_days = int(warmup_days)
        self.warmup_hours = 24.0 * warmup_days
        self.closed = KpiAccumulator(s.categories.n, len(s.departments))
        self.exits = np.zeros(len(Stage), np.int64)  # every closed case by exit, warm-up included
        self.attempts = np.zeros(N_LEVELS, np.int64)  # services completed, per level (after warm-up)
        self.successes = np.zeros(N_LEVELS, np.int64)
        self.cost_to_date = 0.0
        self.ledger = BusyLedger()
        self.busy_hours = np.zeros(N_LEVELS)
        self.capacity_hours = np.zeros(N_LEVELS)
        self.saturation = SaturationMonitor()  # recent load and queue growth per level

    def book_busy(self, level: Level, start: np.ndarray, end: np.ndarray) -> None:
        """Book the services that started (``start`` to ``end``, hours) at ``level``."""
        self.ledger.book(int(level), start, end)

    def count_attempts(self, level: Level, attempts: int, successes: int) -> None:
        """Count completed services at ``level`` and their successes (of cases that emerged
        after the warm-up, :attr:`warmup_hours`; the caller's compiled pass counts them)."""
        self.attempts[level] += attempts
        self.successes[level] += successes

    def close(self, s: CityState) -> None:
        """Stage ``close``: fold closed cases into the totals, hand them to the case sink and drop
        them. Reads and writes the case table; writes today's exits."""
        tab = s.cases
        stage = tab["stage"]
        closed = tab.closed_rows(s.clock.t1)  # the list the stages before made (or one compiled pass)
        exits = np.bincount(stage[closed], minlength=len(Stage))
        s.today["resolved"] = int(exits[Stage.RESOLVED])
        s.today["lapsed"] = int(exits[Stage.LAPSED])
        if closed.size == 0:
            return
        self.exits += exits
        # without a case sink only the columns the totals read are copied (half the record's)
        records = tab.take(closed, RECORD_COLUMNS if self.case_sink is not None else KpiAccumulator.READS)
        counted = records["t_emerge"] >= self.warmup_hours
        # after the warm-up nearly every closed case counts: no copy of the records then
        kept = records if counted.all() else {k: v[counted] for k, v in records.items()}
        self.closed.add(kept, s.categories.department, s.clock.t1)
        if self.case_sink is not None:
            self.case_sink.write(records)
        tab.bury(closed)  # compacted every few days, not daily (CaseTable.bury)

    def account(self, s: CityState) -> None:
        """Stage ``account``: the day's cost, busy and available hours per level, and the recent
        load and queues the saturation report reads (every day, warm-up included)."""
        day = s.clock.day
        capacity = np.array([p.counts.sum() * 24.0 for p in s.pools])
        # handlers who left mid-service finish their cases: their hours are not in today's
        # capacity, so a level's busy time is capped at it (utilisation never exceeds 1)
        busy = np.minimum(self.ledger.busy(day), capacity)
        self.saturation.record(day, busy, capacity, s.cases["stage"], s.cases["level"])
        if day < self.warmup_days:
            return
        self.cost_to_date += self.staffing.annual_cost(dict(self.staffing.current)) / 365.0
        self.busy_hours += busy
        self.capacity_hours += capacity

    def utilisation(self, levels: tuple[Level, ...] = UTILISATION_LEVELS) -> float:
        """Share of handler time spent on cases at ``levels`` (default: mediators, street centres,
        district and city departments)."""
        lv = [int(x) for x in levels]
        cap = self.capacity_hours[lv].sum()
        return float(self.busy_hours[lv].sum() / cap) if cap else 0.0

    def utilisation_by_level(self) -> dict[str, float]:
        """Share of handler time spent on cases, per level."""
        return {name: self.utilisation((Level(i),)) for i, name in enumerate(LEVELS)}
