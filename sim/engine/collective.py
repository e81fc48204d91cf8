"""Collective action: collective incidents (群体性事件) that emerge when enough aggrieved
neighbours act together — Granovetter's threshold model (docs/ODD.md §7.17).

Each day, in every community and category, the *aggrieved* are the parties of the open cases not
yet part of a collective action, plus a memory of the parties of that category's grievances that
left unresolved (faded, lapsed or decided against), which fades with
``world.tension_relaxation_days``. Each aggrieved resident has a threshold — how many others must
already act before they join — drawn afresh each day from a normal distribution (mean
``world.collective_threshold_mean``, reduced by an active shock's ``collective_boost`` in the grids
it hits; SD ``world.collective_threshold_sd``). The cascade starts with those whose threshold is
≤ 0 and adds everyone whose threshold is reached, until no one else joins. The thresholds of the
``n`` aggrieved are never drawn one by one: the number at or below each new level is drawn
exactly as a binomial of those still out (the empirical CDF sampled at increasing points). A
cascade that reaches ``world.collective_min_participants`` is a collective incident: a new case of
severity 2 in the grid of the community's largest open grievance of that category, with the
participants as its residents involved (``collective`` = 1); the open cases whose parties joined are
marked (``collective`` = 2) and, with the community's memory of that category, no longer count as
aggrieved. With ``world.collective_action = false`` the stage does nothing and a share of cases is
drawn collective at emergence instead (the earlier model).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy import special

from .cases import CaseTable, Stage
from .emergence import Emergence, draw_case_clocks
from .split import in_parts, row_parts
from .state import CityState
from .streams import Stream


def cascade(n: np.ndarray, mean: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Residents who end up acting among ``n`` aggrieved with iid normal thresholds (mean, sd):
    Granovetter's equilibrium, reached from the instigators (threshold ≤ 0)."""
    n = np.asarray(n, dtype=np.int64)
    if n.size and np.ndim(mean) == 1 and (mean == mean[0]).all() and isinstance(rng.bit_generator, np.random.PCG64):
        # one threshold distribution for all (no shock's boost): the levels are whole numbers up
        # to max(n), so the cdf is a table (the same ndtr of the same numbers), and the rounds
        # run compiled with numba's port of numpy's binomial on the Generator itself
        table = special.ndtr((np.arange(int(n.max()) + 1, dtype=np.float64) - mean[0]) / sd)
        return _cascade_rounds(n, table, rng)

    def cdf(r: np.ndarray) -> np.ndarray:
        return special.ndtr((r - mean) / sd)

    level = np.zeros(n.size)
    f_level = cdf(level)
    acted = rng.binomial(n, f_level)
    while True:
        grow = acted > level
        if not grow.any():
            return acted
        new_level = acted[grow].astype(np.float64)
        f_new = cdf(new_level) if np.ndim(mean) == 0 else special.ndtr((new_level - mean[grow]) / sd)
        p = np.clip((f_new - f_level[grow]) / np.maximum(1.0 - f_level[grow], 1e-300), 0.0, 1.0)
        acted[grow] += rng.binomial(n[grow] - acted[grow], p)
        level[grow], f_level[grow] = new_level, f_new


