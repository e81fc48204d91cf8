"""Escalation: a case's severity rising while it waits (minor → intensified → collective → major).

The escalation clock runs from emergence while a case is not being served. Each day every open
case gets a hazard (per hour)::

    base × category multiplier × min(1 + growth × days waited, max multiplier)
         × (1 + tension weight × tension + distrust weight × (1 − trust))
         × (1 + bounce weight × bounces between departments)
         × (1 + neighbour weight × (1 − damping × disclosure) × open cases per 1,000 neighbours)

— bounded, since tension and trust lie in [0, 1] and the waiting factor is capped — and the
hazard integrated over its exposure is compared with three unit-exponential thresholds drawn at
emergence; each threshold crossed is one severity step. This is exact for piecewise-constant
hazards. (Moving a case *up a level* is a referral: :mod:`sim.engine.routing`.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .city import CityLayout
from .intrinsics import prefetch
from .levels import TOP
from .routing import STREET_SCOPED, Router
from .state import CityState


def neighbourhood_sum(s: CityState, per_grid: np.ndarray) -> np.ndarray:
    """Sum of a per-grid quantity (``[grids]`` or ``[grids, k]``) over each grid's 3x3
    neighbourhood on the map."""
    return map_neighbourhood_sum(s.layout, per_grid)


def map_neighbourhood_sum(lay: CityLayout, per_grid: np.ndarray) -> np.ndarray:
    """:func:`neighbourhood_sum` on a layout (what outcome statistics use after a run)."""
    extra = per_grid.ndim > 1  # [grids, k]
    vals = np.ascontiguousarray(per_grid if extra else per_grid[:, None], dtype=np.float64)
    out = _neighbourhood_sum(vals, map_neighbours(lay))
    return out if extra else out[:, 0]


def map_neighbours(lay: CityLayout) -> np.ndarray:
    """The grid in each of the 9 cells of every grid's 3x3 neighbourhood (itself included), row
    by row from the top left; -1 off the map or where no grid is. Built once per layout."""
    if lay.neighbours is None:
        grid_at = np.full(lay.rows * lay.cols, -1, dtype=np.int64)
        grid_at[lay.cell_of_grid] = np.arange(lay.n_grids)  # as the map canvas was filled
        r, c = lay.cell_of_grid // lay.cols, lay.cell_of_grid % lay.cols
        nb = np.full((lay.n_grids, 9), -1, dtype=np.int64)
        for j, (dr, dc) in enumerate((dr, dc) for dr in (-1, 0, 1) for dc in (-1, 0, 1)):
            rr, cc = r + dr, c + dc
            on = (rr >= 0) & (rr < lay.rows) & (cc >= 0) & (cc < lay.cols)
            nb[on, j] = grid_at[rr[on] * lay.cols + cc[on]]
        lay.neighbours = nb
    return lay.neighbours


@njit(cache=True)
def _neighbourhood_sum(vals, nb):  # pragma: no cover - compiled
    # The sum a zero-bordered map canvas gives (0 + the 9 shifted copies, top left first):
    # the same additions in the same order, a 0.0 for a cell with no grid.
    n, k = vals.shape
    out = np.empty((n, k))
    for g in range(n):
        for c in range(k):
            total = 0.0
            for j in range(9):
                h = nb[g, j]
                total += vals[h, c] if h >= 0 else 0.0
            out[g, c] = total
    return out


class Escalation:
    """The severity clock of every open case. Keeps escalations per grid (a map layer) and the
    open cases per 1,000 residents around each grid (the neighbour term)."""

    # max(near_residents, 1), the divisor of the neighbour term: made with near_residents (a
    # class default, so that a model pickled before it existed still loads and runs)
    _near_floor: np.ndarray | None = None
    # the rows the end-of-day pass may act on, as found by the lapse stage (:meth:`expect`)
    _expected: tuple[tuple[int, int, int, int, int, float], np.ndarray] | None = None

    def __init__(self, s: CityState, router: Router) -> None:
        self.router = router
        self.escalations_by_grid = np.zeros(s.layout.n_grids, dtype=np.int64)
        # severity steps per grid and category to date (contagion reads today's: §7.16)
        self.steps_by_grid_category = np.zeros((s.layout.n_grids, s.categories.n), dtype=np.int64)
        self.open_nearby_per_1000 = np.zeros(s.layout.n_grids)
        # the map does not change: residents around each grid are summed once
        # (on the first day, so that building a model compiles or loads no kernel)
        self.near_residents: np.ndarray | None = None
        self._scratch = np.empty((4, 0), dtype=np.float32)  # hazard's per-case temporaries (kept)

    def hazard(self, s: CityState) -> None:
        """Stage ``escalation_hazard``: today's hazard per open case. Reads cases, residents,
        world, clock; writes ``cases.hazard`` and ``open_nearby_per_1000``."""
        tab, w = s.cases, s.world
        if len(tab) == 0:
            return
        g = tab["grid"]
        # Compiled passes with numpy's arithmetic, in numpy's dtypes and order (tension is float32,
        # as in ResidentTable.tension_at); the float32 exp stays numpy's own. The pass that
        # gathers the residents' records also counts the open cases per grid (np.bincount).
        r, t0 = s.residents, s.clock.t0
        if self.near_residents is None:
            self.near_residents = neighbourhood_sum(s, s.layout.residents_per_grid.astype(np.float64))
        if self._near_floor is None:
            self._near_floor = np.maximum(self.near_residents, 1.0)
        open_per_grid = np.zeros(s.layout.n_grids)
        # the day's per-case temporaries live in buffers kept across days: fresh arrays of a large
        # backlog cost a page fault every 4 kB every day
        n = tab.n
        if self._scratch.shape[1] < n:
            self._scratch = np.empty((4, n + n // 4), dtype=np.float32)
        x, tension, trust, decay = self._scratch[:, :n]
        _gather_residents(tab["resident_a"], g, open_per_grid, r.tension_t, r.tension, r.trust, np.float32(t0),
                          np.float32(r.relax_hours), x, tension, trust)
        np.exp(x, out=decay)
        # the open cases around each grid per 1,000 residents there, in one compiled pass
        self.open_nearby_per_1000 = _per_1000(open_per_grid, map_neighbours(s.layout), self._near_floor)
        neighbour = w["escalation_neighbour_weight"] * (
            1.0 - w["escalation_disclosure_damping"] * s.levers.information_disclosure)
        _hazard(tab["hazard"], g, tab["t_emerge"], decay, tension, trust, r.trust_shift,
                self.open_nearby_per_1000, float(t0), float(w["escalation_hazard_per_hour"]),
                float(w["escalation_growth_per_day"]), float(w["escalation_max_multiplier"]),
                np.float32(w["escalation_tension_weight"]), float(w["escalation_distrust_weight"]),
                float(neighbour), s.categories.escalation_mult, tab["category"], tab["bounces"],
                float(w["escalation_bounce_weight"]))

    def accrue(self, s: CityState, rows: np.ndarray, until: np.ndarray | float) -> None:
        """Integrate today's hazard over each case's exposure up to ``until``; apply the severity
        steps whose thresholds were crossed, recording when severity first reached 2."""
        if rows.size == 0:
            return
        tab = s.cases
        # One compiled pass integrates every case and applies the steps of those that crossed a
        # threshold (a case's severity is always severity0 + thresholds crossed, capped at 3; the
        # integer tallies do not depend on the order, the times are numpy's arithmetic).
        s.today["escalations"] += _accrue_steps(
            np.asarray(rows, dtype=np.int64), np.atleast_1d(np.asarray(until, dtype=np.float64)),
            float(s.clock.t0), tab["acc_from"], tab["hazard"], tab["hazard_acc"], tab["esc_thresholds"],
            tab["severity0"], tab["severity"], tab["grid"], tab["category"], tab["t_severity2"],
            self.escalations_by_grid, self.steps_by_grid_category)

    def end_of_day_rules(self, s: CityState) -> tuple[np.ndarray, int, float, np.ndarray, float]:
        """What the end-of-day pass tests a row against (``lapse._spend`` lists the rows it acts
        on with them): the entry level per category and severity, the top level, the review's
        wait in hours, the levels whose street backlogs are balanced, and the end of today."""
        return (s.categories.entry_level, int(TOP), float(self.router.handling["review_after_hours"]),
                _STREET_SCOPED, float(s.clock.t1))

    def expect(self, s: CityState, rows: np.ndarray) -> None:
        """Tell :meth:`end_of_day` that it will act on none of the rows but ``rows`` (ascending,
        found by the lapse stage's pass just before: ``lapse._spend``): it then passes over those
        alone, unless the table was appended to or compacted since (its next call forgets them
        either way). The caller vouches that nothing else writes the table in between (in the
        plan the escalation stage follows the lapse stage)."""
        self._expected = (self._table_state(s), rows)

    @staticmethod
    def _table_state(s: CityState) -> tuple[int, int, int, int, int, float]:
        tab = s.cases
        return id(tab), tab.n, tab.base, tab.next_id, tab.buried, float(s.clock.t1)

    def end_of_day(self, s: CityState) -> None:
        """Stage ``escalation``: integrate the hazard of every unserved open case to the end of
        the day; then the router's daily review refers up the cases that outgrew their level or
        waited there too long, and the district balances its streets' backlogs (三级联动)."""
        tab, r = s.cases, self.router
        # One compiled pass over the table: the unserved cases (latent, reporting or queued,
        # exposure not yet integrated to t1) have their hazard integrated and their severity steps
        # applied (what ``accrue`` does), and the same pass lists the cases the router moves —
        # outgrown, due for the review, queued at a street-scoped level for balancing. Each list
        # is what a pass of its own gave after the moves before it: every move sets the rows it
        # moves to REPORTING, and a row is in one list at most (the first that takes it).
        # The pass takes only the rows the lapse stage's pass found it would act on, when that
        # pass ran on this table as it stands (:meth:`expect`): at 5x about 2 % of the rows.
        expected, self._expected = self._expected, None
        rows = expected[1] if expected is not None and expected[0] == self._table_state(s) else None
        steps, outgrown, due, queued = _end_of_day_rows(
            np.empty(0, np.int64) if rows is None else rows, rows is None,
            tab["stage"], tab["level"], tab["severity0"], tab["severity"], tab["category"], tab["grid"],
            tab["t_arrive"], tab["acc_from"], tab["hazard"], tab["hazard_acc"], tab["esc_thresholds"],
            tab["t_severity2"], *self.end_of_day_rules(s)[:4], float(s.clock.t0), float(s.clock.t1),
            self.escalations_by_grid, self.steps_by_grid_category)
        s.today["escalations"] += steps
        r.refer_outgrown(s, outgrown)
        r.review(s, due)
        r.balance(s, queued)


# ----------------------------------------------------------------- compiled kernels
_STREET_SCOPED = np.zeros(int(TOP) + 1, dtype=np.bool_)  # levels whose street backlogs are balanced
_STREET_SCOPED[list(STREET_SCOPED)] = True
_AHEAD = 128  # prefetch distance in cases (a resident record is one random cache line; 32 to 256
#               measured: 128 was fastest, 2.5 to 4 times faster than no prefetch)


@njit(cache=True)
def _accrue_row(i, u, t0, acc_from, hazard, hazard_acc, thr):  # pragma: no cover - compiled
    """Integrate the hazard of row ``i`` from ``max(acc_from, t0)`` to ``u``; returns the number
    of thresholds crossed before and after, the start of the exposure and the integral before."""
    a = acc_from[i]
    start = a if a >= t0 else t0
    span = u - start
    if not span >= 0.0:
        span = 0.0
    before = hazard_acc[i]
    after = before + hazard[i] * span
    k0 = 0
    k1 = 0
    for c in range(3):
        t = np.float64(thr[i, c])
        if t <= before:
            k0 += 1
        if t <= after:
            k1 += 1
    hazard_acc[i] = after
    acc_from[i] = u
    return k0, k1, start, before


@njit(cache=True)
def _accrue_steps(rows, until, t0, acc_from, hazard, hazard_acc, thr, severity0, severity, grid, category,
                  t_severity2, by_grid, by_grid_category):  # pragma: no cover - compiled
    """Integrate ``hazard`` from ``max(acc_from, t0)`` to ``until`` (one value, or one per row)
    for ``rows`` and apply the severity steps of the thresholds crossed (:func:`_step_row`);
    returns the number of steps."""
    one = until.shape[0] == 1
    steps = 0
    for r in range(rows.shape[0]):
        i = rows[r]
        k0, k1, start, before = _accrue_row(i, until[0] if one else until[r], t0, acc_from, hazard, hazard_acc,
                                            thr)
        if k1 != k0:
            steps += _step_row(i, k0, k1, start, before, hazard, thr, severity0, severity, grid, category,
                               t_severity2, by_grid, by_grid_category)
    return steps


@njit(cache=True)
def _end_of_day(stage, level, severity0, severity, category, grid, t_arrive, acc_from, hazard, hazard_acc, thr,
                t_severity2, entry, top, review_after, street_scoped, t0, t1, by_grid,
                by_grid_category):  # pragma: no cover - compiled
    """:meth:`Escalation.end_of_day`'s pass: :func:`_accrue_steps` to ``t1``
    for the rows in stages 0..2 with ``acc_from < t1``; returns the number of steps and, ascending,
    the rows of those that wait (reporting or queued) below their route's level for their new
    severity (``entry[category, severity]``), then of the other queued rows those that waited
    ``review_after`` hours at a level below ``top``, then of the rest those queued at a level
    with ``street_scoped[level]``."""
    return _end_of_day_rows(np.empty(0, np.int64), True, stage, level, severity0, severity, category, grid,
                            t_arrive, acc_from, hazard, hazard_acc, thr, t_severity2, entry, top, review_after,
                            street_scoped, t0, t1, by_grid, by_grid_category)


@njit(cache=True)
def _end_of_day_rows(rows, every, stage, level, severity0, severity, category, grid, t_arrive, acc_from, hazard,
                     hazard_acc, thr, t_severity2, entry, top, review_after, street_scoped, t0, t1, by_grid,
                     by_grid_category):  # pragma: no cover - compiled
    """:func:`_end_of_day` over ``rows`` (ascending), or over every row when ``every``."""
    n = stage.shape[0] if every else rows.shape[0]
    up = np.empty(n, np.int64)
    due = np.empty(n, np.int64)
    bal = np.empty(n, np.int64)
    n_up = 0
    n_due = 0
    n_bal = 0
    steps = 0
    for r in range(n):
        i = r if every else rows[r]
        st = stage[i]
        if st > 2 or st < 0:
            continue
        if acc_from[i] < t1:
            if severity[i] < 3:
                k0, k1, start, before = _accrue_row(i, t1, t0, acc_from, hazard, hazard_acc, thr)
                if k1 != k0:
                    steps += _step_row(i, k0, k1, start, before, hazard, thr, severity0, severity, grid,
                                       category, t_severity2, by_grid, by_grid_category)
            # else: severity is capped (severity0 + thresholds crossed, at most 3, never lower), so
            # no crossing can change anything: the integral (read by nothing else) and its start
            # are left as they are — most of a 5x backlog. The start stays below t1, which is
            # tomorrow's t0, and every reader takes max(acc_from, t0) (accrue, lapse) or tests
            # acc_from < t1 (this pass): the same as if it had moved to t1.
            if (st == 1 or st == 2) and level[i] >= 0 and entry[category[i], severity[i]] > level[i]:
                up[n_up] = i
                n_up += 1
                continue
        if st == 2:
            lv = level[i]
            if lv < top and t1 - t_arrive[i] >= review_after:
                due[n_due] = i
                n_due += 1
            elif lv >= 0 and street_scoped[lv] and t1 - t_arrive[i] >= -np.inf:
                bal[n_bal] = i
                n_bal += 1
    return steps, up[:n_up].copy(), due[:n_due].copy(), bal[:n_bal].copy()


@njit(cache=True)
def _gather_residents(res, grid, per_grid, tension_t, tension, trust, now, relax, x, ten,
                      tru):  # pragma: no cover - compiled
    """For residents ``res``, into ``x``, ``ten``, ``tru``: ``-max(now - tension_t, 0) / relax`` in
    float32 (the exponent of tension decay), their tension and their own trust (one pass over the
    resident records); ``per_grid`` (zeros) counts the rows of each ``grid`` (exact integers, as
    np.bincount). Rows without a resident (-1: closed rows buried in place, CaseTable.bury) are
    skipped (zeros)."""
    n = res.shape[0]
    zero = np.float32(0.0)
    for k in range(n):
        if k + _AHEAD < n:  # the record a few dozen cases ahead: its cache miss overlaps this one
            prefetch(tension_t, res[k + _AHEAD])
        i = res[k]
        if i < 0:
            x[k] = ten[k] = tru[k] = zero
            continue
        per_grid[grid[k]] += 1.0
        dt = now - tension_t[i]
        if not dt >= zero:
            dt = zero
        x[k] = -dt / relax
        ten[k] = tension[i]
        tru[k] = trust[i]


@njit(cache=True)
def _per_1000(counts, nb, floor):  # pragma: no cover - compiled
    """``neighbourhood_sum(counts) / floor * 1000.0`` (per grid), the same additions in the same
    order. Most of a map's neighbour cells hold no grid (72 % in xian), irregularly: their 0.0
    is selected, not branched to (a branch per cell mispredicted often: 146 µs a day against
    84 µs)."""
    n = counts.shape[0]
    out = np.empty(n)
    for g in range(n):
        total = 0.0
        for j in range(9):
            h = nb[g, j]
            v = counts[h if h >= 0 else 0]
            total += v if h >= 0 else 0.0
        out[g] = total / floor[g] * 1000.0
    return out


@njit(cache=True)
def _hazard(out, g, t_emerge, decay, tension, trust, shift, per_1000, t0, base, growth, max_mult,
            w_tension, w_distrust, w_neighbour, cat_mult, category, bounces,
            w_bounce):  # pragma: no cover - compiled
    """The hazard of the module docstring for every open case. Closed rows buried in place
    (CaseTable.bury: NaN emergence time, which no open case has) are skipped: nothing reads
    their hazard."""
    one32 = np.float32(1.0)
    for k in range(out.shape[0]):
        if t_emerge[k] != t_emerge[k]:
            continue
        waited_days = t0 - t_emerge[k]
        if not waited_days >= 0.0:
            waited_days = 0.0
        waited_days = waited_days / 24.0
        waiting = 1.0 + growth * waited_days
        if waiting > max_mult:
            waiting = max_mult
        tension_now = tension[k] * decay[k]  # float32
        trust_now = np.float64(trust[k]) + shift[g[k]]
        trust_now = min(max(trust_now, 0.0), 1.0)
        personal = np.float64(one32 + w_tension * tension_now) + w_distrust * (1.0 - trust_now)
        out[k] = (base * cat_mult[category[k]] * waiting * personal * (1.0 + w_bounce * bounces[k])
                  * (1.0 + w_neighbour * per_1000[g[k]]))


@njit(cache=True, error_model="numpy")
def _step_row(i, k0, k1, start, before, hazard, thr, severity0, severity, grid, category, t_severity2, by_grid,
              by_grid_category):  # pragma: no cover - compiled
    """Severity steps of row ``i`` that crossed thresholds ``k0`` to ``k1``: severity0 + crossed
    (capped at 3), tallied per grid and per grid and category; the time severity first reached
    2, ``start + (threshold - before) / hazard`` (float32 threshold in float64). Returns the
    number of steps."""
    sev0 = np.int64(severity0[i])
    sb = min(sev0 + k0, 3)
    sa = min(sev0 + k1, 3)
    d = sa - sb
    by_grid[grid[i]] += d
    by_grid_category[grid[i], category[i]] += d
    severity[i] = sa
    if sb < 2 and sa >= 2:
        j = k0 + (2 - sb) - 1  # the threshold that took it to 2
        t_severity2[i] = start + (np.float64(thr[i, j]) - before) / hazard[i]
    return d
