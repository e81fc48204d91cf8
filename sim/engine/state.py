"""The typed state every stage works on.

A stage is a function (or a small object with ``__call__``) taking a :class:`CityState`; it
declares what it reads and writes (:class:`StageSpec`), and the model runs the stages in the
order of its plan. No stage sees the Mesa model: what a mechanism keeps between days (a weekly
noise draw, the video ranking, running totals) lives on that mechanism's own object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..config.params import Levers
from .cases import CaseTable
from .categories import Categories
from .city import CityLayout
from .queues import PoolSet
from .residents import ResidentTable
from .streams import Streams


@dataclass
class Clock:
    """Simulated time: ``day`` (one tick) spans hours ``[t0, t1)``."""

    day: int = 0
    t0: float = 0.0
    t1: float = 24.0

    def start_day(self) -> None:
        """Set the hours of the current day."""
        self.t0, self.t1 = self.day * 24.0, self.day * 24.0 + 24.0


@dataclass
class CityState:
    """Everything the stages share: the scenario's sections, the tables, the pools, the streams,
    the clock and today's tallies.

    ``world``, ``handling``, ``costs`` and ``choice`` are the validated scenario sections (read-only during a
    run); ``levers`` may change between days (the app writes them mid-run).
    """

    world: dict[str, Any]
    handling: dict[str, Any]
    costs: dict[str, Any]
    levers: Levers
    layout: CityLayout
    residents: ResidentTable
    categories: Categories
    departments: list[str]
    streams: Streams
    pools: list[PoolSet]  # one per Level
    cases: CaseTable = field(default_factory=CaseTable)
    clock: Clock = field(default_factory=Clock)
    today: dict[str, Any] = field(default_factory=dict)  # today's tallies (the time-series row)
    failures_today: list[np.ndarray] = field(default_factory=list)  # rows that failed a level today
    choice: dict[str, Any] = field(default_factory=dict)  # scenario [choice]: residents' channel choice

    def department_of_cases(self, rows: np.ndarray) -> np.ndarray:
        """Department of each case ``rows`` (through its category)."""
        return self.categories.department[self.cases["category"][rows]]


@dataclass(frozen=True)
class StageSpec:
    """One entry of the plan: a name, the function run each tick, and what it reads and writes
    (names of :class:`CityState` fields or of the mechanism's own state) — documentation that
    ``cityrisk plan`` prints."""

    name: str
    run: Callable[[CityState], None]
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    doc: str = ""
