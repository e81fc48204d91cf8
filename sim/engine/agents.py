"""Staff agents (Mesa agents): GridWorker, Mediator, Centre, Department.

Each agent owns one or more *servers* of one handling pool: a grid worker or a mediator is one
server; a street centre or a department is a team whose ``servers`` equals its staff. The agents
are the source of truth for staffing; the flat server arrays the queue kernel works on
(:class:`~sim.engine.queues.PoolSet`) are rebuilt from them whenever a staffing lever changes
(:class:`~sim.engine.staffing.Staffing`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from .levels import LEVEL_TABLE, Level

if TYPE_CHECKING:  # for annotations only: staffing imports this module at run time
    from .staffing import Staffing


class StaffAgent(mesa.Agent):
    """Common state: level, pool, servers (free times and speeds), cost per year."""

    def __init__(self, model: mesa.Model, staffing: Staffing, level: Level, pool: int,
                 speeds: np.ndarray, free_at: float, free: np.ndarray | None = None) -> None:
        """``free``: the handlers' free times when the caller has them (each ``free_at``), e.g.
        its slice of one array made for a whole level; else made here."""
        super().__init__(model)
        self.staffing = staffing
        self.level = level if type(level) is Level else Level(level)
        self.name = ""
        self.pool = int(pool)
        self.speed = np.asarray(speeds, dtype=np.float64)
        if free is None:
            # np.full's dispatch costs 0.65 µs, a tenth of the build's 70,000 agents
            free = np.empty(self.speed.shape[0], dtype=np.float64)
            free.fill(free_at)
        self.free_at = free

    @property
    def servers(self) -> int:
        """Number of handlers this agent stands for."""
        return int(self.speed.shape[0])

    @property
    def skill(self) -> float:
        """Mean speed of its handlers (1 = average)."""
        return float(self.speed.mean()) if self.servers else 0.0

    @property
    def capacity_hours_per_day(self) -> float:
        """Working hours a day across its handlers."""
        return self.servers * float(self.staffing.state.handling["hours_per_day"][self.level])

    @property
    def cost_per_year(self) -> float:
        """Yuan per year."""
        return self.servers * float(self.staffing.state.costs[LEVEL_TABLE[self.level].cost_key])

    @property
    def caseload(self) -> float:
        """Open cases queued at or held by its pool, per handler."""
        return float(self.staffing.pool_load(self.level)[self.pool])

    def resize(self, n: int, speeds: np.ndarray, now: float) -> None:
        """Change team size: leavers are those who fall free last; newcomers are free ``now``."""
        if n < self.servers:
            keep = np.sort(np.argsort(self.free_at, kind="stable")[:n])
            self.speed, self.free_at = self.speed[keep], self.free_at[keep]
        elif n > self.servers:
            self.speed = np.concatenate([self.speed, speeds[: n - self.servers]])
            self.free_at = np.concatenate([self.free_at, np.full(n - self.free_at.shape[0], now)])


class GridWorker(StaffAgent):
    """网格员: patrols one grid, detects and reports, fixes minor issues on the spot."""


class Mediator(StaffAgent):
    """人民调解员: mediates disputes for the communities of one street."""


class Centre(StaffAgent):
    """综治中心 of a street: triage, dispatch, tracking, and handling of intensified cases."""


class Department(StaffAgent):
    """职能部门: a functional department of a district or the city, or a district court (the
    legal channel)."""


AGENT_CLASSES: dict[str, type[StaffAgent]] = {cls.__name__: cls for cls in (GridWorker, Mediator, Centre,
                                                                             Department)}
"""Agent class of each level, by the name in :data:`~sim.engine.levels.LEVEL_TABLE`."""
