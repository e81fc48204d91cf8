"""Routing: where a case goes, and when it gets there.

One router decides, for every move of a case:

* **triage** — a detected case enters at the level its category's route sets for its severity
  (``entry_level_by_severity``: political security goes to public security, cyber to the
  cyberspace administration, civil disputes to community mediation), unless it is minor and
  found by a grid worker, who may fix it on the spot;
* **handover delay** — information latency per reporting hop plus the silo penalty across
  platform barriers (平台壁垒), which resource integration (多网合一) removes;
* **misrouting** — at department levels, unclear responsibility (责任对口) sends a case to a
  geometric number of wrong departments first, each bounce costing a delay (and, in the
  escalation hazard, the parties' patience);
* **referral** — a case that failed, or outgrew its level while waiting, is sent up;
* **review** — at the platform's daily review, a case that has waited ``review_after_hours`` at
  a level is referred up. A level with no staff is not skipped: its cases wait there for the
  review (the handover delay of an unstaffed level), with their escalation clock running, so
  removing staff can never shorten a case's path;
* **linkage** (三级联动) — the district moves part of the imbalance of street-level backlogs
  between its streets each day (``levers.linkage``).

Which pool of a level serves a case is set by the level's :class:`~sim.engine.levels.PoolScope`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .cases import HOTLINE, Stage
from .front_kernels import triage_split
from .levels import DEPARTMENT_LEVELS, LEVEL_TABLE, TOP, Level, PoolScope
from .state import CityState

_SCOPE = np.array([spec.scope for spec in LEVEL_TABLE], dtype=np.int64)
_NO_LOG = np.zeros(0, dtype=np.float32)  # no misrouting: no logs
_IS_DEPARTMENT = np.isin(np.arange(len(LEVEL_TABLE)), DEPARTMENT_LEVELS)  # by level: np.isin once, not per move
STREET_SCOPED = tuple(spec.level for spec in LEVEL_TABLE if spec.scope == PoolScope.STREET)
# levels whose failures may go straight to court, and the handling key of that share
_COURT_SHARE_KEY = {Level.STREET: "court_share_on_street_failure", Level.DISTRICT: "court_share_on_failure"}


def per_row(x: Any, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """``np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=dtype), shape))``, without the
    broadcast (~10 µs a call) when ``x`` already is such an array: then a read-only view of it, as
    the broadcast gives (numba types a read-only array apart: the kernels' signatures stay)."""
    if isinstance(x, np.ndarray) and x.shape == shape and x.dtype == dtype and x.flags.c_contiguous:
        view = x.view()
        view.flags.writeable = False
        return view
    return np.ascontiguousarray(np.broadcast_to(np.asarray(x, dtype=dtype), shape))


class Router:
    """Entry levels, pools, handover delays, misrouting, referrals, review and linkage."""

    def __init__(self, handling: dict[str, Any], n_departments: int) -> None:
        self.handling = handling
        self.n_departments = n_departments
        self._district_of_street: np.ndarray | None = None

    def entry_level(self, s: CityState, rows: np.ndarray, severity: np.ndarray | None = None) -> np.ndarray:
        """Level where each case ``rows`` enters at its severity (or ``severity``), by its
        category's route."""
        tab = s.cases
        sev = tab["severity"][rows] if severity is None else severity
        return s.categories.entry_level[tab["category"][rows], sev]

    # ----------------------------------------------------------------- pools
    def pool_index(self, s: CityState, level: np.ndarray | int, rows: np.ndarray) -> np.ndarray:
        """Pool of each case ``rows`` at ``level`` (its grid, street, district department ...)."""
        g = s.cases["grid"][rows]
        dept = s.department_of_cases(rows)
        level = per_row(level, g.shape, np.int64)
        lay = s.layout
        return _pool_index(level, g, dept, _SCOPE, lay.street_of, lay.district_of, self.n_departments)

    def pool_counts(self, s: CityState, level: np.ndarray | int, pool: np.ndarray) -> np.ndarray:
        """Servers in each (level, pool)."""
        level = per_row(level, np.shape(pool), np.int64)
        counts = tuple(np.asarray(p.counts, dtype=np.int64) for p in s.pools)
        return _pool_counts(level, np.asarray(pool, dtype=np.int64), counts)

    # ----------------------------------------------------------------- moves
    def triage(self, s: CityState, rows: np.ndarray) -> None:
        """Detected cases: minor ones found by a grid worker are fixed on the spot; the rest are
        reported to the platform (latency per hop, silo penalty) and routed by their route."""
        if rows.size == 0:
            return
        tab = s.cases
        # one compiled pass places the spot fixes and finds the rest's entry levels (some
        # thirty numpy calls on a day's few thousand rows before)
        rest, level, t_ready, u = triage_split(
            np.asarray(rows, dtype=np.int64), tab["channel"], tab["severity"], tab["category"], tab["grid"],
            tab["route_u"], tab["t_detect"], s.pools[Level.GRID].counts, s.categories.entry_level, HOTLINE,
            np.float32(self.handling["on_the_spot_share"]), int(Level.GRID), tab["level"], tab["entry_level"],
            tab["pool"], tab["t_arrive"], tab["levels_routed"])
        self._move(s, rest, level, t_ready, u, self.handling["hops_to_platform"])

    def walk_in(self, s: CityState, rows: np.ndarray, level: np.ndarray | int) -> None:
        """Residents bring cases ``rows`` in person to ``level`` (a mediation committee, a court):
        no reporting hop, no platform; they arrive at their detection time."""
        if rows.size == 0:
            return
        tab = s.cases
        rows = np.asarray(rows, dtype=np.int64)
        level = per_row(level, rows.shape, np.int64)
        # a move without delay or bounces (t + 0.0 + 0 × c is t): pool by scope, placed, as _place
        self._land(s, rows, level, tab["t_detect"][rows], _NO_LOG, np.float64(1.0), False, 0.0, 0.0)
        tab["entry_level"][rows] = level

    def route(self, s: CityState, rows: np.ndarray, level: np.ndarray, t_ready: np.ndarray, hops: int) -> None:
        """Send cases ``rows`` to ``level``, arriving after the handover delay and any bounces
        between departments. Staffed or not: an unstaffed level's queue waits for the review."""
        if rows.size == 0:
            return
        rows = np.asarray(rows, dtype=np.int64)
        self._move(s, rows, per_row(level, rows.shape, np.int64), per_row(t_ready, rows.shape, np.float64), None,
                   hops)

    def _move(self, s: CityState, rows: np.ndarray, level: np.ndarray, t_ready: np.ndarray, u: np.ndarray | None,
              hops: int) -> None:
        # route() for int64 rows and levels and float64 times; ``u``: the routing uniforms at
        # those levels when already gathered
        tab, lev, h = s.cases, s.levers, self.handling
        delay = hops * lev.latency_hours_per_hop + lev.silo_penalty_hours * (1.0 - lev.resource_integration)
        p_mis = h["misroute_base"] * (1.0 - lev.responsibility_clarity) * (1.0 - lev.resource_integration)
        # P(k bounces) = p^k (1 - p): a geometric number of wrong departments before the right
        # one, floor(log u / log p); the logs stay numpy's (its float32 loop), the rest of the
        # move is one compiled pass (pool, arrival, placement, bounces)
        lu = np.log(np.maximum(tab["route_u"][rows, level] if u is None else u, 1e-12)) if p_mis > 0 else _NO_LOG
        lp = np.log(p_mis) if p_mis > 0 else np.float64(1.0)
        self._land(s, rows, level, t_ready, lu, lp, p_mis > 0, float(delay),
                   float(h["bounce_hours"] + lev.latency_hours_per_hop))

    def _land(self, s: CityState, rows: np.ndarray, level: np.ndarray, t_ready: np.ndarray, lu: np.ndarray,
              lp: np.float64, misroute: bool, delay: float, c_bounce: float) -> None:
        tab, lay = s.cases, s.layout
        # read-only views whatever the caller passed (a broadcast level or a gathered column):
        # numba types a read-only array apart, and each signature is one more kernel to load
        level, t_ready = per_row(level, rows.shape, np.int64), per_row(t_ready, rows.shape, np.float64)
        _route_place(rows, level, t_ready, lu, lp, misroute, delay, c_bounce, _IS_DEPARTMENT, _SCOPE, tab["grid"],
                     tab["category"], s.categories.department, lay.street_of, lay.district_of, self.n_departments,
                     tab["level"], tab["pool"], tab["t_arrive"], tab["t_start"], tab["t_end"], tab["stage"],
                     tab["levels_routed"], tab["bounces"], int(Stage.REPORTING))

    def _place(self, s: CityState, rows: np.ndarray, level: np.ndarray, pool: np.ndarray,
               t_arrive: np.ndarray) -> None:
        tab = s.cases
        tab["level"][rows] = level
        tab["pool"][rows] = pool
        tab["t_arrive"][rows] = t_arrive
        tab["t_start"][rows] = np.inf
        tab["t_end"][rows] = np.inf
        tab["stage"][rows] = Stage.REPORTING
        tab["levels_routed"][rows] |= (1 << level).astype(np.uint8)

    def refer_failed(self, s: CityState, rows: np.ndarray, level: Level, rest_u: np.ndarray) -> None:
        """Cases that failed at ``level`` (below the top) go one level up, or to the entry level of
        their severity if that is higher; a share of street (township) and of district failures
        goes to court instead (``rest_u``: the outcome uniform's unused part, itself uniform)."""
        tab = s.cases
        court_key = _COURT_SHARE_KEY.get(level)
        # rest_u >= 0, so a share of 0 (or of -1: no court path) sends nobody: outputs unchanged
        share = float(self.handling[court_key]) if court_key is not None else -1.0
        nxt, t_ready = _after_failure(np.asarray(rows, dtype=np.int64), int(level), rest_u, share,
                                      s.categories.entry_level, tab["category"], tab["severity"], tab["t_end"],
                                      tab["acc_from"], int(TOP))
        self.route(s, rows, nxt, t_ready, self.handling["hops_per_escalation"])

    def refer_outgrown(self, s: CityState, waiting: np.ndarray) -> None:
        """The unserved cases ``waiting`` below the entry level of their (risen) severity — e.g. a
        collective incident queued for a community mediator; found by the escalation stage's pass
        (``Escalation.end_of_day``) — are passed up at the platform's end-of-day review; their
        waiting clock keeps running."""
        tab = s.cases
        target = self.entry_level(s, waiting)
        up = target > tab["level"][waiting]
        if up.any():
            self.route(s, waiting[up], target[up], np.full(int(up.sum()), s.clock.t1),
                       self.handling["hops_per_escalation"])
            s.today["passed_up"] += int(up.sum())

    def review(self, s: CityState, rows: np.ndarray) -> None:
        """The platform's daily review: cases ``rows`` (ascending), those that have waited
        ``review_after_hours`` at a level below the top (staffed or not; found by the escalation
        stage's pass), are referred one level up (or to their route's level for their severity,
        if higher)."""
        tab, t1 = s.cases, s.clock.t1
        if rows.size == 0:
            return
        nxt = np.minimum(np.maximum(tab["level"][rows].astype(np.int64) + 1, self.entry_level(s, rows)), TOP)
        self.route(s, rows, nxt, np.full(rows.size, t1), self.handling["hops_per_escalation"])
        s.today["passed_up"] += int(rows.size)

    def balance(self, s: CityState, queued: np.ndarray) -> None:
        """三级联动: at each street-scoped level, the district moves a share ``levers.linkage`` of
        each street's excess backlog (beyond its share of the district's, by staff) to the
        district's streets with a deficit; the newest arrivals move, after one reporting hop.
        ``queued``: the rows queued at the street-scoped levels (ascending), apart from those the
        review just moved (found by the escalation stage's pass)."""
        share = s.levers.linkage
        if share <= 0:
            return
        tab, t1 = s.cases, s.clock.t1
        at_level = tab["level"][queued]
        for level in STREET_SCOPED:
            rows = queued[at_level == level]
            if rows.size == 0:
                continue
            moved, dest = _balance_moves(rows, tab["pool"], tab["t_arrive"], tab["case_id"],
                                         s.pools[level].counts, self._street_districts(s), share)
            if moved.size:
                t_arrive = np.full(moved.size, t1 + s.levers.latency_hours_per_hop)
                self._place(s, moved, np.full(moved.size, int(level)), dest, t_arrive)
                s.today["transferred"] += int(moved.size)

    def _street_districts(self, s: CityState) -> np.ndarray:
        if self._district_of_street is None:
            lay = s.layout
            out = np.zeros(lay.n_streets, dtype=np.int64)
            out[lay.street_of] = lay.district_of
            self._district_of_street = out
        return self._district_of_street


def _balance_moves(rows: np.ndarray, pool_col: np.ndarray, t_arrive: np.ndarray, case_id: np.ndarray,
                   counts: np.ndarray, district_of_pool: np.ndarray, share: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Rows to move between the pools of one street-scoped level, and their destination pools.

    Per district: pool p's fair queue is its staff's share of the district's queue; a share of
    each excess (rounded down) moves, newest arrivals first, to pools short of their fair queue,
    largest shortfall first and in turns, up to the (rounded-up) shortfall. Pools without staff
    are never destinations."""
    n_pools = counts.size
    # per pool: queue, fair queue, cases to move and slots to fill (one compiled pass); and the
    # rows of the pools that give some: only those are sorted (their order is the same)
    q, fair, n_move, n_slot, cand = _balance_need(rows, pool_col, np.asarray(counts, dtype=np.int64),
                                                  district_of_pool, int(district_of_pool.max()) + 1, float(share))
    if cand.size == 0 or n_slot.sum() == 0:
        return rows[:0], rows[:0]
    rows = rows[cand]
    pool = pool_col[rows].astype(np.int64)
    # sources: the newest n_move[p] cases of each pool p
    order = np.lexsort((-case_id[rows], -t_arrive[rows], pool))
    sp = pool[order]
    rank = np.arange(sp.size) - np.searchsorted(sp, sp, side="left")
    src = order[rank < n_move[sp]]
    src_d = district_of_pool[pool[src]]
    # destination slots: pool d repeated n_slot[d] times; in turns across a district's pools
    slot_pool = np.repeat(np.arange(n_pools), n_slot)
    slot_turn = np.arange(slot_pool.size) - np.searchsorted(slot_pool, slot_pool, side="left")
    slot_d = district_of_pool[slot_pool]
    slots = np.lexsort((-(fair - q)[slot_pool], slot_turn, slot_d))
    slot_pool, slot_d = slot_pool[slots], slot_d[slots]
    # the k-th source of a district takes the district's k-th slot, if there is one
    s_order = np.argsort(src_d, kind="stable")
    src, src_d = src[s_order], src_d[s_order]
    k = np.arange(src.size) - np.searchsorted(src_d, src_d, side="left")
    first_slot = np.searchsorted(slot_d, src_d, side="left")
    n_slots_d = np.searchsorted(slot_d, src_d, side="right") - first_slot
    ok = k < n_slots_d
    return rows[src[ok]], slot_pool[first_slot[ok] + k[ok]]


# ----------------------------------------------------------------- compiled kernels
@njit(cache=True)
def _balance_need(rows, pool_col, counts, district_of_pool, n_d, share):  # pragma: no cover - compiled
    """:func:`_balance_moves`' per-pool figures, numpy's arithmetic (the queue sums are exact
    integers, as np.bincount's): queue, fair queue, cases to move, slots to fill; and the
    positions in ``rows`` of the cases of the pools with some to move."""
    n_pools = counts.shape[0]
    q = np.zeros(n_pools, np.float64)
    for k in range(rows.shape[0]):
        q[pool_col[rows[k]]] += 1.0
    q_d = np.zeros(n_d, np.float64)
    c_d = np.zeros(n_d, np.float64)
    for p in range(n_pools):
        q_d[district_of_pool[p]] += q[p]
        c_d[district_of_pool[p]] += counts[p]
    fair = np.empty(n_pools, np.float64)
    n_move = np.zeros(n_pools, np.int64)
    n_slot = np.zeros(n_pools, np.int64)
    for p in range(n_pools):
        d = district_of_pool[p]
        fair[p] = counts[p] * q_d[d] / c_d[d] if c_d[d] > 0 else q[p]
        n_move[p] = np.int64(np.floor(share * max(q[p] - fair[p], 0.0)))
        if counts[p] > 0:
            n_slot[p] = np.int64(np.ceil(share * max(fair[p] - q[p], 0.0)))
    cand = np.empty(rows.shape[0], np.int64)
    m = 0
    for k in range(rows.shape[0]):
        if n_move[pool_col[rows[k]]] > 0:
            cand[m] = k
            m += 1
    return q, fair, n_move, n_slot, cand[:m].copy()


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
def _route_place(rows, level, t_ready, lu, lp, misroute, delay, c_bounce, is_dept, scope, grid, category,
                 dept_of_category, street_of, district_of, n_dept, level_col, pool_col, t_arrive, t_start, t_end,
                 stage, levels_routed, bounces_col, reporting):  # pragma: no cover - compiled
    """:meth:`Router.route` after the logs (``lu``: log of each case's routing uniform, ``lp``:
    log of the misrouting chance): each case's pool, bounces and arrival, and its placement."""
    for k in range(rows.shape[0]):
        i = rows[k]
        lv = level[k]
        b = np.int64(0)
        if misroute and is_dept[lv]:
            b = np.int64(np.floor(np.float64(lu[k]) / lp))
        level_col[i] = lv
        pool_col[i] = _pool_of(scope[lv], grid[i], dept_of_category[category[i]], street_of, district_of, n_dept)
        t_arrive[i] = t_ready[k] + delay + b * c_bounce
        t_start[i] = np.inf
        t_end[i] = np.inf
        stage[i] = reporting
        levels_routed[i] |= np.uint8(1 << lv)
        bounces_col[i] += b


@njit(cache=True)
def _after_failure(rows, level, rest_u, share, entry_level, category, severity, t_end, acc_from,
                   top):  # pragma: no cover - compiled
    """:meth:`Router.refer_failed` before the move: each case's next level (one up, or its
    entry level if higher; court where ``rest_u < share``; at most ``top``), and the end of its
    service, from which its escalation clock runs again."""
    n = rows.shape[0]
    nxt = np.empty(n, np.int64)
    t_ready = np.empty(n, np.float64)
    for k in range(n):
        i = rows[k]
        x = max(np.int64(level + 1), np.int64(entry_level[category[i], severity[i]]))
        if rest_u[k] < share:
            x = top
        nxt[k] = min(x, top)
        t_ready[k] = t_end[i]
        acc_from[i] = t_end[i]
    return nxt, t_ready
