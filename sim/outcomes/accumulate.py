"""Outcome accumulators: running totals over case records, so memory does not grow with cases.

Closed cases are folded in when they leave the table; open cases are folded into a copy when
outcomes are read, so a run cut short counts them as they are (unresolved, right-censored).
Cases that emerged during the warm-up are left out by the caller.

Time to resolution is estimated with Kaplan–Meier over all detected cases, on a fine log-spaced
histogram (3,000 bins from 0.01 h to ~3e5 h; a quantile read from it is within 0.6% of the
exact one): a resolution is an event at its hours since detection; an open case is censored at
its age; a case that left unresolved (lapsed, decided against) is never resolved, so it stays
at risk. When fewer than a share q of detected cases is ever resolved within the run, the
q-quantile is not reached and is reported as the run's length after warm-up — a lower bound, so
a collapsing city cannot look fast.

Safety index (市域平安指数), 0–100:
``100 × (0.25 R + 0.25 (1 − min(1, 5 E)) + 0.20 T + 0.15 exp(−D / 168) + 0.15 (1 − min(1, B / 5)))``
with R the resolved share of all emerged cases, E the escalated share (severity ≥ 2) of all
emerged cases, T mean trust, D the mean detection delay in hours, and B the open backlog of
detected cases per 1,000 residents. A city with no staff resolves nothing, escalates most, loses
trust and piles up a backlog: it scores worst.
"""

from __future__ import annotations

import copy

import numpy as np

from ..engine.cases import CITY_OPTIONS, OPTIONS, Stage
from ..engine.levels import LEVELS, Level

EDGES = np.logspace(-2, 5.5, 3001)
DEPARTMENT_WINDOWS = (24, 168, 720)
_MEDIATION_BIT = np.uint8(1 << Level.COMMUNITY)
_COURT_BIT = np.uint8(1 << Level.COURT)


def safety_index(resolved_share: float, escalated_share: float, mean_trust: float,
                 detection_delay_hours: float, backlog_per_1000: float) -> float:
    """The composite 0–100 safety index (formula in the module docstring)."""
    return 100.0 * (0.25 * resolved_share + 0.25 * (1.0 - min(1.0, 5.0 * escalated_share))
                    + 0.20 * mean_trust + 0.15 * float(np.exp(-detection_delay_hours / 168.0))
                    + 0.15 * (1.0 - min(1.0, backlog_per_1000 / 5.0)))


def km_quantile(events: np.ndarray, censored: np.ndarray, n_total: int, q: float, horizon: float) -> float:
    """Kaplan–Meier q-quantile of time to resolution from binned events and censorings (on
    EDGES) among ``n_total`` cases at risk from time 0 (those never resolved nor censored stay at
    risk). ``horizon`` when the curve does not reach q (a lower bound); NaN with no cases."""
    if n_total == 0:
        return float("nan")
    removed_before = np.concatenate([[0], np.cumsum(events + censored)[:-1]])
    at_risk = n_total - removed_before
    with np.errstate(divide="ignore", invalid="ignore"):
        hazard = np.where(at_risk > 0, events / np.maximum(at_risk, 1), 0.0)
    surv = np.cumprod(1.0 - hazard)  # S after each bin
    k = int(np.searchsorted(-surv, -(1.0 - q), side="left"))  # first bin with S <= 1 - q
    if k >= surv.size:
        return float(horizon)
    s_before = surv[k - 1] if k > 0 else 1.0
    drop = s_before - surv[k]
    frac = (s_before - (1.0 - q)) / drop if drop > 0 else 1.0
    lo, hi = EDGES[k], EDGES[k + 1]
    return float(lo * (hi / lo) ** frac)


def hours_histogram(hours: np.ndarray) -> np.ndarray:
    """Counts of ``hours`` on the EDGES bins (values outside are put in the end bins)."""
    return np.histogram(np.clip(hours, EDGES[0], EDGES[-1] * 0.999), EDGES)[0]


