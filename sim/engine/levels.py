"""Handling levels: the one table of what each level of the governance chain is.

Cases are handled at six levels, bottom up: on the spot by grid workers (网格员), community
people's mediation (人民调解员), the street comprehensive-governance centre (综治中心), a district
functional department (职能部门), a city department, and the district court (法治化, the legal
channel). Every other module refers to a level through :class:`Level` and reads its lever, cost,
agent class and pool scope from :data:`LEVEL_TABLE`, never from a bare integer.

Two words are kept apart: *escalation* is a case's severity rising (minor → intensified →
collective → major, :mod:`sim.engine.escalation`); *referral* is a case moving up a level
(after a failed attempt, or because it outgrew its level; :mod:`sim.engine.routing`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Level(IntEnum):
    """A handling level, bottom up. The integer value is the column index in per-level arrays."""

    GRID = 0
    COMMUNITY = 1
    STREET = 2
    DISTRICT = 3
    CITY = 4
    COURT = 5

    @property
    def key(self) -> str:
        """Lower-case name used in outputs (``resolved_by_level.grid`` ...)."""
        return self.name.lower()


class PoolScope(IntEnum):
    """Which cases share one pool of handlers at a level (the numba kernels switch on the value)."""

    GRID = 0  # one pool per grid
    STREET = 1  # one pool per street
    DISTRICT_DEPARTMENT = 2  # one pool per (district, department)
    CITY_DEPARTMENT = 3  # one pool per department, city-wide
    DISTRICT = 4  # one pool per district


@dataclass(frozen=True)
class LevelSpec:
    """What a level is: the lever that staffs each of its pools, the cost key of one handler,
    the Mesa agent class that stands for its staff, how its pools are scoped, and whether one
    agent is one person (grid workers, mediators) or a team (centres, departments, courts)."""

    level: Level
    lever: str
    cost_key: str
    agent_class: str
    scope: PoolScope
    individual: bool


LEVEL_TABLE: tuple[LevelSpec, ...] = (
    LevelSpec(Level.GRID, "grid_workers_per_grid", "grid_worker", "GridWorker", PoolScope.GRID, True),
    LevelSpec(Level.COMMUNITY, "mediators_per_street", "mediator", "Mediator", PoolScope.STREET, True),
    LevelSpec(Level.STREET, "centre_staff_per_street", "centre_staff", "Centre", PoolScope.STREET, False),
    LevelSpec(Level.DISTRICT, "department_staff", "department_staff", "Department",
              PoolScope.DISTRICT_DEPARTMENT, False),
    LevelSpec(Level.CITY, "city_staff", "city_staff", "Department", PoolScope.CITY_DEPARTMENT, False),
    LevelSpec(Level.COURT, "legal_capacity", "court_staff", "Department", PoolScope.DISTRICT, False),
)

LEVELS: tuple[str, ...] = tuple(lv.key for lv in Level)
"""Level names bottom up, as they appear in outputs."""
N_LEVELS = len(Level)
GRASSROOTS = (Level.GRID, Level.COMMUNITY, Level.STREET)
"""Levels whose resolutions count as resolved locally (矛盾不上交)."""
DEPARTMENT_LEVELS = (Level.DISTRICT, Level.CITY)
"""Levels handled by functional departments: where misrouting between departments happens."""
MEDIATION_LEVELS = (Level.COMMUNITY, Level.STREET)
"""Levels where mediator professionalisation raises success (枫桥经验)."""
TOP = Level.COURT
"""The last level: a failure here leaves the system."""
