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

from .escalation import Escalation, neighbourhood_sum
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

    @property
    def background(self) -> float:
        """Share of the scenario's rates that arrives as background (the rest is triggered)."""
        return 1.0 - self.magnitude

    def split(self, rate: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Today's expected background and triggered new cases, from the scenario's ``rate``
        [grids, categories]. On the first day the excitation starts at its stationary value for
        new-case contagion (``magnitude × rate``), so a run does not open with a dip while the
        excitation builds up."""
        if not self._primed:
            self.excitation += self.magnitude * rate
            self._primed = True
        return rate * self.background, self.excitation

    def kernel(self, s: CityState, events: np.ndarray) -> np.ndarray:
        """Spread ``events`` ([grids, categories]) over each grid and its map neighbours: a source
        grid with ``k`` neighbours keeps ``1 / (1 + reach k)`` and gives each ``reach / (1 + reach k)``
        (no mass falls off the map's edge)."""
        if self.reach == 0:
            return events
        if self._share is None:  # the map does not change: each grid's own share, once
            k = neighbourhood_sum(s, np.ones(s.layout.n_grids)) - 1.0
            self._share = 1.0 / (1.0 + self.reach * k)
        own = events * self._share[:, None]
        return own + self.reach * (neighbourhood_sum(s, own) - own)

    def __call__(self, s: CityState) -> None:
        tab, n_cat = s.cases, s.categories.n
        today = tab["t_emerge"] >= s.clock.t0  # rows that emerged today (none has closed out yet)
        sev2 = (today & (tab["severity0"] >= 2)) | ((tab["t_severity2"] >= s.clock.t0) & (tab["t_severity2"] < s.clock.t1))
        s.today["collective_new"] = int(np.count_nonzero(sev2))
        steps_now = self.escalation.steps_by_grid_category
        steps, self._steps_seen = steps_now - self._steps_seen, steps_now.copy()
        if not self.on:
            return
        key = tab["grid"][today].astype(np.int64) * n_cat + tab["category"][today]
        new = np.bincount(key, minlength=s.layout.n_grids * n_cat).reshape(-1, n_cat)
        events = self.magnitude * new + self.escalation_magnitude * steps
        self.excitation *= self.q
        self.excitation += (1.0 - self.q) * self.kernel(s, events.astype(np.float64))
