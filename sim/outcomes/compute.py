"""Outcomes (KPIs) of a run at its current time: the accumulated closed cases plus the open ones.

Open cases are added in when KPIs are read, so a run cut short counts its open cases as
unresolved (right-censored), as real data does. The accumulators, the time-to-resolution
histogram and the safety index formula are in :mod:`sim.outcomes.accumulate`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from ..engine.accounting import Accounts
from ..engine.cases import Stage
from ..engine.levels import GRASSROOTS, LEVELS
from ..engine.state import CityState
from .accumulate import DEPARTMENT_WINDOWS, quantile_from_hist, safety_index


def _share(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


@njit(cache=True)
def _tallies(stage, severity, t_detect, t_emerge):  # pragma: no cover - compiled
    """One pass over the open-case table: cases per stage, per severity among stages 0..3, with
    severity >= 2, detected, and the detection delays of the detected."""
    n = stage.shape[0]
    per_stage = np.zeros(8, np.int64)
    per_severity = np.zeros(4, np.int64)
    delays = np.empty(n, np.float64)
    n_det = 0
    n_sev2 = 0
    for i in range(n):
        st = stage[i]
        sv = severity[i]
        per_stage[st] += 1
        if st <= 3:
            per_severity[sv] += 1
        if sv >= 2:
            n_sev2 += 1
        if np.isfinite(t_detect[i]):
            delays[n_det] = t_detect[i] - t_emerge[i]
            n_det += 1
    return per_stage, per_severity, n_sev2, n_det, delays[:n_det]


def open_tallies(s: CityState) -> dict[str, Any]:
    """Counts over the open cases that the daily record needs, in one compiled pass."""
    tab = s.cases
    stage, severity = tab["stage"], tab["severity"]
    if len(tab) and (stage.min() < 0 or stage.max() > 7 or severity.min() < 0 or severity.max() > 3):
        raise ValueError("stage or severity out of range in the case table")
    per_stage, per_severity, n_sev2, n_det, delays = _tallies(stage, severity, tab["t_detect"],
                                                              tab["t_emerge"])
    # summed by numpy, in the same order as compute_kpis sums them, so both agree to the bit
    delay = float(np.sum(delays))
    return {"per_stage": per_stage, "per_severity": per_severity, "severity_2_plus": int(n_sev2),
            "detected": int(n_det), "detection_delay_sum": float(delay)}


def daily_kpis(s: CityState, acc: Accounts, trust: float | None = None,
               tallies: dict[str, Any] | None = None) -> dict[str, float]:
    """The headline figures of :func:`compute_kpis` that the daily time series records
    (safety_index, median_hours_to_resolution, staff_cost, escalated_share, staff_utilisation),
    computed the same way but without the per-category and per-department breakdowns."""
    k, tab = acc.closed, s.cases
    t = open_tallies(s) if tallies is None else tallies
    total, resolved = int(k.closed.sum()) + len(tab), int(k.resolved.sum())
    escalated = int(k.escalated.sum()) + t["severity_2_plus"]
    n_det = int(k.detected.sum()) + t["detected"]
    open_delay = t["detection_delay_sum"]
    mean_delay = (k.detect_delay_sum + open_delay) / n_det if n_det else float("nan")
    trust = s.residents.mean_trust() if trust is None else trust
    backlog = len(tab) - int(t["per_stage"][Stage.LATENT])
    backlog_per_1000 = backlog / max(s.layout.n_residents, 1) * 1000.0
    resolved_share = _share(resolved, total)
    escalated_share = _share(escalated, total)
    return {
        "safety_index": safety_index(resolved_share, escalated_share, trust,
                                     0.0 if np.isnan(mean_delay) else mean_delay, backlog_per_1000),
        "median_hours_to_resolution": quantile_from_hist(k.hist, 0.5),
        "staff_cost": float(acc.cost_to_date),
        "escalated_share": escalated_share,
        "staff_utilisation": acc.utilisation(),
    }


def compute_kpis(s: CityState, acc: Accounts) -> dict[str, Any]:
    """The KPI dictionary of a run at its current time (open cases counted as unresolved)."""
    k, tab, cats = acc.closed, s.cases, s.categories
    n_cat = cats.n
    c_open = tab["category"]
    sev_open = tab["severity"]
    det_open = np.isfinite(tab["t_detect"])
    cases = k.closed + np.bincount(c_open, minlength=n_cat)
    escalated = k.escalated + np.bincount(c_open[sev_open >= 2], minlength=n_cat)
    major = k.major + np.bincount(c_open[sev_open >= 3], minlength=n_cat)
    detected = k.detected + np.bincount(c_open[det_open], minlength=n_cat)
    total, resolved = int(cases.sum()), int(k.resolved.sum())
    n_det = int(detected.sum())
    open_delay = float(np.sum(tab["t_detect"][det_open] - tab["t_emerge"][det_open]))
    mean_delay = (k.detect_delay_sum + open_delay) / n_det if n_det else float("nan")
    trust = s.residents.mean_trust()
    backlog = int(np.count_nonzero(tab["stage"] != Stage.LATENT))
    backlog_per_1000 = backlog / max(s.layout.n_residents, 1) * 1000.0
    resolved_share = _share(resolved, total)
    escalated_share = _share(int(escalated.sum()), total)
    misrouted = k.misrouted + int(np.count_nonzero(tab["bounces"][det_open] > 0))

    dept_cases = k.dept_cases + np.bincount(cats.department[c_open[det_open]], minlength=len(s.departments))
    by_department = {
        name: {"cases": int(dept_cases[d]),
               **{f"closed_within_{win}h": _share(int(k.dept_within[d, j]), int(dept_cases[d]))
                  for j, win in enumerate(DEPARTMENT_WINDOWS)}}
        for d, name in enumerate(s.departments)
    }
    by_category = {
        name: {"cases": int(cases[i]), "resolved": int(k.resolved[i]),
               "resolved_share": _share(int(k.resolved[i]), int(cases[i])),
               "escalated": int(escalated[i]), "major_incidents": int(major[i]),
               "detected": int(detected[i]),
               "mean_hours_to_resolution": _share(float(k.resolved_hours_sum[i]), int(k.resolved[i]))}
        for i, name in enumerate(cats.names)
    }
    return {
        "cases_total": total,
        "cases_resolved": resolved,
        "resolved_share": resolved_share,
        "escalated_share": escalated_share,
        "collective_incidents": int(escalated.sum()),
        "major_incidents": int(major.sum()),
        "median_hours_to_resolution": quantile_from_hist(k.hist, 0.5),
        "p90_hours_to_resolution": quantile_from_hist(k.hist, 0.9),
        "grassroots_resolution_share": _share(int(k.by_level[list(GRASSROOTS)].sum()), resolved),
        "resolved_by_level": {lv: _share(int(k.by_level[i]), resolved) for i, lv in enumerate(LEVELS)},
        "mean_detection_delay_hours": mean_delay,
        "detection_rate": _share(n_det, total),
        "faded_share": _share(int(k.faded.sum()), total),
        "misrouted_share": _share(misrouted, n_det),
        "backlog": backlog,
        "mean_trust": trust,
        "safety_index": safety_index(resolved_share, escalated_share, trust,
                                     0.0 if np.isnan(mean_delay) else mean_delay, backlog_per_1000),
        "staff_cost": float(acc.cost_to_date),
        "staff_utilisation": acc.utilisation(),
        "utilisation_by_level": acc.utilisation_by_level(),
        "by_category": by_category,
        "by_department": by_department,
    }
