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
from numba import njit

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
    return km_quantiles(events, censored, n_total, (q,), horizon)[0]


def km_quantiles(events: np.ndarray, censored: np.ndarray, n_total: int, qs: tuple[float, ...],
                 horizon: float) -> list[float]:
    """:func:`km_quantile` for each of ``qs`` from one survival curve (the daily record reads
    two quantiles of the same curve: the curve is the cost)."""
    if n_total == 0:
        return [float("nan")] * len(qs)
    surv = _survival(np.asarray(events), np.asarray(censored), int(n_total))  # S after each bin
    falling = -surv  # ascending, for searchsorted
    return [_quantile_of(surv, falling, q, horizon) for q in qs]


@njit(cache=True)
def _survival(events, censored, n_total):  # pragma: no cover - compiled
    # numpy's ten passes over the bins in one (the daily record reads the curve every day):
    # removed_before = concatenate([0], cumsum(events + censored)[:-1]); at_risk = n_total -
    # removed_before; hazard = where(at_risk > 0, events / maximum(at_risk, 1), 0.0);
    # surv = cumprod(1.0 - hazard) -- the same operations in the same order (true division of
    # the two as float64, a running sum and a running product from the first bin)
    surv = np.empty(events.size)
    if events.size == 0:
        return surv
    removed = events[0] - events[0] + censored[0] - censored[0]  # 0 in the dtype of events + censored
    s = 1.0
    for k in range(events.size):
        at_risk = n_total - removed
        hazard = np.float64(events[k]) / np.float64(max(at_risk, 1)) if at_risk > 0 else 0.0
        s = (1.0 - hazard) if k == 0 else s * (1.0 - hazard)
        surv[k] = s
        removed += events[k] + censored[k]
    return surv


def _quantile_of(surv: np.ndarray, falling: np.ndarray, q: float, horizon: float) -> float:
    """The q-quantile read from the survival curve ``surv`` (on EDGES; ``falling`` is ``-surv``),
    ``horizon`` when the curve does not reach it."""
    k = int(np.searchsorted(falling, -(1.0 - q), side="left"))  # first bin with S <= 1 - q
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
        # One compiled pass for every count and histogram (integers: the same in any order); the
        # detection delays' float sum stays numpy's (pairwise) over the delays in row order.
        has_collective = "collective" in r
        scalars, delays = _fold(
            r["category"], r["stage"], r["severity"], r["severity0"], r["recurrence"],
            r["collective"] if has_collective else r["recurrence"], has_collective, r["level"], r["bounces"],
            r["levels_served"], r["levels_routed"], r["entry_channel"], r["t_detect"], r["t_emerge"],
            r["t_close"], float(now), dept_of_category, _IS_CITY_OPTION, EDGES, _TOP, *BIN_GUESS,
            _WINDOWS, self.cases, self.resolved, self.escalated, self.caused, self.major, self.detected,
            self.faded, self.lapsed, self.unresolved, self.returned, self.collective_actions, self.by_level,
            self.events, self.censored, self.dept_cases, self.dept_within, self.choices)
        self.detect_delay_sum += float(np.sum(delays))
        misrouted, mediated, to_court, new, reported, settled, petitions, public = (int(v) for v in scalars)
        self.misrouted += misrouted
        self.mediated += mediated
        self.mediated_to_court += to_court
        self.new_grievances += new
        self.reported += reported
        self.settled += settled
        self.petitions += petitions
        self.public += public


def _bin_guess() -> tuple[int, np.ndarray]:
    """A table from the leading 22 bits of a float64 in [EDGES[0], EDGES[-1]] (sign, exponent,
    10 mantissa bits) to the bin of the smallest float with those bits: a first guess of a value's
    bin that :func:`bin_of` corrects with an exact comparison."""
    bits = EDGES[[0, -1]].view(np.int64) >> 42
    lows = (np.arange(bits[0], bits[1] + 1, dtype=np.int64) << 42).view(np.float64)
    guess = np.clip(np.searchsorted(EDGES, lows, side="right") - 1, 0, EDGES.size - 2)
    return int(bits[0]), guess.astype(np.int64)


