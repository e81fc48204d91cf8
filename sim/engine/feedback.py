"""Feedback stages: escalation hazard, trust, and closing cases out of the table.

Trust rises with fast, fair resolution and falls with delay, failure and neighbours' bad
experiences; trust in turn drives reporting (detection) and the escalation hazard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from .cases import CLOSED_STAGES, Stage

if TYPE_CHECKING:
    from ..model import CityModel

TRUST_SHIFT_RELAX_DAYS = 90.0  # how long a grid remembers its neighbours' experiences


def neighbourhood_sum(m: CityModel, per_grid: np.ndarray) -> np.ndarray:
    """Sum of a per-grid quantity over each grid's 3x3 neighbourhood on the map."""
    lay = m.layout
    a = np.zeros((lay.rows + 2, lay.cols + 2))  # the map with a border of zeros
    a[1 + lay.cell_of_grid // lay.cols, 1 + lay.cell_of_grid % lay.cols] = per_grid
    s = sum(a[1 + dr: 1 + dr + lay.rows, 1 + dc: 1 + dc + lay.cols] for dr in (-1, 0, 1) for dc in (-1, 0, 1))
    return s.ravel()[lay.cell_of_grid]


def escalation_hazard(m: CityModel) -> None:
    """Today's escalation hazard per open case: base × waiting × (tension, distrust) × neighbours."""
    tab, w = m.cases, m.world
    n = len(tab)
    if n == 0:
        return
    g = tab["grid"]
    open_per_grid = np.bincount(g, minlength=m.layout.n_grids).astype(np.float64)
    near_open = neighbourhood_sum(m, open_per_grid)
    near_res = getattr(m, "_near_residents", None)  # the map does not change: computed once
    if near_res is None:
        near_res = m._near_residents = neighbourhood_sum(m, m.layout.residents_per_grid.astype(np.float64))
    m.open_nearby_per_1000 = near_open / np.maximum(near_res, 1.0) * 1000.0
    # Compiled passes with numpy's arithmetic, in numpy's dtypes and order (tension is float32,
    # as in ResidentTable.tension_at); the float32 exp stays numpy's own.
    r = m.residents
    x, tension, trust = _gather_residents(tab["resident_a"], r.tension_t, r.tension, r.trust,
                                          np.float32(m.t0), np.float32(r.relax_hours))
    _hazard(tab["hazard"], g, tab["t_emerge"], np.exp(x), tension, trust, r.trust_shift,
            m.open_nearby_per_1000, float(m.t0), float(w["escalation_hazard_per_hour"]),
            float(w["escalation_growth_per_day"]), np.float32(w["escalation_tension_weight"]),
            float(w["escalation_distrust_weight"]), float(w["escalation_neighbour_weight"]))


@njit(cache=True)
def _gather_residents(res, tension_t, tension, trust, now, relax):  # pragma: no cover - compiled
    """For residents ``res``: ``-max(now - tension_t, 0) / relax`` in float32 (the exponent of
    tension decay), their tension and their own trust (one pass over the resident records)."""
    n = res.shape[0]
    x = np.empty(n, np.float32)
    ten = np.empty(n, np.float32)
    tru = np.empty(n, np.float32)
    zero = np.float32(0.0)
    for k in range(n):
        i = res[k]
        dt = now - tension_t[i]
        if not dt >= zero:
            dt = zero
        x[k] = -dt / relax
        ten[k] = tension[i]
        tru[k] = trust[i]
    return x, ten, tru


@njit(cache=True)
def _hazard(out, g, t_emerge, decay, tension, trust, shift, per_1000, t0, base, growth, w_tension,
            w_distrust, w_neighbour):  # pragma: no cover - compiled
    """base × (1 + growth × days waited) × personal × (1 + w × open cases nearby per 1,000)."""
    one32 = np.float32(1.0)
    for k in range(out.shape[0]):
        waited_days = t0 - t_emerge[k]
        if not waited_days >= 0.0:
            waited_days = 0.0
        waited_days = waited_days / 24.0
        tension_now = tension[k] * decay[k]  # float32
        trust_now = np.float64(trust[k]) + shift[g[k]]
        trust_now = min(max(trust_now, 0.0), 1.0)
        personal = np.float64(one32 + w_tension * tension_now) + w_distrust * (1.0 - trust_now)
        out[k] = (base * (1.0 + growth * waited_days)) * personal * (1.0 + w_neighbour * per_1000[g[k]])


def trust_feedback(m: CityModel) -> None:
    """Trust moves with today's outcomes: of those involved, and more weakly of their neighbours.

    A grid-level shift carries the neighbours' part and fades; disclosure amplifies good news."""
    tab, w, lev = m.cases, m.world, m.levers
    rate, nb = w["trust_sensitivity"], w["trust_neighbour_weight"]
    m.residents.trust_shift *= np.exp(-1.0 / TRUST_SHIFT_RELAX_DAYS)
    resolved = np.flatnonzero((tab["stage"] == Stage.RESOLVED) | (tab["stage"] == Stage.FAILED))
    if resolved.size:
        hours = tab["t_close"][resolved] - tab["t_detect"][resolved]
        fair = w["trust_fair_hours"]
        sat = np.where(hours <= fair, 1.0, fair / np.maximum(hours, fair))
        sat = np.where(tab["stage"][resolved] == Stage.FAILED, 0.0, sat)
        sat = np.where(tab["severity"][resolved] >= 2, sat * 0.5, sat)
        _move(m, resolved, sat, rate)
        news = sat - 0.5
        news = np.where(news > 0, news * (0.5 + lev.information_disclosure), news)
        weight = np.log1p(tab["n_involved"][resolved])
        np.add.at(m.residents.trust_shift, tab["grid"][resolved], nb * news * weight)
    if m.failures_today:
        failed = np.concatenate(m.failures_today)
        failed = failed[tab["stage"][failed] != Stage.FAILED]  # already counted above
        _move(m, failed, np.zeros(failed.size), 0.5 * rate)
        np.add.at(m.residents.trust_shift, tab["grid"][failed], -0.5 * nb)
    np.clip(m.residents.trust_shift, -0.5, 0.5, out=m.residents.trust_shift)


def _move(m: CityModel, idx: np.ndarray, target: np.ndarray, rate: float) -> None:
    tab = m.cases
    a, b = tab["resident_a"][idx], tab["resident_b"][idx]
    both = b >= 0
    people = np.concatenate([a, b[both]])
    targets = np.concatenate([target, target[both]])
    m.residents.move_trust(people, targets, rate)


def close_cases(m: CityModel) -> None:
    """Hand closed cases to the KPI accumulator and the case sink, then drop them."""
    tab = m.cases
    stage = tab["stage"]
    closed = np.flatnonzero(stage >= min(CLOSED_STAGES))  # closed stages are the highest codes
    m.today["resolved"] = int(np.count_nonzero(stage[closed] == Stage.RESOLVED))
    if closed.size == 0:
        return
    records = tab.take(closed)
    m.kpi.add_closed(records, m.categories.department)
    if m.case_sink is not None:
        m.case_sink.write(records)
    tab.drop(closed)
