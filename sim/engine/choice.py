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
from .intrinsics import no_byte, repeat_byte
from .levels import Level
from .routing import Router
from .state import CityState

LUMP, NEGOTIATE, GRID, HOTLINE_OPT, MEDIATION, COURT, PETITION, PUBLIC = range(len(OPTIONS))
PROTEST_OPTIONS = (PETITION, PUBLIC)
_CITY = np.isin(np.arange(len(OPTIONS)), CITY_OPTIONS)
_PROTEST = np.isin(np.arange(len(OPTIONS)), PROTEST_OPTIONS)
_CITY_F, _PROTEST_F = _CITY.astype(np.float64), _PROTEST.astype(np.float64)  # as the kernel takes them
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
        base = (np.asarray(p["asc"]) - p["time_weight"] * np.asarray(p["days"])
                - p["cost_weight"] * np.asarray(p["cost"]))
        # utilities() and probabilities()' shifted utilities in one compiled pass; exp stays
        # numpy's; then both choices, their draws and the table's columns in another
        z = _shifted_utilities(
            np.asarray(base, dtype=np.float64), np.asarray(p["severity_coef"], dtype=np.float64),
            float(p["trust_weight"]), float(p["responsiveness_weight"]), float(p["distrust_weight"]),
            float(p["tension_weight"]), s.residents.trust_of(res, g).astype(np.float64), self.responsiveness, g,
            s.residents.tension_at(res, s.clock.t0).astype(np.float64), tab["severity"], rows, _CITY_F, _PROTEST_F)
        # A collective incident is a mobilised group: it has already acted together, so it
        # cannot lump its grievance or settle it by a private negotiation (§7.19).
        ci, ch = _choose(np.exp(z), rows, t_act, tab["collective"], tab["choice_u"],
                         np.float32(p["negotiation_success"]), tab["channels_tried"], tab["entry_channel"],
                         tab["stage"], tab["t_close"], tab["detect_left"], tab["t_detect"], tab["channel"],
                         CHANNEL_OF_OPTION, int(Stage.SETTLED), int(Stage.PETITIONED), int(Stage.WENT_PUBLIC),
                         int(Stage.REPORTING))
        # mediation (where the route goes to mediators) and court are walked in; the rest triaged
        wi, wl, ti = _walk_split(ci, ch, tab["category"], tab["severity"], s.categories.entry_level, MEDIATION,
                                 COURT, int(Level.COMMUNITY), int(Level.COURT))
        self.router.walk_in(s, wi, wl)
        self.router.triage(s, ti)
        return ci

    def perceive(self, s: CityState) -> None:
        """Stage ``perception``: each grid's perceived responsiveness moves towards the mean
        satisfaction of its city-handled outcomes closed today (resolved: by speed, as in trust
        feedback; lapsed or decided against: 0), with weight n / (n + memory_cases)."""
        tab = s.cases
        words, base = tab.words("stage")
        res, lap, unr = int(Stage.RESOLVED), int(Stage.LAPSED), int(Stage.UNRESOLVED)
        _perceive_words(tab["stage"], words, base, repeat_byte(res), repeat_byte(lap), repeat_byte(unr), tab["t_close"],
                        tab["t_detect"], tab["grid"], res, lap, unr, float(s.world["trust_fair_hours"]),
                        float(self.params["memory_cases"]), self.responsiveness)



@njit(cache=True)
def _shifted_utilities(base, sev_coef, trust_w, resp_w, distrust_w, tension_w, trust, resp, grid, tension,
                       severity, rows, city, protest):  # pragma: no cover - compiled
    # utilities(): u = base + sev_coef × severity, + outer(city terms, _CITY), + outer(protest
    # terms, _PROTEST), numpy's order; minus each row's max (probabilities())
    n, k = rows.shape[0], base.shape[0]
    z = np.empty((n, k))
    for i in range(n):
        sev = np.float64(severity[rows[i]])
        c = trust_w * trust[i] + resp_w * resp[grid[i]]
        pr = distrust_w * (1.0 - trust[i]) + tension_w * tension[i]
        top = -np.inf
        for j in range(k):
            u = ((base[j] + sev_coef[j] * sev) + c * city[j]) + pr * protest[j]
            z[i, j] = u
            if u > top:
                top = u
        for j in range(k):
            z[i, j] = z[i, j] - top
    return z


@njit(cache=True, inline="always")
def _masked(e, i, j, skip_a, skip_b):  # pragma: no cover - compiled
    # e × available for option j of row i (recomputed where needed: a scratch array per call
    # was a heap allocation per pick)
    return e[i, j] * (0.0 if (j == skip_a or j == skip_b) else 1.0)


@njit(cache=True)
def _pick_masked(e, i, skip_a, skip_b, u):  # pragma: no cover - compiled
    # pick(probabilities(util, available), u) for row i of e = exp(z), options skip_a and skip_b
    # masked out (-1: none): e × available, numpy's pairwise sum of the eight, cumsum, inverse CDF
    total = (((_masked(e, i, 0, skip_a, skip_b) + _masked(e, i, 1, skip_a, skip_b))
              + (_masked(e, i, 2, skip_a, skip_b) + _masked(e, i, 3, skip_a, skip_b)))
             + ((_masked(e, i, 4, skip_a, skip_b) + _masked(e, i, 5, skip_a, skip_b))
                + (_masked(e, i, 6, skip_a, skip_b) + _masked(e, i, 7, skip_a, skip_b))))
    cum = 0.0
    x = 0
    for j in range(7):
        cum += _masked(e, i, j, skip_a, skip_b) / total
        if not u >= cum:  # cum never falls (shares >= 0; NaN stays NaN): no later one counts
            break
        x += 1
    return x


