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
from .escalation_kernels import (
    _STREET_SCOPED,
    _accrue_steps,
    _end_of_day,
    _end_of_day_rows,
    _gather_residents,
    _gather_rows,
    _hazard,
    _hazard_rows,
    _per_1000,
    _uncapped_rows,
)
from .levels import TOP
from .routing import Router
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
    # Whether today's hazard of the capped cases (severity 3) is wanted. Nothing in a run reads
    # it: their severity cannot rise (the end-of-day pass leaves their integral alone; an accrue
    # of one integrates it into hazard_acc, read by nothing, and steps nothing). Only the hazard
    # column and the map layer escalation_risk show it, after a day. A caller that will not look
    # after today may set this False: the stage then takes the uncapped cases alone (5x, day 250:
    # 32,000 of 830,000 rows, 12 -> 2 ms a day); their hazards and the neighbour term are the
    # same, the capped cases keep an older hazard.
    capped_hazard = True
    _rows = np.empty(0, dtype=np.int64)  # the uncapped rows' buffer (kept; a class default for old pickles)

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
        rows = None
        if not self.capped_hazard:  # the uncapped rows: counted with the rest, then theirs alone
            if self._rows.shape[0] < n:
                self._rows = np.empty(n + n // 4, dtype=np.int64)
            rows = self._rows[:_uncapped_rows(tab["resident_a"], g, tab["severity"], open_per_grid, self._rows)]
        x, tension, trust, decay = self._scratch[:, :n if rows is None else rows.shape[0]]
        if rows is None:
            _gather_residents(tab["resident_a"], g, open_per_grid, r.tension_t, r.tension, r.trust, np.float32(t0),
                              np.float32(r.relax_hours), x, tension, trust)
        else:
            _gather_rows(rows, tab["resident_a"], r.tension_t, r.tension, r.trust, np.float32(t0),
                         np.float32(r.relax_hours), x, tension, trust)
        np.exp(x, out=decay)
        # the open cases around each grid per 1,000 residents there, in one compiled pass
        self.open_nearby_per_1000 = _per_1000(open_per_grid, map_neighbours(s.layout), self._near_floor)
        neighbour = w["escalation_neighbour_weight"] * (
            1.0 - w["escalation_disclosure_damping"] * s.levers.information_disclosure)
        args = (tab["hazard"], g, tab["t_emerge"], decay, tension, trust, r.trust_shift, self.open_nearby_per_1000,
                float(t0), float(w["escalation_hazard_per_hour"]), float(w["escalation_growth_per_day"]),
                float(w["escalation_max_multiplier"]), np.float32(w["escalation_tension_weight"]),
                float(w["escalation_distrust_weight"]), float(neighbour), s.categories.escalation_mult,
                tab["category"], tab["bounces"], float(w["escalation_bounce_weight"]))
        if rows is None:
            _hazard(*args)
        else:
            _hazard_rows(rows, *args)

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


__all__ = ["Escalation", "map_neighbourhood_sum", "map_neighbours", "neighbourhood_sum", "_end_of_day", "_per_1000"]
