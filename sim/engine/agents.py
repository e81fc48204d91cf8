"""Staff agents (Mesa agents): GridWorker, Mediator, Centre, Department.

Each agent owns one or more *servers* of one handling pool: a grid worker or a mediator is one
server; a street centre or a department is a team whose ``servers`` equals its staff. The agents
are the source of truth for staffing; the flat server arrays the queue kernel works on
(:class:`~sim.engine.queues.PoolSet`) are rebuilt from them whenever a staffing lever changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

if TYPE_CHECKING:
    from ..model import CityModel


class StaffAgent(mesa.Agent):
    """Common state: level, pool, servers (free times and speeds), cost per year."""

    level: int = -1
    cost_key: str = ""

    def __init__(self, model: CityModel, pool: int, speeds: np.ndarray, free_at: float) -> None:
        super().__init__(model)
        self.name = ""
        self.pool = int(pool)
        self.speed = np.asarray(speeds, dtype=np.float64)
        self.free_at = np.full(self.speed.shape[0], free_at, dtype=np.float64)

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
        return self.servers * float(self.model.spec.data["handling"]["hours_per_day"][self.level])

    @property
    def cost_per_year(self) -> float:
        """Yuan per year."""
        return self.servers * float(self.model.spec.data["costs"][self.cost_key])

    @property
    def caseload(self) -> float:
        """Open cases queued at or held by its pool, per handler."""
        return float(self.model.pool_load(self.level)[self.pool])

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

    level = 0
    cost_key = "grid_worker"


class Mediator(StaffAgent):
    """人民调解员: mediates disputes for the communities of one street."""

    level = 1
    cost_key = "mediator"


class Centre(StaffAgent):
    """综治中心 of a street: triage, dispatch, tracking, and handling of intensified cases."""

    level = 2
    cost_key = "centre_staff"


class Department(StaffAgent):
    """职能部门: a functional department of a district (level 3) or the city (level 4), or a
    district court (level 5, the legal channel)."""

    cost_key = "department_staff"

    def __init__(self, model: CityModel, pool: int, speeds: np.ndarray, free_at: float, level: int) -> None:
        self.level = level
        self.cost_key = {3: "department_staff", 4: "city_staff", 5: "court_staff"}[level]
        super().__init__(model, pool, speeds, free_at)


AGENT_CLASS_BY_LEVEL: dict[int, type[StaffAgent]] = {0: GridWorker, 1: Mediator, 2: Centre,
                                                     3: Department, 4: Department, 5: Department}
INDIVIDUAL_LEVELS = (0, 1)  # levels where one agent is one person
