"""Trust feedback: residents' trust in government moves with today's outcomes.

Trust rises with fast, fair resolution and falls with delay and failure — for the residents
involved, and more weakly for their grid through a neighbour shift that fades over about
:data:`TRUST_SHIFT_RELAX_DAYS`; information disclosure amplifies the good news. A case that left
unresolved (lapsed, decided against its parties, petitioned or taken public) counts as a failure,
and its residents keep the grievance: their tension rises again; a grievance its residents lumped
moves no trust but keeps its tension. Trust in turn drives reporting (detection) and the
escalation hazard.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .cases import Stage
from .state import CityState

TRUST_SHIFT_RELAX_DAYS = 90.0  # how long a grid remembers its neighbours' experiences
UNRESOLVED = (Stage.UNRESOLVED, Stage.LAPSED, Stage.PETITIONED, Stage.WENT_PUBLIC)  # failures, closed today
_IS_UNRESOLVED = np.isin(np.arange(256), UNRESOLVED)  # by stage code: a lookup, not np.isin daily
_IS_CLOSED = np.isin(np.arange(256), (Stage.RESOLVED, *UNRESOLVED))  # closed today: trust moves
_IS_KEPT = np.isin(np.arange(256), (*UNRESOLVED, Stage.LUMPED))  # the grievance stays with its residents


def trust_feedback(s: CityState) -> None:
    """Stage ``trust``. Reads cases closed today and ``failures_today``, world, levers; writes
    residents' own trust and the grids' trust shift."""
    tab, w, lev, res = s.cases, s.world, s.levers, s.residents
    rate, nb = w["trust_sensitivity"], w["trust_neighbour_weight"]
    res.trust_shift *= np.exp(-1.0 / TRUST_SHIFT_RELAX_DAYS)
    stage = tab["stage"]
    # petitions and going public are failures of the city in the residents' eyes (issue 11)
    # (rows found by one compiled pass: the same rows as masks over the whole table; nothing
    # below changes a stage)
    closed, kept = _closed_and_kept(stage, _IS_CLOSED, _IS_KEPT)
    if closed.size:
        # compiled passes with numpy's arithmetic; the log1p stays numpy's
        sat = _satisfaction(closed, tab["t_close"], tab["t_detect"], tab["severity"], stage, _IS_UNRESOLVED,
                            float(w["trust_fair_hours"]))
        _move(s, closed, sat, rate)
        weight = np.log1p(tab["n_involved"][closed])
        _shift_by_news(closed, sat, weight, tab["grid"], res.trust_shift, float(nb),
                       float(0.5 + lev.information_disclosure))
    if s.failures_today:
        failed = np.concatenate(s.failures_today)
        failed = failed[tab["stage"][failed] != Stage.UNRESOLVED]  # already counted above
        _move(s, failed, np.zeros(failed.size), 0.5 * rate)
        np.add.at(res.trust_shift, tab["grid"][failed], -0.5 * nb)
    np.clip(res.trust_shift, -0.5, 0.5, out=res.trust_shift)
    if kept.size:  # the grievance stays with its residents
        res.add_tension(_parties(kept, tab["resident_a"], tab["resident_b"])[0], w["tension_per_case"], s.clock.t1)


def _move(s: CityState, rows: np.ndarray, target: np.ndarray, rate: float) -> None:
    """Move the trust of both parties of cases ``rows`` toward ``target``."""
    people, of = _parties(rows, s.cases["resident_a"], s.cases["resident_b"])
    s.residents.move_trust(people, target[of], rate)


@njit(cache=True)
def _parties(rows, resident_a, resident_b):  # pragma: no cover - compiled
    """The parties of cases ``rows``: ``np.concatenate([a, b[b >= 0]])`` of their residents ``a``
    and ``b``, and for each the position of its case in ``rows`` (one pass, not seven numpy calls)."""
    n = rows.shape[0]
    m = n
    for k in range(n):
        if resident_b[rows[k]] >= 0:
            m += 1
    people = np.empty(m, resident_a.dtype)
    of = np.empty(m, np.int64)
    j = n
    for k in range(n):
        people[k] = resident_a[rows[k]]
        of[k] = k
        b = resident_b[rows[k]]
        if b >= 0:
            people[j] = b
            of[j] = k
            j += 1
    return people, of


@njit(cache=True)
def _closed_and_kept(stage, closed, kept):  # pragma: no cover - compiled
    """Rows whose stage is marked in ``closed``, and in ``kept`` (lookups by stage code & 255),
    ascending: two ``cases.stage_rows`` in one pass."""
    n = stage.shape[0]
    a = np.empty(n, np.int64)
    b = np.empty(n, np.int64)
    na = 0
    nb = 0
    for i in range(n):
        code = stage[i] & 255
        if closed[code]:
            a[na] = i
            na += 1
        if kept[code]:
            b[nb] = i
            nb += 1
    return a[:na].copy(), b[:nb].copy()


@njit(cache=True)
def _satisfaction(rows, t_close, t_detect, severity, stage, unresolved, fair):  # pragma: no cover - compiled
    """Satisfaction with each closed case ``rows``: 1 if closed within ``fair`` hours of its
    detection, else ``fair / hours``; 0 if it left unresolved; halved if it grew serious."""
    out = np.empty(rows.shape[0], np.float64)
    for k in range(rows.shape[0]):
        i = rows[k]
        hours = t_close[i] - t_detect[i]
        if hours <= fair:
            sat = 1.0
        else:
            sat = fair / (hours if (hours >= fair or hours != hours) else fair)  # np.maximum (NaN wins)
        if unresolved[stage[i] & 255]:
            sat = 0.0
        if severity[i] >= 2:
            sat = sat * 0.5
        out[k] = sat
    return out


@njit(cache=True)
def _shift_by_news(rows, sat, weight, grid, trust_shift, nb, gain):  # pragma: no cover - compiled
    """The grids' trust shift moves by ``nb × news × weight`` per closed case ``rows``, in row
    order (as np.add.at); news is ``sat - 0.5``, good news amplified by ``gain``."""
    for k in range(rows.shape[0]):
        news = sat[k] - 0.5
        if news > 0:
            news = news * gain
        trust_shift[grid[rows[k]]] += nb * news * weight[k]
