"""Staffing: from the staffing levers (and the budget cap) to staff agents and server pools.

A mixin of :class:`~sim.model.CityModel`. Staff agents are the source of truth; the flat server
arrays of each level's :class:`~sim.engine.queues.PoolSet` are rebuilt from them when staffing changes.
"""

from __future__ import annotations

import numpy as np

from ..config.params import N_LEVELS
from .agents import AGENT_CLASS_BY_LEVEL, INDIVIDUAL_LEVELS, StaffAgent

LEVEL_LEVER = {0: "grid_workers_per_grid", 1: "mediators_per_street", 2: "centre_staff_per_street",
               3: "department_staff", 4: "city_staff", 5: "legal_capacity"}
LEVEL_COST = {0: "grid_worker", 1: "mediator", 2: "centre_staff", 3: "department_staff", 4: "city_staff",
              5: "court_staff"}


class Staffing:
    """Staff agents and pools of a CityModel (mixin; uses the model's levers, pools and streams)."""

    def desired_staff(self) -> dict[int, int]:
        """Staff per pool at each level from the levers, scaled down to fit the budget cap."""
        lev = self.levers
        want = {lv: int(getattr(lev, LEVEL_LEVER[lv])) for lv in range(N_LEVELS)}
        cap = lev.budget_million_yuan * 1e6
        if cap > 0:
            cost = self.annual_cost(want)
            if cost > cap:
                fixed = self.annual_cost({lv: 0 for lv in want})
                scale = max(cap - fixed, 0.0) / max(cost - fixed, 1e-9)
                want = {lv: int(np.floor(n * scale)) for lv, n in want.items()}
        return want

    def annual_cost(self, per_pool: dict[int, int]) -> float:
        """Yuan per year for the given staff per pool, plus video and integration."""
        c, lay, lev = self.spec.data["costs"], self.layout, self.levers
        cost = sum(per_pool[lv] * self.pools[lv].n_pools * c[LEVEL_COST[lv]] for lv in per_pool)
        return float(cost + lay.n_grids * (lev.video_coverage * c["video_per_grid"]
                                           + lev.resource_integration * c["integration_per_grid"]))

    def sync_staff(self) -> None:
        """Bring staff agents and server pools in line with the staffing levers."""
        want = self.desired_staff()
        for lv in range(N_LEVELS):
            if self._staffing.get(lv) is not None and self._staffing[lv][0] == want[lv]:
                continue
            self._resize_level(lv, want[lv])
            self._staffing[lv] = np.array([want[lv]])

    def _speeds(self, level: int, n: int) -> np.ndarray:
        cv = self.handling["handler_skill_spread"]
        rng = self.streams.get(f"staff:{level}:{self.day}", len(self.staff[level]))
        if cv == 0:
            return np.ones(n)
        s2 = np.log1p(cv * cv)
        return rng.lognormal(-s2 / 2, np.sqrt(s2), n)

    def _resize_level(self, level: int, per_pool: int) -> None:
        pools, agents = self.pools[level], self.staff[level]
        off = 0
        for a in agents:  # pull free times back into the agents before rebuilding
            a.free_at = pools.free[off: off + a.servers].copy()
            off += a.servers
        cls = AGENT_CLASS_BY_LEVEL[level]
        if level in INDIVIDUAL_LEVELS:
            by_pool: list[list[StaffAgent]] = [[] for _ in range(pools.n_pools)]
            for a in agents:
                by_pool[a.pool].append(a)
            speeds = self._speeds(level, pools.n_pools * per_pool)
            for p, members in enumerate(by_pool):
                while len(members) > per_pool:
                    leaver = max(members, key=lambda a: a.free_at[0])
                    members.remove(leaver)
                    leaver.remove()
                for j in range(len(members), per_pool):
                    members.append(cls(self, p, speeds[p * per_pool + j: p * per_pool + j + 1], self.t0))
            agents = [a for members in by_pool for a in members]
        else:
            if not agents:
                extra = {"level": level} if level >= 3 else {}
                for p, name in enumerate(self._team_names(level)):
                    agents.append(cls(self, p, np.zeros(0), self.t0, **extra))
                    agents[-1].name = name
            speeds = self._speeds(level, pools.n_pools * per_pool)
            for p, a in enumerate(agents):
                a.resize(per_pool, speeds[p * per_pool:(p + 1) * per_pool], self.t0)
        self.staff[level] = agents
        pools.counts = np.bincount([a.pool for a in agents], weights=[a.servers for a in agents],
                                   minlength=pools.n_pools).astype(np.int64) if agents else np.zeros(
            pools.n_pools, np.int64)
        pools.ptr = np.concatenate([[0], np.cumsum(pools.counts)]).astype(np.int64)
        pools.free = np.concatenate([a.free_at for a in agents]) if agents else np.zeros(0)
        pools.speed = np.concatenate([a.speed for a in agents]) if agents else np.zeros(0)

    def _team_names(self, level: int) -> list[str]:
        lay, deps = self.layout, self.departments
        if level == 2:
            return [f"street-{s}" for s in range(lay.n_streets)]
        if level == 3:
            return [f"district-{d}/{name}" for d in range(lay.n_districts) for name in deps]
        if level == 4:
            return [f"city/{name}" for name in deps]
        return [f"court-{d}" for d in range(lay.n_districts)]
