"""Channel choice: what residents do with a grievance they hold (a multinomial logit).

When a resident's own clock rings on a latent case (detection's fifth clock, at
``propensity × (1 − proactive_only) / world.report_delay_hours``), the resident (for a pair or a
group, resident ``a`` speaks for them) chooses one of :data:`OPTIONS` with the probabilities of a
multinomial logit (McFadden's conditional logit):

    U_j = asc_j + severity_coef_j × severity − time_weight × days_j − cost_weight × cost_j
          + [j city]    × (trust_weight × trust + responsiveness_weight × R_grid)
          + [j protest] × (distrust_weight × (1 − trust) + tension_weight × tension)
    P_j = exp(U_j) / Σ_k exp(U_k)

City channels are grid worker, hotline, mediation and court; protest channels are petition and
going public. ``trust`` is the resident's effective trust (own experience plus the grid's
news), ``R_grid`` the grid's perceived responsiveness: a memory of the satisfaction (speed and
success, as in trust feedback) of the grid's recent city-handled outcomes (:meth:`perceive`).

The choice maps onto the pipeline: grid worker and hotline go through the router's triage (a
grid worker may fix a minor case on the spot); mediation walks in at community mediation (or,
for a category whose route does not go to mediators, is triaged); court walks in at the court.
Negotiation settles with ``negotiation_success`` (exit SETTLED); a failed negotiation leads to
a second choice among the other options. Lumping leaves the case latent — the city may still
find it — with the resident's clock off; if it fades first it exits LUMPED and, like petitions
(exit PETITIONED) and going public (exit WENT_PUBLIC), keeps its tension and may come back.
Every uniform is drawn at emergence (``choice_u``, stream ``choice``), so a policy meets the
same residents with the same draws. Vectorised over cases: no per-case Python loop.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from .cases import CHANNELS, CITY_OPTIONS, OPTIONS, Stage
from .levels import Level
from .routing import Router
from .state import CityState

LUMP, NEGOTIATE, GRID, HOTLINE_OPT, MEDIATION, COURT, PETITION, PUBLIC = range(len(OPTIONS))
PROTEST_OPTIONS = (PETITION, PUBLIC)
_CITY = np.isin(np.arange(len(OPTIONS)), CITY_OPTIONS)
_PROTEST = np.isin(np.arange(len(OPTIONS)), PROTEST_OPTIONS)
# detection channel code of each option (−1: the option does not reach the city)
CHANNEL_OF_OPTION = np.array([-1, -1, CHANNELS.index("grid_report"), CHANNELS.index("hotline"),
                              CHANNELS.index("mediation"), CHANNELS.index("court"), -1, -1], dtype=np.int8)


def utilities(p: dict[str, Any], trust: np.ndarray, responsiveness: np.ndarray, tension: np.ndarray,
              severity: np.ndarray) -> np.ndarray:
    """Systematic utility of every option for each case, shape ``(n, len(OPTIONS))``."""
    base = (np.asarray(p["asc"]) - p["time_weight"] * np.asarray(p["days"])
            - p["cost_weight"] * np.asarray(p["cost"]))
    u = base[None, :] + np.asarray(p["severity_coef"])[None, :] * severity.astype(np.float64)[:, None]
    city = p["trust_weight"] * trust + p["responsiveness_weight"] * responsiveness
    protest = p["distrust_weight"] * (1.0 - trust) + p["tension_weight"] * tension
    return u + np.outer(city, _CITY) + np.outer(protest, _PROTEST)


def probabilities(util: np.ndarray, available: np.ndarray | None = None) -> np.ndarray:
    """Logit choice probabilities from utilities ``(n, k)``; ``available`` masks options out."""
    z = util - util.max(axis=1, keepdims=True)
    e = np.exp(z)
    if available is not None:
        e = e * available
    return e / e.sum(axis=1, keepdims=True)


def pick(prob: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the option each uniform ``u`` falls on (inverse CDF over the columns)."""
    cum = np.cumsum(prob, axis=1)
    return np.minimum((u[:, None] >= cum[:, :-1]).sum(axis=1), prob.shape[1] - 1)


