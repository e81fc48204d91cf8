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
from scipy import special

from .cases import Stage
from .emergence import Emergence, draw_case_clocks
from .state import CityState
from .streams import Stream


def cascade(n: np.ndarray, mean: np.ndarray, sd: float, rng: np.random.Generator) -> np.ndarray:
    """Residents who end up acting among ``n`` aggrieved with iid normal thresholds (mean, sd):
    Granovetter's equilibrium, reached from the instigators (threshold ≤ 0)."""
    n = np.asarray(n, dtype=np.int64)

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

    def remember(self, s: CityState) -> None:
        """Stage ``grievance_memory``: parties of today's unresolved exits (faded, lapsed, decided
        against) not yet mobilised join their community's memory; the memory fades."""
        if not self.on:
            return
        self.memory *= self.fade
        tab = s.cases
        st = tab["stage"]
        gone = ((st == Stage.FADED) | (st == Stage.LAPSED) | (st == Stage.UNRESOLVED)) & (tab["collective"] == 0)
        if gone.any():
            comm = s.layout.community_of[tab["grid"][gone]]
            np.add.at(self.memory, (comm, tab["category"][gone]), tab["n_involved"][gone])

    def __call__(self, s: CityState) -> None:
        """Stage ``collective``: threshold cascades among each community's aggrieved; new
        collective incidents and the cases whose parties joined them."""
        s.today["mobilisations"] = 0
        if not self.on or len(s.cases) == 0:
            return
        w, tab, lay, n_cat = s.world, s.cases, s.layout, s.categories.n
        free = np.flatnonzero(tab["collective"] == 0)  # every row is open at this stage
        key = lay.community_of[tab["grid"][free]].astype(np.int64) * n_cat + tab["category"][free]
        size = lay.n_communities * n_cat
        aggrieved = np.bincount(key, weights=tab["n_involved"][free], minlength=size) + self.memory.ravel()
        has_case = np.bincount(key, minlength=size) > 0
        cand = np.flatnonzero(has_case & (aggrieved >= w["collective_min_participants"]))
        if cand.size == 0:
            return
        # the trigger of each candidate: its largest open grievance (first row on ties)
        is_cand = np.zeros(size, dtype=bool)
        is_cand[cand] = True
        rows = free[is_cand[key]]
        k_rows = lay.community_of[tab["grid"][rows]].astype(np.int64) * n_cat + tab["category"][rows]
        order = np.lexsort((rows, -tab["n_involved"][rows], k_rows))
        _, first = np.unique(k_rows[order], return_index=True)
        trigger = rows[order[first]]  # aligned with cand (both sorted by key)
        boost = self.emergence.shock_collective_boost(s, tab["grid"][trigger], tab["category"][trigger])
        mean = w["collective_threshold_mean"] * (1.0 - np.minimum(boost, 1.0))
        rng = s.streams.get(Stream.COLLECTIVE, s.clock.day)
        acted = cascade(np.floor(aggrieved[cand]).astype(np.int64), mean, w["collective_threshold_sd"], rng)
        fired = acted >= w["collective_min_participants"]
        if not fired.any():
            return
        keys, trig, n = cand[fired], trigger[fired], int(fired.sum())
        joined = np.zeros(size, dtype=bool)
        joined[keys] = True
        tab["collective"][free[joined[key]]] = 2
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