class KpiAccumulator:
    """Running totals over case records (per category where a breakdown is reported)."""

    def __init__(self, n_categories: int, n_departments: int) -> None:
        c, d = n_categories, n_departments
        self.cases = np.zeros(c, np.int64)
        self.resolved = np.zeros(c, np.int64)
        self.escalated = np.zeros(c, np.int64)  # reached severity >= 2
        self.caused = np.zeros(c, np.int64)  # severity rose after emergence
        self.major = np.zeros(c, np.int64)
        self.detected = np.zeros(c, np.int64)
        self.faded = np.zeros(c, np.int64)
        self.lapsed = np.zeros(c, np.int64)
        self.unresolved = np.zeros(c, np.int64)  # decided against the parties at the top level
        self.returned = np.zeros(c, np.int64)  # cases that are a grievance's return
        self.collective_actions = np.zeros(c, np.int64)  # incidents born of collective action (§7.17)
        self.by_level = np.zeros(len(LEVELS), np.int64)
        self.events = np.zeros((c, EDGES.size - 1), np.int64)  # resolutions, hours since detection
        self.censored = np.zeros((c, EDGES.size - 1), np.int64)  # open detected cases, by age
        self.detect_delay_sum = 0.0
        self.misrouted = 0
        self.mediated = 0  # cases that had a community mediation
        self.mediated_to_court = 0  # ... and were sent to court afterwards
        self.dept_cases = np.zeros(d, np.int64)
        self.dept_within = np.zeros((d, len(DEPARTMENT_WINDOWS)), np.int64)
        # residents' channel choice (issue 11)
        self.new_grievances = 0  # cases that are not a grievance's return
        self.reported = 0  # cases residents took to a city channel (grid, hotline, mediation, court)
        self.choices = np.zeros(len(OPTIONS), np.int64)  # residents' final choice per option
        self.settled = 0
        self.petitions = 0
        self.public = 0

    def copy(self) -> KpiAccumulator:
        """An independent copy (open cases are folded into a copy when outcomes are read)."""
        return copy.deepcopy(self)

    READS = ("bounces", "category", "collective", "entry_channel", "level", "levels_routed",
             "levels_served", "recurrence", "severity", "severity0", "stage", "t_close", "t_detect",
             "t_emerge")
    """The record columns :meth:`add` reads (open cases are folded in through these alone)."""

    def add(self, r: dict[str, np.ndarray], dept_of_category: np.ndarray, now: float) -> None:
        """Fold case records ``r`` (closed, or open at time ``now``) into the totals; ``r`` needs
        the columns in :attr:`READS` and is not modified."""
        c, n_cat = r["category"].astype(np.int64), self.cases.size
        stage = r["stage"]
        res = stage == Stage.RESOLVED
        det = np.isfinite(r["t_detect"])
        is_open = stage <= Stage.IN_SERVICE

        def count(mask: np.ndarray) -> np.ndarray:
            return np.bincount(c[mask], minlength=n_cat)

        self.cases += np.bincount(c, minlength=n_cat)
        self.resolved += count(res)
        self.escalated += count(r["severity"] >= 2)
        self.caused += count(r["severity"] > r["severity0"])
        self.major += count(r["severity"] >= 3)
        self.detected += count(det)
        self.faded += count(stage == Stage.FADED)
        self.lapsed += count(stage == Stage.LAPSED)
        self.unresolved += count(stage == Stage.UNRESOLVED)
        self.returned += count(r["recurrence"] > 0)
        if "collective" in r:
            self.collective_actions += count(r["collective"] == 1)
        self.by_level += np.bincount(r["level"][res], minlength=len(LEVELS))
        with np.errstate(invalid="ignore"):  # inf - inf for undetected open cases: not used
            hours = r["t_close"] - r["t_detect"]
        for k in np.unique(c[res]):
            self.events[k] += hours_histogram(hours[res & (c == k)])
        censor = det & is_open
        for k in np.unique(c[censor]):
            self.censored[k] += hours_histogram(now - r["t_detect"][censor & (c == k)])
        self.detect_delay_sum += float(np.sum(r["t_detect"][det] - r["t_emerge"][det]))
        self.misrouted += int(np.count_nonzero(r["bounces"][det] > 0))
        mediated = (r["levels_served"] & _MEDIATION_BIT) > 0
        self.mediated += int(np.count_nonzero(mediated))
        self.mediated_to_court += int(np.count_nonzero(mediated & ((r["levels_routed"] & _COURT_BIT) > 0)))
        dept = dept_of_category[c[det]]
        d = self.dept_cases.size
        self.dept_cases += np.bincount(dept, minlength=d)
        for j, win in enumerate(DEPARTMENT_WINDOWS):
            ok = res[det] & (hours[det] <= win)
            self.dept_within[:, j] += np.bincount(dept[ok], minlength=d)
        entry = r["entry_channel"]
        self.new_grievances += int(np.count_nonzero(r["recurrence"] == 0))
        self.reported += int(np.count_nonzero(np.isin(entry, CITY_OPTIONS)))
        self.choices += np.bincount(entry[entry >= 0], minlength=len(OPTIONS))
        self.settled += int(np.count_nonzero(stage == Stage.SETTLED))
        self.petitions += int(np.count_nonzero(stage == Stage.PETITIONED))
        self.public += int(np.count_nonzero(stage == Stage.WENT_PUBLIC))
