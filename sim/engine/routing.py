"""Routing: where a case goes, and when it gets there.

One router decides, for every move of a case:

* **triage** — a detected case enters at the level set by its severity
  (``handling.entry_level_by_severity``), unless it is minor and found by a grid worker, who may
  fix it on the spot;
* **first staffed level** — a level whose pool has nobody is skipped (the next staffed level
  up takes the case; the court at most);
* **handover delay** — information latency per reporting hop plus the silo penalty across
  platform barriers (平台壁垒), which resource integration (多网合一) removes;
* **misrouting** — at department levels, unclear responsibility (责任对口) sends a case to a
  geometric number of wrong departments first, each bounce costing a delay;
* **referral** — a case that failed, or outgrew its level while waiting, is sent up.

Which pool of a level serves a case is set by the level's :class:`~sim.engine.levels.PoolScope`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .cases import HOTLINE, Stage
from .levels import DEPARTMENT_LEVELS, LEVEL_TABLE, TOP, Level
from .state import CityState

_SCOPE = np.array([spec.scope for spec in LEVEL_TABLE], dtype=np.int64)


class Router:
    """Entry levels, pools, handover delays, misrouting and referrals (one object per model)."""

    def __init__(self, handling: dict[str, Any], n_departments: int) -> None:
        self.handling = handling
        self.entry_by_severity = np.array(handling["entry_level_by_severity"], dtype=np.int64)
        self.n_departments = n_departments

    def entry_level(self, severity: np.ndarray) -> np.ndarray:
        """Level where a reported case of each severity enters (scenario's triage table)."""
        return self.entry_by_severity[severity]

    # ----------------------------------------------------------------- pools
    def _args(self, s: CityState, level: np.ndarray | int, rows: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        g = s.cases["grid"][rows]
        dept = s.department_of_cases(rows)
        level = np.ascontiguousarray(np.broadcast_to(np.asarray(level, dtype=np.int64), g.shape))
        return level, g, dept

    def pool_index(self, s: CityState, level: np.ndarray | int, rows: np.ndarray) -> np.ndarray:
        """Pool of each case ``rows`` at ``level`` (its grid, street, district department ...)."""
        level, g, dept = self._args(s, level, rows)
        lay = s.layout
        return _pool_index(level, g, dept, _SCOPE, lay.street_of, lay.district_of, self.n_departments)

    def first_staffed(self, s: CityState, level: np.ndarray | int, rows: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """For cases ``rows`` bound for ``level``: the first level at or above it whose pool has
        staff (the court at most), and that pool."""
        level, g, dept = self._args(s, level, rows)
        lay = s.layout
        return _first_staffed(level, g, dept, _SCOPE, lay.street_of, lay.district_of, self.n_departments,
                              _counts(s), int(TOP))

    def pool_counts(self, s: CityState, level: np.ndarray | int, pool: np.ndarray) -> np.ndarray:
        """Servers in each (level, pool)."""
        level = np.ascontiguousarray(np.broadcast_to(np.asarray(level, dtype=np.int64), np.shape(pool)))
        return _pool_counts(level, np.asarray(pool, dtype=np.int64), _counts(s))

    # ----------------------------------------------------------------- moves
    def triage(self, s: CityState, rows: np.ndarray) -> None:
        """Detected cases: minor ones found by a grid worker are fixed on the spot; the rest are
        reported to the platform (latency per hop, silo penalty) and routed by severity."""
        if rows.size == 0:
            return
        tab = s.cases
        sev = tab["severity"][rows]
        spot = ((tab["channel"][rows] != HOTLINE) & (sev == 0)
                & (tab["route_u"][rows, Level.GRID] < self.handling["on_the_spot_share"])
                & (s.pools[Level.GRID].counts[tab["grid"][rows]] > 0))
        si = rows[spot]
        tab["level"][si] = Level.GRID
        tab["entry_level"][si] = Level.GRID
        tab["pool"][si] = tab["grid"][si]
        tab["t_arrive"][si] = tab["t_detect"][si]
        rest = rows[~spot]
        self.route(s, rest, self.entry_level(tab["severity"][rest]), tab["t_detect"][rest],
                   self.handling["hops_to_platform"])
        tab["entry_level"][rest] = tab["level"][rest]

    def route(self, s: CityState, rows: np.ndarray, level: np.ndarray, t_ready: np.ndarray, hops: int) -> None:
        """Send cases ``rows`` to ``level`` (or the first staffed level above it), arriving after
        the handover delay and any bounces between departments."""
        if rows.size == 0:
            return
        tab, lev, h = s.cases, s.levers, self.handling
        level, pool = self.first_staffed(s, level, rows)
        delay = hops * lev.latency_hours_per_hop + lev.silo_penalty_hours * (1.0 - lev.resource_integration)
        p_mis = h["misroute_base"] * (1.0 - lev.responsibility_clarity) * (1.0 - lev.resource_integration)
        bounces = np.zeros(rows.size, dtype=np.int64)
        if p_mis > 0:
            u = np.maximum(tab["route_u"][rows, level], 1e-12)
            dept = np.isin(level, DEPARTMENT_LEVELS)
            # P(k bounces) = p^k (1 - p): a geometric number of wrong departments before the right one
            bounces = np.where(dept, np.floor(np.log(u) / np.log(p_mis)), 0).astype(np.int64)
        t_arrive = t_ready + delay + bounces * (h["bounce_hours"] + lev.latency_hours_per_hop)
        tab["level"][rows] = level
        tab["pool"][rows] = pool
        tab["t_arrive"][rows] = t_arrive
        tab["t_start"][rows] = np.inf
        tab["t_end"][rows] = np.inf
        tab["bounces"][rows] += bounces
        tab["stage"][rows] = Stage.REPORTING
        # nowhere left to go (no court staff): the case closes unresolved rather than wait forever
        stuck = self.pool_counts(s, level, pool) == 0
        if stuck.any():
            tab["stage"][rows[stuck]] = Stage.FAILED
            tab["t_close"][rows[stuck]] = t_ready[stuck]

    def refer_failed(self, s: CityState, rows: np.ndarray, level: Level, rest_u: np.ndarray) -> None:
        """Cases that failed at ``level`` (below the top) go one level up, or to the entry level of
        their severity if that is higher; a share of district failures goes to court instead
        (``rest_u``: the outcome uniform's unused part, itself uniform)."""
        tab = s.cases
        nxt = np.maximum(level + 1, self.entry_level(tab["severity"][rows]))
        if level == Level.DISTRICT:
            nxt = np.where(rest_u < self.handling["court_share_on_failure"], TOP, nxt)
        nxt = np.minimum(nxt, TOP)
        t_ready = tab["t_end"][rows]
        tab["acc_from"][rows] = t_ready
        self.route(s, rows, nxt, t_ready, self.handling["hops_per_escalation"])

    def refer_outgrown(self, s: CityState, rows: np.ndarray) -> None:
        """Of the unserved cases ``rows``, those waiting below the entry level of their (risen)
        severity — e.g. a collective incident queued for a community mediator — are passed up at
        the platform's end-of-day review; their waiting clock keeps running."""
        tab = s.cases
        waiting = _outgrown(rows, tab["stage"], tab["level"], tab["severity"], self.entry_by_severity)
        target = self.entry_level(tab["severity"][waiting])
        up = target > tab["level"][waiting]
        if up.any():
            self.route(s, waiting[up], target[up], np.full(int(up.sum()), s.clock.t1),
                       self.handling["hops_per_escalation"])
            s.today["passed_up"] = int(up.sum())


def _counts(s: CityState) -> tuple[np.ndarray, ...]:
    return tuple(np.asarray(p.counts, dtype=np.int64) for p in s.pools)


# ----------------------------------------------------------------- compiled kernels
@njit(cache=True)
def _pool_of(scope, g, dept, street_of, district_of, n_dept):  # pragma: no cover - compiled
    """Pool of a case in grid ``g`` of department ``dept`` for a level of pool ``scope``
    (PoolScope values: grid, street, district department, city department, district)."""
    if scope == 0:
        return np.int64(g)
    if scope == 1:
        return np.int64(street_of[g])
    if scope == 2:
        return np.int64(district_of[g]) * n_dept + dept
    if scope == 3:
        return np.int64(dept)
    return np.int64(district_of[g])


@njit(cache=True)
def _pool_index(level, g, dept, scope, street_of, district_of, n_dept):  # pragma: no cover - compiled
    """Pool at ``level`` of each case in grid ``g`` of department ``dept``."""
    out = np.empty(level.shape[0], np.int64)
    for k in range(level.shape[0]):
        out[k] = _pool_of(scope[level[k]], g[k], dept[k], street_of, district_of, n_dept)
    return out


@njit(cache=True)
def _first_staffed(level, g, dept, scope, street_of, district_of, n_dept, counts,
                   top):  # pragma: no cover - compiled
    """Per case: the first level from ``level`` up (at most ``top``) whose pool has staff, and
    that pool."""
    n = level.shape[0]
    out_level = np.empty(n, np.int64)
    out_pool = np.empty(n, np.int64)
    for k in range(n):
        lv = level[k]
        p = _pool_of(scope[lv], g[k], dept[k], street_of, district_of, n_dept)
        while lv < top and counts[lv][p] == 0:
            lv += 1
            p = _pool_of(scope[lv], g[k], dept[k], street_of, district_of, n_dept)
        out_level[k] = lv
        out_pool[k] = p
    return out_level, out_pool


@njit(cache=True)
def _pool_counts(level, pool, counts):  # pragma: no cover - compiled
    """``counts[level[k]][pool[k]]`` for every k (``counts``: one array per level)."""
    out = np.empty(level.shape[0], np.int64)
    for k in range(level.shape[0]):
        c = counts[level[k]]
        if pool[k] < 0 or pool[k] >= c.shape[0]:
            raise IndexError("pool index out of range")
        out[k] = c[pool[k]]
    return out


@njit(cache=True)
def _outgrown(rows, stage, level, severity, entry):  # pragma: no cover - compiled
    """Of ``rows``, those waiting (not latent, level >= 0) below their severity's entry level."""
    out = np.empty(rows.shape[0], np.int64)
    k = 0
    for r in range(rows.shape[0]):
        i = rows[r]
        if stage[i] != 0 and level[i] >= 0 and entry[severity[i]] > level[i]:
            out[k] = i
            k += 1
    return out[:k]
