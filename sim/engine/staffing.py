"""Staffing: from the staffing levers (and the budget cap) to staff agents and server pools.

Staff agents (Mesa agents) are the source of truth; the flat server arrays of each level's
:class:`~sim.engine.queues.PoolSet` are rebuilt from them when staffing changes. Each level's
lever, cost and agent class come from :data:`~sim.engine.levels.LEVEL_TABLE`.

A lever gives the staff of every pool of its level alike, unless the scenario sizes the
district-wide and city-wide pools by population (docs/ODD.md §7.5, "Staff in proportion to
residents"): with ``handling.district_staff_reference_residents`` = R > 0 a district department
or court of a district with ``n`` residents gets ``lever × n / R`` staff (rounded, at least one
while the lever is above 0), and with ``handling.city_staff_reference_residents`` the same for the
city departments and the city's residents. Grid and street levels scale with the city already
(their pools are per grid and per street).
"""

from __future__ import annotations

import mesa
import numpy as np

from .agents import AGENT_CLASSES, StaffAgent
from .levels import LEVEL_TABLE, Level, PoolScope
from .state import CityState
from .streams import Stream


class Staffing:
    """Staff agents and pools of a city. Stage ``staffing`` (:meth:`sync`) reads the levers and
    writes agents and pools; the agents belong to ``model`` (Mesa's agent registry)."""

    def __init__(self, model: mesa.Model, state: CityState) -> None:
        self.model = model
        self.state = state
        self.staff: dict[Level, list[StaffAgent]] = {lv: [] for lv in Level}
        self.current: dict[Level, int] = {}  # staff per pool now, per level
        # staff cost by (level, staff per pool) tuple: the pools' sizes and the cost keys do not
        # change in a run, and ``account`` asks for the same staffing every day
        self._staff_cost: dict[tuple[tuple[Level, int], ...], float] = {}

    def desired(self) -> dict[Level, int]:
        """Staff per pool at each level from the levers, scaled down to fit the budget cap."""
        lev = self.state.levers
        want = {spec.level: int(getattr(lev, spec.lever)) for spec in LEVEL_TABLE}
        cap = lev.budget_million_yuan * 1e6
        if cap > 0:
            cost = self.annual_cost(want)
            if cost > cap:
                fixed = self.annual_cost(dict.fromkeys(want, 0))
                scale = max(cap - fixed, 0.0) / max(cost - fixed, 1e-9)
                want = {lv: int(np.floor(n * scale)) for lv, n in want.items()}
        return want

    def pool_scale(self, level: Level) -> np.ndarray | None:
        """Each pool's staff as a multiple of the lever, or None when every pool gets the lever's
        value (the default; see the module docstring)."""
        s = self.state
        scope, lay = LEVEL_TABLE[level].scope, s.layout
        ref = s.handling.get("district_staff_reference_residents", 0)
        if scope in (PoolScope.DISTRICT, PoolScope.DISTRICT_DEPARTMENT) and ref > 0:
            residents = np.bincount(lay.district_of, weights=np.diff(lay.resident_start), minlength=lay.n_districts)
            share = residents / ref
            # district department pools are numbered district by district (pool_sets, _team_names)
            return np.repeat(share, len(s.departments)) if scope == PoolScope.DISTRICT_DEPARTMENT else share
        ref = s.handling.get("city_staff_reference_residents", 0)
        if scope == PoolScope.CITY_DEPARTMENT and ref > 0:
            return np.full(s.pools[level].n_pools, lay.n_residents / ref)
        return None

    def pool_counts(self, level: Level, per_pool: int) -> np.ndarray:
        """Staff of each pool of ``level`` when its lever (after the budget cap) is ``per_pool``."""
        scale = self.pool_scale(level)
        if scale is None:
            return np.full(self.state.pools[level].n_pools, per_pool, dtype=np.int64)
        if per_pool <= 0:
            return np.zeros(scale.size, dtype=np.int64)
        return np.maximum(1, np.rint(per_pool * scale)).astype(np.int64)

    def annual_cost(self, per_pool: dict[Level, int]) -> float:
        """Yuan per year for the given staff per pool, plus video, integration and prevention."""
        s = self.state
        c, lay, lev = s.costs, s.layout, s.levers
        key = tuple(per_pool.items())
        cost = self._staff_cost.get(key)
        if cost is None:
            cost = sum(int(self.pool_counts(lv, per_pool[lv]).sum()) * c[LEVEL_TABLE[lv].cost_key] for lv in per_pool)
            self._staff_cost[key] = cost
        return float(cost + lay.n_grids * (lev.video_coverage * c["video_per_grid"]
                                           + lev.resource_integration * c["integration_per_grid"])
                     + lev.prevention_million_yuan * 1e6)

    def pool_load(self, level: Level) -> np.ndarray:
        """Open cases queued at or held by each pool of ``level``, per server."""
        tab = self.state.cases
        here = (tab["level"] == level) & (tab["stage"] >= 1) & (tab["stage"] <= 3)
        q = np.bincount(tab["pool"][here], minlength=self.state.pools[level].n_pools).astype(np.float64)
        return self.state.pools[level].load(q)

    def sync(self, s: CityState) -> None:
        """Stage ``staffing``: bring staff agents and server pools in line with the levers."""
        want = self.desired()
        for lv in Level:
            if self.current.get(lv) == want[lv]:
                continue
            self._resize_level(lv, want[lv])
            self.current[lv] = want[lv]

    def _speeds(self, level: Level, n: int) -> np.ndarray:
        cv = self.state.handling["handler_skill_spread"]
        rng = self.state.streams.get(Stream.STAFF, len(self.staff[level]), int(level), self.state.clock.day)
        if cv == 0:
            return np.ones(n)
        s2 = np.log1p(cv * cv)
        return rng.lognormal(-s2 / 2, np.sqrt(s2), n)

    def _resize_level(self, level: Level, per_pool: int) -> None:
        pools, agents = self.state.pools[level], self.staff[level]
        t0 = self.state.clock.t0
        off = 0
        for a in agents:  # pull free times back into the agents before rebuilding
            a.free_at = pools.free[off: off + a.servers].copy()
            off += a.servers
        spec = LEVEL_TABLE[level]
        cls = AGENT_CLASSES[spec.agent_class]
        if spec.individual and not agents:
            # the build: the handlers of every pool in pool order, as the loop below makes them,
            # without its lists per pool and with the servers' arrays made once for the level
            # (xian's 69,000 grid workers and mediators: 0.5 s of the build went on them)
            n = pools.n_pools * per_pool
            speeds, free = self._speeds(level, n), np.full(n, t0)
            self.staff[level] = [cls(self.model, self, level, k // per_pool, speeds[k:k + 1], t0, free[k:k + 1])
                                 for k in range(n)]
            pools.set_servers(np.repeat(np.arange(pools.n_pools), per_pool), [1] * n, [free], [speeds])
            return
        if spec.individual:
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
                    speed = speeds[p * per_pool + j: p * per_pool + j + 1]
                    members.append(cls(self.model, self, level, p, speed, t0))
            agents = [a for members in by_pool for a in members]
        else:
            if not agents:
                for p, name in enumerate(self._team_names(level)):
                    agents.append(cls(self.model, self, level, p, np.zeros(0), t0))
                    agents[-1].name = name
            counts = self.pool_counts(level, per_pool)
            first = np.concatenate([[0], np.cumsum(counts)])  # pool p's speeds: first[p]:first[p + 1]
            speeds = self._speeds(level, int(first[-1]))
            for p, a in enumerate(agents):
                a.resize(int(counts[p]), speeds[first[p]:first[p + 1]], t0)
        self.staff[level] = agents
        pools.set_servers(np.array([a.pool for a in agents], dtype=np.int64),
                          [a.servers for a in agents], [a.free_at for a in agents], [a.speed for a in agents])

    def _team_names(self, level: Level) -> list[str]:
        lay, deps = self.state.layout, self.state.departments
        if level == Level.STREET:
            return [f"street-{s}" for s in range(lay.n_streets)]
        if level == Level.DISTRICT:
            return [f"district-{d}/{name}" for d in range(lay.n_districts) for name in deps]
        if level == Level.CITY:
            return [f"city/{name}" for name in deps]
        return [f"court-{d}" for d in range(lay.n_districts)]