BIN_GUESS = _bin_guess()
"""(first key, table) of :func:`_bin_guess`: the last two arguments of :func:`bin_of`."""
# one bin or none from a guess to the next: a key's floats span a relative width of 2**-10, a bin
# ~0.58% (what lets bin_of correct a guess with a single comparison)
assert int(np.diff(BIN_GUESS[1]).max()) <= 1 and EDGES[-1] * 0.999 < EDGES[-1]
_TOP = float(EDGES[-1] * 0.999)  # hours_histogram's upper clip
_WINDOWS = np.array(DEPARTMENT_WINDOWS, dtype=np.float64)
_IS_CITY_OPTION = np.zeros(len(OPTIONS), np.bool_)  # np.isin(entry, CITY_OPTIONS) as a table
_IS_CITY_OPTION[list(CITY_OPTIONS)] = True


@njit(cache=True)
def bin_of(h, edges, top, key0, guess):  # pragma: no cover - compiled
    """The bin :func:`hours_histogram` puts ``h`` in: clipped to [edges[0], top], bin i holds
    edges[i] <= h < edges[i + 1] (np.histogram's). A first guess from the float's exponent and
    leading mantissa bits (``guess``, keys from ``key0``), then exact comparisons."""
    h = min(max(h, edges[0]), top)
    # unsigned indices (both are >= 0: h >= edges[0] is a key >= key0): numba adds no test for
    # a negative index, a tenth of the daily record's pass over a backlog
    b = guess[np.uint64((np.float64(h).view(np.int64) >> 42) - key0)]
    # edges[b] <= h (the guess is the bin of a float <= h); at most one edge lies between them
    # (checked below, where the table is built), and top < edges[-1]: one step, without a branch
    return b + (edges[np.uint64(b + 1)] <= h)


@njit(cache=True)
def _fold(category, stage, severity, severity0, recurrence, collective, has_collective, level, bounces,
          levels_served, levels_routed, entry, t_detect, t_emerge, t_close, now, dept_of_category, is_city,
          edges, top, key0, guess, windows, cases, resolved, escalated, caused, major, detected, faded, lapsed,
          unresolved, returned, collective_actions, by_level, events, censored, dept_cases, dept_within,
          choices):  # pragma: no cover - compiled
    """:meth:`KpiAccumulator.add`'s counts in one pass (each the np.bincount / count_nonzero /
    hours_histogram of the same mask), into the arrays given; returns the scalar counts
    (misrouted, mediated, mediated to court, new grievances, reported, settled, petitions, public)
    and the detection delays of the detected rows in row order."""
    n = category.shape[0]
    delays = np.empty(n)
    nd = 0
    out = np.zeros(8, np.int64)
    for i in range(n):
        k = category[i]
        st = stage[i]
        sv = severity[i]
        cases[k] += 1
        res = st == _RESOLVED
        escalated[k] += sv >= 2
        caused[k] += sv > severity0[i]
        major[k] += sv >= 3
        faded[k] += st == _FADED
        lapsed[k] += st == _LAPSED
        unresolved[k] += st == _UNRESOLVED
        returned[k] += recurrence[i] > 0
        out[3] += recurrence[i] == 0
        if has_collective:
            collective_actions[k] += collective[i] == 1
        td = t_detect[i]
        hours = t_close[i] - td
        if res:
            resolved[k] += 1
            by_level[level[i]] += 1
            events[k, bin_of(hours, edges, top, key0, guess)] += 1
        if np.isfinite(td):
            detected[k] += 1
            delays[nd] = td - t_emerge[i]
            nd += 1
            out[0] += bounces[i] > 0
            d = dept_of_category[k]
            dept_cases[d] += 1
            if res:
                for j in range(windows.shape[0]):
                    dept_within[d, j] += hours <= windows[j]
            if st <= _IN_SERVICE:
                censored[k, bin_of(now - td, edges, top, key0, guess)] += 1
        mediated = (levels_served[i] & _MEDIATION_BIT) > 0
        out[1] += mediated
        out[2] += mediated and (levels_routed[i] & _COURT_BIT) > 0
        e = entry[i]
        if e >= 0:
            choices[e] += 1
            out[4] += e < is_city.shape[0] and is_city[e]
        out[5] += st == _SETTLED
        out[6] += st == _PETITIONED
        out[7] += st == _WENT_PUBLIC
    return out, delays[:nd]


_RESOLVED, _FADED, _LAPSED, _UNRESOLVED = (int(Stage.RESOLVED), int(Stage.FADED), int(Stage.LAPSED),
                                           int(Stage.UNRESOLVED))
_SETTLED, _PETITIONED, _WENT_PUBLIC, _IN_SERVICE = (int(Stage.SETTLED), int(Stage.PETITIONED),
                                                    int(Stage.WENT_PUBLIC), int(Stage.IN_SERVICE))
