"""Outcomes (KPIs) of a run at its current time: the accumulated closed cases plus the open ones.

Open cases are added in when KPIs are read, so a run cut short counts its open cases as
unresolved (right-censored), as real data does. Shares are over all cases that emerged after the
warm-up, or over all detected ones — never over resolved ones only, so a collapsing city cannot
look good. The accumulators, Kaplan–Meier and the safety index are in
:mod:`sim.outcomes.accumulate`; what each outcome means is declared in :mod:`sim.outcomes.registry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from ..engine.accounting import Accounts
from ..engine.cases import OPTIONS, Stage
from ..engine.levels import GRASSROOTS, LEVELS, Level
from ..engine.split import in_parts, row_parts
from ..engine.state import CityState
from .accumulate import (
    BIN_GUESS,
    DEPARTMENT_WINDOWS,
    EDGES,
    KpiAccumulator,
    bin_of,
    km_quantile,
    km_quantiles,
    safety_index,
)


def _share(a: float, b: float) -> float:
    return float(a / b) if b else 0.0


def open_tallies(s: CityState) -> dict[str, np.ndarray]:
    """Open cases per stage, and per severity, for the daily record."""
    tab = s.cases
    per_stage, per_severity = np.zeros(len(Stage), np.int64), np.zeros(4, np.int64)
    _count_codes(tab["stage"], tab["severity"], per_stage, per_severity)  # np.bincount of each
    return {"per_stage": per_stage, "per_severity": per_severity}


@njit(cache=True)
def _count_codes(stage, severity, per_stage, per_severity):  # pragma: no cover - compiled
    for i in range(stage.size):
        if stage[i] < 0:  # a buried closed row (CaseTable.bury)
            continue
        per_stage[stage[i]] += 1
        per_severity[severity[i]] += 1


FOLD_ROWS = 1 << 18
"""Open cases are folded into the totals this many rows at a time: the temporaries of
:meth:`KpiAccumulator.add` over a backlog of millions would each take tens of megabytes."""


def _totals(s: CityState, acc: Accounts) -> KpiAccumulator:
    """The closed-case totals with the open cases (after warm-up) folded in, as of now."""
    tot = acc.closed.copy()
    tab = s.cases
    if not len(tab):
        return tot
    # in slices of rows, through the columns the totals read alone (views when no case of the
    # slice is left out): a city with millions of open cases is not copied whole. Every total
    # is a count (the same in any slicing) but the detection delays' float sum, which numpy
    # sums pairwise over all of them: kept here, in row order, and summed once the same way
    # (replacing the per-slice sums ``add`` made).
    delay_sum, delays, n_det = tot.detect_delay_sum, np.empty(tab.n), 0
    now, dept = s.clock.day * 24.0, s.categories.department
    for lo in range(0, tab.n, FOLD_ROWS):
        part = slice(lo, min(lo + FOLD_ROWS, tab.n))
        keep = tab["t_emerge"][part] >= acc.warmup_hours
        every = bool(keep.all())
        rows = {k: tab[k][part] if every else tab[k][part][keep] for k in KpiAccumulator.READS}
        tot.add(rows, dept, now)
        det = np.isfinite(rows["t_detect"])
        m = int(np.count_nonzero(det))
        np.subtract(rows["t_detect"][det], rows["t_emerge"][det], out=delays[n_det: n_det + m])
        n_det += m
    tot.detect_delay_sum = delay_sum + float(np.sum(delays[:n_det]))
    return tot


@dataclass(frozen=True)
class _Head:
    """The city-wide totals the headline figures need (closed and open cases after warm-up)."""

    cases: int
    detected: int
    detect_delay_sum: float
    resolved: int
    escalated: int
    caused: int
    events: np.ndarray  # resolutions by hours since detection (EDGES bins)
    censored: np.ndarray  # open detected cases by age
    backlog: int | None = None  # open cases after warm-up not latent (None: count them in _headline)

    @classmethod
    def of(cls, tot: KpiAccumulator) -> _Head:
        """From full totals (closed and open folded together)."""
        return cls(int(tot.cases.sum()), int(tot.detected.sum()), tot.detect_delay_sum,
                   int(tot.resolved.sum()), int(tot.escalated.sum()), int(tot.caused.sum()),
                   tot.events.sum(axis=0), tot.censored.sum(axis=0))

    @classmethod
    def fast(cls, s: CityState, acc: Accounts, tallies: dict[str, np.ndarray] | None = None) -> _Head:
        """The same numbers without folding the open cases category by category: what the daily
        record needs (the arithmetic is that of :meth:`KpiAccumulator.add`, so both agree to the
        bit — tests/test_engine_kernels.py checks it). With ``tallies`` (zeros, as
        :func:`open_tallies` makes them) the same pass counts the open cases per stage and
        severity into them."""
        k, tab = acc.closed, s.cases
        if tallies is None:
            tallies = {"per_stage": np.zeros(len(Stage), np.int64), "per_severity": np.zeros(4, np.int64)}
        # one compiled pass over the open cases for the counts, the detection delays (as
        # tab["t_detect"][det] - tab["t_emerge"][det], summed by numpy) and the censored histogram;
        # a large backlog in a part per thread (sim/engine/split.py), each with its own tallies,
        # the delays joined in row order before numpy sums them
        cols = (tab["t_emerge"], tab["t_detect"], tab["severity"], tab["severity0"], tab["stage"])
        rest = (float(acc.warmup_hours), s.clock.day * 24.0, int(Stage.IN_SERVICE), int(Stage.LATENT), EDGES,
                float(EDGES[-1] * 0.999), *BIN_GUESS)

        def part(lo: int, hi: int) -> tuple[Any, ...]:
            stages, severities = np.zeros(len(Stage), np.int64), np.zeros(4, np.int64)
            got = _open_totals(*(c[lo:hi] for c in cols), *rest, stages, severities)  # type: ignore[call-arg]
            return (*got, stages, severities)

        parts = in_parts(part, row_parts(tab.n))
        counts, delays, hist, stages, severities = parts[0]
        if len(parts) > 1:
            counts, hist, stages, severities = (sum(p[k] for p in parts) for k in (0, 2, 3, 4))
            delays = np.concatenate([p[1] for p in parts])
        tallies["per_stage"] += stages
        tallies["per_severity"] += severities
        n_keep, n_det, n_opened, n_esc, n_caused, backlog = (int(c) for c in counts)
        censored = k.censored.sum(axis=0)
        if n_opened:
            censored = censored + hist
        return cls(int(k.cases.sum()) + n_keep, int(k.detected.sum()) + n_det,
                   k.detect_delay_sum + float(np.sum(delays)) if len(tab) else k.detect_delay_sum,
                   int(k.resolved.sum()), int(k.escalated.sum()) + n_esc, int(k.caused.sum()) + n_caused,
                   k.events.sum(axis=0), censored, backlog)


@njit(cache=True, nogil=True)
def _open_totals(t_emerge, t_detect, severity, severity0, stage, warmup_hours, now, in_service, latent,
                 edges, top, key0, guess, per_stage, per_severity):  # pragma: no cover - compiled
    # After the warm-up (t_emerge >= warmup_hours): cases, detected (finite t_detect), detected and
    # open, severity >= 2, severity > severity0, not latent (the backlog); the detection delays of
    # the detected in row order; hours_histogram(now - t_detect) of the detected open ones
    # (clipped to [edges[0], top], bin i holds edges[i] <= h < edges[i + 1], as np.histogram).
    # And, warm-up or not, every open row per stage and per severity (_count_codes): the daily
    # record reads each column once.
    counts = np.zeros(6, np.int64)
    delays = np.empty(t_emerge.size)
    hist = np.zeros(edges.size - 1, np.int64)
    nd = 0
    # the counts in locals (registers), not in ``counts``: a fifth faster on a large backlog
    n_keep = n_det = n_opened = n_serious = n_caused = n_backlog = 0
    # the tallies in arrays of the pass's own, added to the caller's at the end: a tenth faster
    # (stores into an argument may alias the columns read, so each must be done in order)
    stages = np.zeros(per_stage.size, np.int64)
    severities = np.zeros(per_severity.size, np.int64)
    for i in range(t_emerge.size):
        st = stage[i]
        if st < 0:  # a buried closed row (CaseTable.bury)
            continue
        sv = severity[i]
        # unsigned indices (a stage here is >= 0, a severity always is): no test for a negative
        # index (with the same in bin_of, 4.4 -> 3.8 ms over 860,000 rows at 5x)
        stages[np.uint64(st)] += 1
        severities[np.uint64(sv)] += 1
        te = t_emerge[i]
        if not te >= warmup_hours:
            continue
        n_keep += 1
        n_serious += sv >= 2
        n_caused += sv > severity0[i]
        n_backlog += st != latent
        td = t_detect[i]
        if np.isfinite(td):
            n_det += 1
            delays[nd] = td - te
            nd += 1
            if st <= in_service:
                n_opened += 1
                hist[np.uint64(bin_of(now - td, edges, top, key0, guess))] += 1
    per_stage += stages
    per_severity += severities
    counts[0], counts[1], counts[2] = n_keep, n_det, n_opened
    counts[3], counts[4], counts[5] = n_serious, n_caused, n_backlog
    return counts, delays[:nd], hist


def _headline(s: CityState, acc: Accounts, tot: _Head, trust: float) -> dict[str, float]:
    """The figures both the daily series and the full KPIs report, from the same totals."""
    total, n_det = tot.cases, tot.detected
    mean_delay = tot.detect_delay_sum / n_det if n_det else float("nan")
    tab = s.cases
    backlog = tot.backlog
    if backlog is None:
        backlog = int(np.count_nonzero((tab["stage"] != Stage.LATENT) & (tab["t_emerge"] >= acc.warmup_hours)))
    backlog_per_1000 = backlog / max(s.layout.n_residents, 1) * 1000.0
    resolved_share = _share(tot.resolved, total)
    escalated_share = _share(tot.escalated, total)
    horizon = max(s.clock.day * 24.0 - acc.warmup_hours, 0.0)
    events, censored = tot.events, tot.censored
    median, p90 = km_quantiles(events, censored, n_det, (0.5, 0.9), horizon)
    return {
        "resolved_share": resolved_share,
        "escalated_share": escalated_share,
        "caused_escalation_share": _share(tot.caused, total),
        "median_hours_to_resolution": median,
        "p90_hours_to_resolution": p90,
        "mean_detection_delay_hours": mean_delay,
        "backlog": backlog,
        "safety_index": safety_index(resolved_share, escalated_share, trust,
                                     0.0 if np.isnan(mean_delay) else mean_delay, backlog_per_1000),
        "staff_cost": float(acc.cost_to_date),
        "staff_utilisation": acc.utilisation(),
    }


def daily_kpis(s: CityState, acc: Accounts, trust: float | None = None) -> dict[str, float]:
    """The headline figures of :func:`compute_kpis` that the daily time series records, computed
    the same way (the same totals) without the breakdowns."""
    trust = s.residents.mean_trust() if trust is None else trust
    return _headline(s, acc, _Head.fast(s, acc), trust)


def daily_record(s: CityState, acc: Accounts) -> tuple[dict[str, np.ndarray], float, dict[str, float]]:
    """What the daily record reads, in one pass over the case table: :func:`open_tallies`, the
    city's mean trust and :func:`daily_kpis` (the same numbers as those three calls)."""
    tallies = {"per_stage": np.zeros(len(Stage), np.int64), "per_severity": np.zeros(4, np.int64)}
    trust = s.residents.mean_trust()
    head = _Head.fast(s, acc, tallies)
    return tallies, trust, _headline(s, acc, head, trust)