class CollectiveAction:
    """Stage ``collective`` (after emergence) and stage ``grievance_memory`` (before ``close``).
    Keeps the aggrieved parties of unresolved exits per community and category."""

    def __init__(self, s: CityState, emergence: Emergence) -> None:
        self.on = bool(s.world["collective_action"])
        self.emergence = emergence
        self.memory = np.zeros((s.layout.n_communities, s.categories.n))
        self.fade = float(np.exp(-1.0 / s.world["tension_relaxation_days"]))
        self._chain = np.empty(0, dtype=np.int32)  # per row: the previous free row of its key
        # per community and category, kept (reset by _tally_free): fresh arrays a day cost their
        # pages' first touch
        size = s.layout.n_communities * s.categories.n
        self._aggrieved, self._best = np.empty(size), np.empty(size, dtype=np.int64)
        self._best_n, self._last = np.empty(size, dtype=np.int64), np.empty(size, dtype=np.int32)
        self._more: list[tuple[np.ndarray, ...]] = []  # the same four per further part (_tally)
        self._rng = np.random.Generator(np.random.PCG64())  # reseeded each day (Streams.reseed)

    def _tally(self, tab: CaseTable, community_of: np.ndarray, n_cat: int, chain: np.ndarray) -> list[np.ndarray]:
        """:func:`_tally_free` into the kept per-key arrays, a large table in a part per thread
        (sim/engine/split.py), each with per-key arrays of its own, merged into the first: the
        aggrieved are whole numbers (their float sums exact in any grouping), the best row is the
        earlier part's on a tie. Returns each part's ``last`` (its rows' chains end in the part)."""
        parts = row_parts(tab.n)
        while len(self._more) < len(parts) - 1:
            self._more.append(tuple(np.empty_like(a) for a in (self._aggrieved, self._best, self._best_n, self._last)))
        own = [(self._aggrieved, self._best, self._best_n, self._last), *self._more[: len(parts) - 1]]
        index = {lo: i for i, (lo, _hi) in enumerate(parts)}
        cols = (tab["collective"], tab["grid"], tab["category"], tab["n_involved"])

        def part(lo: int, hi: int) -> None:
            args = (*(c[lo:hi] for c in cols), community_of, n_cat, *own[index[lo]], chain[lo:hi], lo)
            _tally_free(*args)

        in_parts(part, parts)
        agg, best, best_n, _ = own[0]
        for agg_i, best_i, best_n_i, _ in own[1:]:
            agg += agg_i
            take = (best_i >= 0) & ((best < 0) | (best_n_i > best_n))
            best[take], best_n[take] = best_i[take], best_n_i[take]
        return [o[3] for o in own]

    def remember(self, s: CityState) -> None:
        """Stage ``grievance_memory``: parties of today's unresolved exits (faded, lapsed, decided
        against) not yet mobilised join their community's memory; the memory fades."""
        if not self.on:
            return
        self.memory *= self.fade
        tab = s.cases
        # the day's closed rows, listed once for this stage, ``stories`` and ``close``: the same
        # rows in the same order as a pass over the table (the memory's additions unchanged)
        _remember(tab.closed_rows(s.clock.t1), tab["stage"], tab["collective"], tab["grid"], tab["category"],
                  tab["n_involved"], s.layout.community_of, self.memory, int(Stage.FADED), int(Stage.LAPSED),
                  int(Stage.UNRESOLVED))

    def __call__(self, s: CityState) -> None:
        """Stage ``collective``: threshold cascades among each community's aggrieved; new
        collective incidents and the cases whose parties joined them."""
        s.today["mobilisations"] = 0
        if not self.on or len(s.cases) == 0:
            return
        w, tab, lay, n_cat = s.world, s.cases, s.layout, s.categories.n
        # one compiled pass over the rows not yet mobilised (every row is open at this stage):
        # their parties per community and category, how many, and the largest grievance of each
        # (best: -1 where no open case of that community and category)
        # the same pass links the rows of each community and category (``last``, then ``chain``),
        # so that marking the rows of those that act visits only them, not the whole table
        aggrieved, best = self._aggrieved, self._best
        if self._chain.size < tab.n:
            self._chain = np.empty(tab.n + tab.n // 4, dtype=np.int32)  # kept: no fresh pages a day
        chain = self._chain[: tab.n]
        lasts = self._tally(tab, lay.community_of, n_cat, chain)
        aggrieved += self.memory.ravel()
        cand = np.flatnonzero((best >= 0) & (aggrieved >= w["collective_min_participants"]))
        if cand.size == 0:
            return
        trigger = best[cand]  # the trigger of each candidate: its largest open grievance (first row on ties)
        boost = self.emergence.shock_collective_boost(s, tab["grid"][trigger], tab["category"][trigger])
        mean = w["collective_threshold_mean"] * (1.0 - np.minimum(boost, 1.0))
        rng = s.streams.reseed(self._rng, Stream.COLLECTIVE, s.clock.day)  # get()'s numbers
        acted = cascade(np.floor(aggrieved[cand]).astype(np.int64), mean, w["collective_threshold_sd"], rng)
        fired = acted >= w["collective_min_participants"]
        if not fired.any():
            return
        keys, trig, n = cand[fired], trigger[fired], int(fired.sum())
        for last in lasts:
            _mark_joined(tab["collective"], last, chain, keys)
        self.memory.ravel()[keys] = 0.0
        t = np.maximum(s.clock.t0 + 24.0 * rng.random(n), tab["t_emerge"][trig])
        new = {k: tab[k][trig].copy() for k in ("category", "grid", "resident_a", "resident_b")}
        sl = tab.append(n)
        for k, v in new.items():
            tab[k][sl] = v
        tab["n_involved"][sl] = acted[fired]
        tab["severity0"][sl] = 2
        tab["severity"][sl] = 2
        tab["t_emerge"][sl] = t
        tab["collective"][sl] = 1
        draw_case_clocks(s, sl, n, (2,))
        s.residents.add_tension(new["resident_a"], w["tension_per_case"], s.clock.t0)
        s.today["mobilisations"] = n


@njit(cache=True, nogil=True)
def _tally_free(collective, grid, category, n_involved, community_of, n_cat, aggrieved, best,
                best_n, last, chain, offset):  # pragma: no cover - compiled
    # For the rows with collective == 0, by key = community × n_cat + category, in row order:
    # aggrieved[key] += n_involved (np.bincount's weighted sum, same additions in the same order)
    # and best[key] = the first row with the largest n_involved (best_n[key] its n_involved);
    # the rows of a key are linked from the last: last[key], chain[last[key]], ... -1.
    # The per-key arrays are reset first (aggrieved 0, best -1, best_n 0, last -1). The rows are
    # rows ``offset`` on of the table: ``best``, ``last`` and ``chain`` hold the table's rows.
    for key in range(aggrieved.shape[0]):
        aggrieved[key] = 0.0
        best[key] = -1
        best_n[key] = 0
        last[key] = -1
    for i in range(collective.size):
        if collective[i] == 0:
            key = np.int64(community_of[grid[i]]) * n_cat + category[i]
            n = n_involved[i]
            aggrieved[key] += np.float64(n)
            if best[key] < 0 or n > best_n[key]:
                best[key] = i + offset
                best_n[key] = n
            chain[i] = last[key]
            last[key] = i + offset


@njit(cache=True)
def _mark_joined(collective, last, chain, keys):  # pragma: no cover - compiled
    # the rows not yet mobilised (linked by _tally_free) of the communities and categories
    # ``keys`` that joined a collective action
    for key in keys:
        i = last[key]
        while i >= 0:
            collective[i] = 2
            i = chain[i]


@njit(cache=True)
def _remember(rows, stage, collective, grid, category, n_involved, community_of, memory, faded, lapsed,
              unresolved):  # pragma: no cover - compiled
    # np.add.at(memory, (community, category), n_involved) over the rows that left unresolved
    # (faded, lapsed, decided against) and were not mobilised, in row order (``rows``: the
    # closed rows, ascending)
    for i in rows:
        st = stage[i]
        if (st == faded or st == lapsed or st == unresolved) and collective[i] == 0:
            memory[community_of[grid[i]], category[i]] += np.float64(n_involved[i])


@njit(cache=True)
def _cascade_rounds(n, table, rng):  # pragma: no cover - compiled
    # cascade()'s rounds with the cdf at level L read as table[L]: the instigators
    # binomial(n, F(0)), then each round, for every candidate (in order) whose count grew past
    # its level, binomial(n − acted, clip((F(new) − F(level)) / max(1 − F(level), 1e-300), 0, 1));
    # stop after a round in which none grew
    k = n.shape[0]
    level = np.zeros(k, np.int64)
    f_level = np.empty(k)
    acted = np.empty(k, np.int64)
    for i in range(k):
        f_level[i] = table[0]
        acted[i] = rng.binomial(n[i], f_level[i])
    while True:
        grew = False
        for i in range(k):
            if acted[i] > level[i]:
                grew = True
                new_level = acted[i]
                f_new = table[new_level]
                q = max(1.0 - f_level[i], 1e-300)
                p = (f_new - f_level[i]) / q
                p = min(max(p, 0.0), 1.0)
                acted[i] += rng.binomial(n[i] - acted[i], p)
                level[i] = new_level
                f_level[i] = f_new
        if not grew:
            return acted