@njit(cache=True)
def _choose(e, rows, t_act, collective, choice_u, neg_success, channels_tried, entry_channel, stage, t_close,
            detect_left, t_detect, channel, channel_of, settled, petitioned, public,
            reporting):  # pragma: no cover - compiled
    # ChoiceModel.act's numpy code after the utilities: first choice (groups cannot lump or
    # negotiate), a failed negotiation's second choice among the others, the columns written;
    # returns the rows that reached the city and their options
    n = rows.shape[0]
    city_rows = np.empty(n, np.int64)
    city_opt = np.empty(n, np.int64)
    m = 0
    for i in range(n):
        r = rows[i]
        group = collective[r] == 1
        first = _pick_masked(e, i, LUMP if group else -1, NEGOTIATE if group else -1, np.float64(choice_u[r, 0]))
        failed = first == NEGOTIATE and choice_u[r, 1] >= neg_success  # float32, as numpy compares them
        final = first
        tried = 1 << first
        if failed:  # the second choice only where it counts (numpy drew it for every row: no draw here)
            final = _pick_masked(e, i, NEGOTIATE, -1, np.float64(choice_u[r, 2]))
            tried |= 1 << final
        channels_tried[r] |= np.uint8(tried)
        entry_channel[r] = final
        if final == NEGOTIATE or final == PETITION or final == PUBLIC:
            stage[r] = settled if final == NEGOTIATE else (petitioned if final == PETITION else public)
            t_close[r] = t_act[i]
        elif final == LUMP:  # lumped: a fresh budget for the city's own clocks
            detect_left[r] = choice_u[r, 3]
        else:  # the city's channels
            t_detect[r] = t_act[i]
            channel[r] = channel_of[final]
            stage[r] = reporting
            city_rows[m] = r
            city_opt[m] = final
            m += 1
    return city_rows[:m].copy(), city_opt[:m].copy()


@njit(cache=True)
def _walk_split(ci, ch, category, severity, entry_level, mediation, court, community,
                court_level):  # pragma: no cover - compiled
    # ChoiceModel.act's split of the rows that reached the city: mediation where the route's
    # entry level is at most the community's, and court, walked in (at the community or the
    # court); the rest triaged, each in the order of ci
    n = ci.shape[0]
    wi = np.empty(n, np.int64)
    wl = np.empty(n, np.int64)
    ti = np.empty(n, np.int64)
    nw = 0
    nt = 0
    for k in range(n):
        r = ci[k]
        if (ch[k] == mediation and entry_level[category[r], severity[r]] <= community) or ch[k] == court:
            wi[nw] = r
            wl[nw] = court_level if ch[k] == court else community
            nw += 1
        else:
            ti[nt] = r
            nt += 1
    return wi[:nw], wl[:nw], ti[:nt]


def _perceive(stage: np.ndarray, t_close: np.ndarray, t_detect: np.ndarray, grid: np.ndarray, resolved: int,
              lapsed: int, unresolved: int, fair: float, memory: float, r: np.ndarray) -> None:
    """:func:`_perceive_words` over a plain stage column (its bytes copied into whole words)."""
    words = np.zeros(max(-(-stage.size // 8), 1), np.uint64)
    words.view(np.int8)[: stage.size] = stage
    _perceive_words(stage, words, 0, repeat_byte(resolved), repeat_byte(lapsed), repeat_byte(unresolved), t_close,
                    t_detect, grid, resolved, lapsed, unresolved, fair, memory, r)


@njit(cache=True)
def _perceive_words(stage, words, base, r_res, r_lap, r_unr, t_close, t_detect, grid, resolved, lapsed, unresolved, fair, memory,
              r):  # pragma: no cover - compiled
    # ChoiceModel.perceive's numpy code in one pass: the satisfaction of each city-handled
    # outcome (resolved: fair / max(hours, fair), np.maximum's NaN kept; failed: 0), its grid's
    # count and sum in row order (np.bincount's), then each grid with outcomes moves by
    # n / (n + memory) towards their mean. The outcomes are the rows closed today (a 5x backlog
    # of a million open rows holds a few thousand): eight rows at a time are passed over when
    # their stage bytes (``words``: the column's buffer, row 0 at byte ``base``) hold none of the
    # three stages (intrinsics.no_byte with their bytes repeated: ``r_res``, ...; the rows are
    # still taken in order).
    n_grids = r.shape[0]
    n = np.zeros(n_grids, np.int64)
    total = np.zeros(n_grids)
    i = 0
    m = stage.shape[0]
    while i < m:
        if ((base + i) & 7) == 0 and i + 8 <= m and no_byte(words, base + i, r_res) and no_byte(
                words, base + i, r_lap) and no_byte(words, base + i, r_unr):
            i += 8
            continue
        st = stage[i]
        if st == resolved or st == lapsed or st == unresolved:
            if st == resolved:
                hours = t_close[i] - t_detect[i]
                sat = fair / (hours if (hours >= fair or hours != hours) else fair)
            else:
                sat = 0.0
            g = grid[i]
            n[g] += 1
            total[g] += sat
        i += 1
    for g in range(n_grids):
        if n[g] > 0:
            k = np.float64(n[g])
            r[g] += k / (k + memory) * (total[g] / k - r[g])
