"""Feedback stages: escalation hazard, trust, and closing cases out of the table.

Trust rises with fast, fair resolution and falls with delay, failure and neighbours' bad
experiences; trust in turn drives reporting (detection) and the escalation hazard.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .cases import CLOSED_STAGES, Stage

if TYPE_CHECKING:
    from .model import CityModel

TRUST_SHIFT_RELAX_DAYS = 90.0  # how long a grid remembers its neighbours' experiences


def neighbourhood_sum(m: CityModel, per_grid: np.ndarray) -> np.ndarray:
    """Sum of a per-grid quantity over each grid's 3x3 neighbourhood on the map."""
    lay = m.layout
    cells = np.zeros(lay.rows * lay.cols)
    cells[lay.cell_of_grid] = per_grid
    a = np.pad(cells.reshape(lay.rows, lay.cols), 1)
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
    near_res = neighbourhood_sum(m, m.layout.residents_per_grid.astype(np.float64))
    per_1000 = (near_open / np.maximum(near_res, 1.0) * 1000.0)[g]
    m.open_nearby_per_1000 = near_open / np.maximum(near_res, 1.0) * 1000.0
    waited_days = np.maximum(m.t0 - tab["t_emerge"], 0.0) / 24.0
    res = tab["resident_a"]
    personal = (1.0 + w["escalation_tension_weight"] * m.residents.tension_at(res, m.t0)
                + w["escalation_distrust_weight"] * (1.0 - m.residents.trust_of(res, g)))
    tab["hazard"][:] = (w["escalation_hazard_per_hour"] * (1.0 + w["escalation_growth_per_day"] * waited_days)
                        * personal * (1.0 + w["escalation_neighbour_weight"] * per_1000))


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