class ChoiceModel:
    """Residents' channel choice and the grids' perceived responsiveness. Stage ``perception``
    (:meth:`perceive`) updates the memory; detection calls :meth:`act` when residents act."""

    def __init__(self, s: CityState, router: Router) -> None:
        self.params = s.choice
        self.router = router
        self.enabled = bool(self.params["enabled"])
        self.responsiveness = np.full(s.layout.n_grids, self.params["prior_responsiveness"])

    def act(self, s: CityState, rows: np.ndarray, t_act: np.ndarray) -> np.ndarray:
        """Residents of latent cases ``rows`` act at ``t_act``: choose, then go there. Returns the
        rows that reached the city (detected now)."""
        tab, p = s.cases, self.params
        g = tab["grid"][rows]
        res = tab["resident_a"][rows]
        util = utilities(p, s.residents.trust_of(res, g).astype(np.float64), self.responsiveness[g],
                         s.residents.tension_at(res, s.clock.t0).astype(np.float64), tab["severity"][rows])
        # A collective incident is a mobilised group: it has already acted together, so it
        # cannot lump its grievance or settle it by a private negotiation (§7.19).
        group = tab["collective"][rows] == 1
        mask = None
        if group.any():
            mask = np.ones((len(rows), len(OPTIONS)), dtype=bool)
            mask[group, LUMP] = False
            mask[group, NEGOTIATE] = False
        prob = probabilities(util, mask)
        cu = tab["choice_u"][rows]
        first = pick(prob, cu[:, 0])
        failed = (first == NEGOTIATE) & (cu[:, 1] >= p["negotiation_success"])
        others = np.ones(len(OPTIONS), dtype=bool)
        others[NEGOTIATE] = False
        second = pick(probabilities(util, others), cu[:, 2])
        final = np.where(failed, second, first)
        tried = (1 << first) | np.where(failed, 1 << second, 0)
        tab["channels_tried"][rows] |= tried.astype(np.uint8)
        tab["entry_channel"][rows] = final
        for option, stage in ((NEGOTIATE, Stage.SETTLED), (PETITION, Stage.PETITIONED), (PUBLIC, Stage.WENT_PUBLIC)):
            out = final == option
            tab["stage"][rows[out]] = stage
            tab["t_close"][rows[out]] = t_act[out]
        lump = rows[final == LUMP]
        tab["detect_left"][lump] = tab["choice_u"][lump, 3]  # a fresh budget for the city's own clocks
        city = np.isin(final, CITY_OPTIONS)
        ci, ch = rows[city], final[city]
        tab["t_detect"][ci] = t_act[city]
        tab["channel"][ci] = CHANNEL_OF_OPTION[ch]
        tab["stage"][ci] = Stage.REPORTING
        walk = ((ch == MEDIATION) & (self.router.entry_level(s, ci) <= Level.COMMUNITY)) | (ch == COURT)
        self.router.walk_in(s, ci[walk], np.where(ch[walk] == COURT, int(Level.COURT), int(Level.COMMUNITY)))
        self.router.triage(s, ci[~walk])
        return ci

    def perceive(self, s: CityState) -> None:
        """Stage ``perception``: each grid's perceived responsiveness moves towards the mean
        satisfaction of its city-handled outcomes closed today (resolved: by speed, as in trust
        feedback; lapsed or decided against: 0), with weight n / (n + memory_cases)."""
        tab, w = s.cases, s.world
        rows, failed = _city_outcomes(tab["stage"], int(Stage.RESOLVED), int(Stage.LAPSED), int(Stage.UNRESOLVED))
        if rows.size == 0:
            return
        hours = tab["t_close"][rows] - tab["t_detect"][rows]
        fair = w["trust_fair_hours"]
        sat = np.where(failed, 0.0, fair / np.maximum(hours, fair))
        g = tab["grid"][rows]
        n_grids = self.responsiveness.size
        n = np.bincount(g, minlength=n_grids)
        total = np.bincount(g, weights=sat, minlength=n_grids)
        hit = n > 0
        weight = n[hit] / (n[hit] + self.params["memory_cases"])
        r = self.responsiveness
        r[hit] += weight * (total[hit] / n[hit] - r[hit])



@njit(cache=True)
def _city_outcomes(stage, resolved, lapsed, unresolved):  # pragma: no cover - compiled
    # the rows resolved, lapsed or decided against (in order), and which of them failed
    n = 0
    for i in range(stage.size):
        st = stage[i]
        if st == resolved or st == lapsed or st == unresolved:
            n += 1
    rows = np.empty(n, dtype=np.int64)
    failed = np.empty(n, dtype=np.bool_)
    j = 0
    for i in range(stage.size):
        st = stage[i]
        if st == resolved or st == lapsed or st == unresolved:
            rows[j] = i
            failed[j] = st != resolved
            j += 1
    return rows, failed
