"""Contagion: grievances that breed grievances nearby in space and time (a discrete-time Hawkes
process on the map; docs/ODD.md §7.16).

Every case that emerges (background, triggered, returning, or a collective incident) triggers on
average ``world.contagion_magnitude`` further grievances of its category, and every severity step
of an unresolved case ``world.contagion_escalation_magnitude`` more. The triggered grievances
arrive after a geometric delay in days (mean ``1 / (1 − q)``, about
``world.contagion_decay_days`` + ½) and land in the case's own grid (weight 1) or in one of its
(up to 8) neighbouring grids of the map (weight ``world.contagion_reach`` each), the weights
normalised to sum to 1 for every source grid. The excitation is kept per grid and category as the
expected number of triggered cases per day::

    E[d + 1] = q · E[d] + (1 − q) · K ∗ (m · new[d] + m_esc · steps[d]),   q = exp(−1 / decay days)

so an event of day ``d`` adds ``m (1 − q) q^(a − 1)`` expected cases on day ``d + a`` (a ≥ 1):
``m`` in all. Emergence draws Poisson((1 − m) × rate) background cases and, from its own stream,
Poisson(E) triggered ones (:meth:`Contagion.split`): the category rates are the city's observed
totals, so with new-case contagion alone the stationary mean rate is
unchanged and contagion only moves grievances together in space and time; the escalation part
adds grievances where handling lets cases escalate.

Stability: a case has at most three severity steps and may come back once per unresolved exit
(``world.recurrence_share``), so its expected offspring are at most
``m + 3 m_esc + recurrence_share``; the scenario is refused (exit 2) unless that bound is < 1
(:func:`sim.config.scenario.branching_ratio`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .cases import CaseTable
from .escalation import Escalation, map_neighbours, neighbourhood_sum
from .state import CityState


class Contagion:
    """The excitation of every grid and category. Stage ``contagion`` (after the day's escalation,
    before ``close``): reads today's new rows and severity steps; writes the excitation that
    emergence adds tomorrow and ``today["collective_new"]``."""

    def __init__(self, s: CityState, escalation: Escalation) -> None:
        w = s.world
        self.escalation = escalation
        self.magnitude = float(w["contagion_magnitude"])
        self.escalation_magnitude = float(w["contagion_escalation_magnitude"])
        self.on = self.magnitude > 0 or self.escalation_magnitude > 0
        self.q = float(np.exp(-1.0 / w["contagion_decay_days"]))
        self.reach = float(w["contagion_reach"])
        self.excitation = np.zeros((s.layout.n_grids, s.categories.n))  # expected triggered cases today
        self._steps_seen = escalation.steps_by_grid_category.copy()
        self._share: np.ndarray | None = None
        self._primed = False
        self._new: np.ndarray | None = None  # kept buffers of __call__'s compiled day
        self._own: np.ndarray | None = None
        self._hit: np.ndarray | None = None
        self._near: np.ndarray | None = None
        self._src_start: np.ndarray | None = None  # neighbour_of the map, once
        self._src_pos: np.ndarray | None = None
        self._next_id = 0  # the case table's next id when this stage last ran (see _first_new)

    @property
    def background(self) -> float:
        """Share of the scenario's rates that arrives as background (the rest is triggered)."""
        return 1.0 - self.magnitude

    def split(self, rate: np.ndarray, out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Today's expected background and triggered new cases, from the scenario's ``rate``
        [grids, categories] (the background into ``out`` when given: it may be ``rate``). On the
        first day the excitation starts at its stationary value for new-case contagion
        (``magnitude × rate``), so a run does not open with a dip while the excitation builds up."""
        if not self._primed:
            self.excitation += self.magnitude * rate
            self._primed = True
        return np.multiply(rate, self.background, out=out), self.excitation

    def _own_share(self, s: CityState) -> np.ndarray:
        """Each source grid's own share of its events (the map does not change: computed once)."""
        if self._share is None:
            k = neighbourhood_sum(s, np.ones(s.layout.n_grids)) - 1.0
            self._share = 1.0 / (1.0 + self.reach * k)
        return self._share

    def kernel(self, s: CityState, events: np.ndarray) -> np.ndarray:
        """Spread ``events`` ([grids, categories]) over each grid and its map neighbours: a source
        grid with ``k`` neighbours keeps ``1 / (1 + reach k)`` and gives each ``reach / (1 + reach k)``
        (no mass falls off the map's edge)."""
        if self.reach == 0:
            return events
        own = events * self._own_share(s)[:, None]
        return own + self.reach * (neighbourhood_sum(s, own) - own)

    def _first_new(self, tab: CaseTable) -> int:
        """The first row that may have emerged since this stage last ran (a case enters the table
        on the day it emerges; ids are given in row order and a compaction keeps it), and the
        table's next id noted for tomorrow."""
        first = int(np.searchsorted(tab["case_id"], self._next_id))
        self._next_id = tab.next_id
        return first

    def __call__(self, s: CityState) -> None:
        tab, n_cat = s.cases, s.categories.n
        if self.on and self.reach != 0:
            # the usual day in two compiled passes over kept buffers (no fresh grid × category
            # arrays a day): today's new rows tallied into ``_new``, then the excitation, the
            # steps since yesterday and the buffers' reset in one pass (see _excite_day)
            if self._new is None:
                self._new = np.zeros((s.layout.n_grids, n_cat), dtype=np.int64)
                self._own = np.empty((s.layout.n_grids, n_cat))
                self._hit = np.empty(s.layout.n_grids, dtype=np.bool_)
                self._near = np.zeros(s.layout.n_grids, dtype=np.uint16)
                self._src_start, self._src_pos = neighbour_of(map_neighbours(s.layout))
            s.today["collective_new"] = _tally_today(tab["t_emerge"], tab["severity0"], tab["t_severity2"],
                                                     tab["grid"], tab["category"], float(s.clock.t0),
                                                     float(s.clock.t1), self._new, self._first_new(tab))
            _excite_day(self.excitation, self._new, self.escalation.steps_by_grid_category, self._steps_seen,
                        self.magnitude, self.escalation_magnitude, self.q, self._own_share(s), self.reach,
                        map_neighbours(s.layout), self._src_start, self._src_pos, self._own, self._hit, self._near)
            return
        # one compiled pass: today's new rows per grid and category (rows that emerged today; none
        # has closed out yet) and the cases that reached severity 2 today or emerged at 2 or more
        new = np.zeros((s.layout.n_grids, n_cat), dtype=np.int64)
        s.today["collective_new"] = _tally_today(tab["t_emerge"], tab["severity0"], tab["t_severity2"],
                                                 tab["grid"], tab["category"], float(s.clock.t0),
                                                 float(s.clock.t1), new, self._first_new(tab))
        steps_now = self.escalation.steps_by_grid_category
        steps, self._steps_seen = steps_now - self._steps_seen, steps_now.copy()
        if not self.on:
            return
        # reach 0: no neighbours to spread to
        events = self.magnitude * new + self.escalation_magnitude * steps
        self.excitation *= self.q
        self.excitation += (1.0 - self.q) * self.kernel(s, events.astype(np.float64))


@njit(cache=True)
def _tally_today(t_emerge, severity0, t_severity2, grid, category, t0, t1, new, first):  # pragma: no cover - compiled
    # new[grid, category] += 1 for rows with t_emerge >= t0; returns the count of rows that emerged
    # today at severity >= 2 or reached severity 2 in [t0, t1). Rows that emerged today are among
    # the rows from ``first`` on (appended since the stage last ran: a case enters the table on
    # the day it emerges); only the reach to 2 needs the whole table, one branch-free count over
    # one column (at 5x a backlog of ~1.3 million rows: three columns read for each before).
    n_sev2 = 0
    for i in range(t_severity2.size):
        x = t_severity2[i]
        n_sev2 += (x >= t0) & (x < t1)
    for i in range(first, t_emerge.size):
        if t_emerge[i] >= t0:
            new[grid[i], category[i]] += 1
            x = t_severity2[i]
            if severity0[i] >= 2 and not (x >= t0 and x < t1):  # not counted above
                n_sev2 += 1
    return n_sev2


def _excite(exc: np.ndarray, new: np.ndarray, steps: np.ndarray, m: float, m_esc: float, q: float,
            share: np.ndarray, reach: float, nb: np.ndarray) -> None:
    """``E = q E + (1 − q) K * (m new + m_esc steps)`` in place (:func:`_excite_day` on fresh
    buffers, ``new`` and ``steps`` left as they are)."""
    _excite_day(exc, new.copy(), steps, np.zeros_like(steps), m, m_esc, q, share, reach, nb, *neighbour_of(nb),
                np.empty(exc.shape), np.empty(exc.shape[0], dtype=np.bool_), np.zeros(exc.shape[0], dtype=np.uint16))


def neighbour_of(nb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The map neighbourhoods ``nb`` ([grids, 9]) the other way round: grid ``h`` is cell ``p % 9``
    of grid ``p // 9``'s neighbourhood for each ``p`` in ``pos[start[h]:start[h + 1]]``."""
    flat = nb.ravel()
    pos = np.flatnonzero(flat >= 0)
    order = np.argsort(flat[pos], kind="stable")
    return np.searchsorted(flat[pos][order], np.arange(nb.shape[0] + 1)), pos[order]


@njit(cache=True)
def _excite_day(exc, new, steps_now, steps_seen, m, m_esc, q, share, reach, nb, src_start, src_pos, own,
                hit, near_bits):  # pragma: no cover - compiled
    # Contagion.__call__'s numpy formula, element by element in the same order, with the day's
    # steps (steps_now − steps_seen) taken here, steps_seen brought up to steps_now and the
    # tally ``new`` zeroed for tomorrow in the same pass (``own`` and ``hit``: kept buffers):
    #   own = (m new + m_esc steps) share;  K = own + reach (neighbourhood_sum(own) − own)
    #   exc = exc q + (1 − q) K
    # Where no grid of the neighbourhood has an event (own exactly +0.0 in all 9 cells) the sum
    # is +0.0 and K is +0.0: it is not computed.
    # Only what changes is written (the day's few events): ``own`` of the grids with an event
    # (the others' is never read), ``new`` where it is not 0 already, ``steps_seen`` where the
    # steps moved; the grid × category arrays stay clean in the cache (0.5 ms a day when written).
    n, k = exc.shape
    row = np.empty(k)
    for g in range(n):
        h = False
        for c in range(k):
            sn = steps_now[g, c]
            st = sn - steps_seen[g, c]
            if st != 0:
                steps_seen[g, c] = sn
            nw = new[g, c]
            if nw != 0:
                new[g, c] = 0
            v = (m * np.float64(nw) + m_esc * np.float64(st)) * share[g]
            row[c] = v
            if v != 0.0 or np.signbit(v):
                h = True
        hit[g] = h
        if h:
            for c in range(k):
                own[g, c] = row[c]
            for p in src_pos[src_start[g]:src_start[g + 1]]:  # g is cell p % 9 of grid p // 9's
                near_bits[p // 9] |= np.uint16(1 << (p % 9))
    w = 1.0 - q
    near = np.empty(9, np.int64)
    for g in range(n):
        # the neighbours with an event, in map order: the others' own is +0.0 in every
        # category, and adding +0.0 to the running sum (never -0.0: it starts at +0.0) leaves it
        # (marked in ``near_bits`` by the grids with an event: no look at the 9 cells of every
        # grid; the bits are cleared as read, for tomorrow)
        bits = near_bits[g]
        m_near = 0
        if bits:
            near_bits[g] = 0
            for j in range(9):
                if (bits >> j) & 1:
                    near[m_near] = nb[g, j]
                    m_near += 1
        mine = hit[g]  # a grid without an event: its own is +0.0 (not written today)
        for c in range(k):
            kc = 0.0
            if m_near:
                total = 0.0
                for j in range(m_near):
                    total += own[near[j], c]
                og = own[g, c] if mine else 0.0
                kc = og + reach * (total - og)
            exc[g, c] = exc[g, c] * q + w * kc