def compute_kpis(s: CityState, acc: Accounts) -> dict[str, Any]:
    """The outcomes of a run at its current time: shares over all cases that emerged after the
    warm-up (or all detected ones), open cases counted as they are (unresolved, censored)."""
    tot, cats = _totals(s, acc), s.categories
    total, resolved, n_det = int(tot.cases.sum()), int(tot.resolved.sum()), int(tot.detected.sum())
    head = _headline(s, acc, _Head.of(tot), s.residents.mean_trust())
    horizon = max(s.clock.day * 24.0 - acc.warmup_hours, 0.0)
    by_department = {
        name: {"cases": int(tot.dept_cases[d]),
               **{f"closed_within_{win}h": _share(int(tot.dept_within[d, j]), int(tot.dept_cases[d]))
                  for j, win in enumerate(DEPARTMENT_WINDOWS)}}
        for d, name in enumerate(s.departments)
    }
    by_category = {
        name: {"cases": int(tot.cases[i]), "resolved": int(tot.resolved[i]),
               "resolved_share": _share(int(tot.resolved[i]), int(tot.cases[i])),
               "escalated": int(tot.escalated[i]), "caused_escalations": int(tot.caused[i]),
               "major_incidents": int(tot.major[i]), "detected": int(tot.detected[i]),
               "lapsed": int(tot.lapsed[i]),
               "median_hours_to_resolution": km_quantile(tot.events[i], tot.censored[i],
                                                         int(tot.detected[i]), 0.5, horizon)}
        for i, name in enumerate(cats.names)
    }
    attempts, successes = acc.attempts, acc.successes
    return {
        "cases_total": total,
        "cases_resolved": resolved,
        "resolved_share": head["resolved_share"],
        "escalated_share": head["escalated_share"],
        "caused_escalation_share": head["caused_escalation_share"],
        "collective_incidents": int(tot.escalated.sum()),
        "major_incidents": int(tot.major.sum()),
        "collective_actions": int(tot.collective_actions.sum()),
        "lapsed_share": _share(int(tot.lapsed.sum()), total),
        "unresolved_share": _share(int(tot.unresolved.sum()), total),
        "returned_cases": int(tot.returned.sum()),
        "median_hours_to_resolution": head["median_hours_to_resolution"],
        "p90_hours_to_resolution": head["p90_hours_to_resolution"],
        "grassroots_resolution_share": _share(int(tot.by_level[list(GRASSROOTS)].sum()), n_det),
        "resolved_by_level": {lv: _share(int(tot.by_level[i]), n_det) for i, lv in enumerate(LEVELS)},
        "success_by_level": {lv: _share(int(successes[i]), int(attempts[i])) for i, lv in enumerate(LEVELS)},
        "mediation_success": _share(int(successes[Level.COMMUNITY]), int(attempts[Level.COMMUNITY])),
        "mediated_to_court_share": _share(tot.mediated_to_court, tot.mediated),
        "mean_detection_delay_hours": head["mean_detection_delay_hours"],
        "detection_rate": _share(n_det, total),
        "faded_share": _share(int(tot.faded.sum()), total),
        "misrouted_share": _share(tot.misrouted, n_det),
        "backlog": head["backlog"],
        "mean_trust": s.residents.mean_trust(),
        "safety_index": head["safety_index"],
        "staff_cost": head["staff_cost"],
        "staff_utilisation": head["staff_utilisation"],
        "utilisation_by_level": acc.utilisation_by_level(),
        **_saturation_kpis(s, acc),
        **_choice_kpis(tot, total),
        "by_category": by_category,
        "by_department": by_department,
    }


def _saturation_kpis(s: CityState, acc: Accounts) -> dict[str, Any]:
    """Recent utilisation and queue growth per level, and how many levels are saturated
    (sim/engine/saturation.py)."""
    rep = acc.saturation.report(s.clock.day - 1, s.cases["stage"], s.cases["level"])
    return {"saturated_levels": int(sum(r["saturated"] for r in rep.values())),
            "recent_utilisation_by_level": {lv: r["utilisation"] for lv, r in rep.items()},
            "queue_growth_by_level": {lv: r["growth_per_day"] for lv, r in rep.items()}}


def _choice_kpis(tot: KpiAccumulator, total: int) -> dict[str, Any]:
    """Outcomes of the residents' channel choice (issue 11; sim/engine/choice.py)."""
    chosen = int(tot.choices.sum())
    return {
        "emerged_cases": tot.new_grievances,
        "reported_cases": tot.reported,
        "lumped_share": _share(int(tot.choices[OPTIONS.index("lump")]), total),
        "settled_share": _share(tot.settled, total),
        "petitions": tot.petitions,
        "public_incidents": tot.public,
        "channel_shares": {opt: _share(int(tot.choices[i]), chosen) for i, opt in enumerate(OPTIONS)},
    }
