"""The observation layer: what a city can see of itself, and nothing else.

A city knows the cases that have been reported to it (detected): their grid, category, when and
by which channel they were found (a video alert is a detection by the video channel), where
they are now (in transit, queued, in service), their severity as handled, whether they were
bounced between departments and whether they are a returning grievance (a repeat reporter). It
also runs a weekly trust survey of a few residents per grid (a noisy sample, its own stream).

It does **not** know the latent, undetected cases, residents' tension, their true trust, or any
escalation clock (hazards, thresholds). Every number the forecaster sees passes through
:func:`observable_cases` (detected rows only, :data:`OBSERVABLE_COLUMNS` only) or :func:`survey`;
``tests/test_warning.py`` perturbs the hidden state of a copy of a run and checks that the
features do not move.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import cast

import numpy as np
from numba import njit

from ..engine.cases import CHANNELS, CaseTable, Stage
from ..engine.city import CityLayout
from ..engine.escalation import neighbourhood_sum
from ..engine.intrinsics import prefetch
from ..engine.residents import ResidentTable
from ..engine.state import CityState

OBSERVABLE_COLUMNS = ("grid", "category", "stage", "t_detect", "channel", "severity", "bounces",
                      "recurrence")
"""Columns of a *detected* case the platform knows."""
VIDEO = CHANNELS.index("video")
TALLIES = ("detected", "serious", "video", "repeat")
"""Daily counts per grid of the cases reported that day: all, severity ≥ 1 when reported,
found by video (alerts), returning grievances (repeat reporters)."""
FEATURES = ("detected_1w", "detected_4w", "smoothed", "serious_4w", "video_4w", "repeat_8w",
            "backlog", "backlog_age_days", "backlog_bounced", "open_collective", "survey_trust",
            "community_detected_4w", "near_backlog", "residents_k")
"""The columns of the per-grid feature matrix (see :func:`features`)."""
_AHEAD = 64  # answers ahead whose resident record the survey prefetches (as trust_of does)
SMOOTHING = 0.3  # weight of the newest week in the exponentially smoothed report count


def observable_cases(tab: CaseTable, since: float = -np.inf, until: float = np.inf
                     ) -> dict[str, np.ndarray]:
    """The observable columns of the cases that have been detected (latent and faded-unseen
    cases are not in it), optionally only those detected in ``[since, until)``: the only door
    from the case table into the forecaster."""
    t = tab["t_detect"]
    if since == -np.inf and until == np.inf:
        seen = np.isfinite(t)
    else:  # a day's reports are few: their rows from one compiled pass (the same rows, in order)
        seen = _rows_between(t, float(since), float(until))
    return {c: tab[c][seen] for c in OBSERVABLE_COLUMNS}


@njit(cache=True)
def _rows_between(t, since, until):  # pragma: no cover - compiled
    # np.flatnonzero((t >= since) & (t < until))
    n = 0
    for i in range(t.size):
        if t[i] >= since and t[i] < until:
            n += 1
    rows = np.empty(n, dtype=np.int64)
    j = 0
    for i in range(t.size):
        if t[i] >= since and t[i] < until:
            rows[j] = i
            j += 1
    return rows


def daily_tally(obs: dict[str, np.ndarray], t0: float, t1: float, n_grids: int) -> np.ndarray:
    """Counts per grid (rows :data:`TALLIES`) of the cases reported in ``[t0, t1)``."""
    today = (obs["t_detect"] >= t0) & (obs["t_detect"] < t1)
    g = obs["grid"][today]
    masks = (np.ones(g.size, bool), obs["severity"][today] >= 1, obs["channel"][today] == VIDEO,
             obs["recurrence"][today] > 0)
    return np.stack([np.bincount(g[m], minlength=n_grids) for m in masks]).astype(np.float64)


@njit(cache=True)
def _tally_into(week, t_detect, grid, severity, channel, recurrence, t0, t1, video):  # pragma: no cover - compiled
    # week[TALLIES rows, grid] += 1.0 for each report of [t0, t1): all, serious, video, repeat
    for i in range(t_detect.size):
        if t_detect[i] >= t0 and t_detect[i] < t1:
            g = grid[i]
            week[0, g] += 1.0
            if severity[i] >= 1:
                week[1, g] += 1.0
            if channel[i] == video:
                week[2, g] += 1.0
            if recurrence[i] > 0:
                week[3, g] += 1.0


def backlog_snapshot(obs: dict[str, np.ndarray], now: float, n_grids: int) -> dict[str, np.ndarray]:
    """Open reported cases per grid now: how many, their mean age (days since reported), how
    many were bounced between departments, and how many are collective incidents (severity ≥ 2)."""
    counts, age = np.zeros((3, n_grids), dtype=np.int64), np.zeros(n_grids)
    _backlog(obs["stage"], obs["grid"], obs["t_detect"], obs["bounces"], obs["severity"], float(now),
             int(Stage.REPORTING), int(Stage.IN_SERVICE), counts, age)
    n = counts[0].astype(np.float64)
    return {"backlog": n, "backlog_age_days": np.divide(age, n, out=np.zeros(n_grids), where=n > 0),
            "backlog_bounced": counts[1].astype(float), "open_collective": counts[2].astype(float)}


@njit(cache=True)
def _backlog(stage, grid, t_detect, bounces, severity, now, first_open, last_open, counts, age):  # pragma: no cover - compiled
    # np.bincount per grid of the open reported cases (all, bounced, severity >= 2) and of their
    # ages (now - t_detect) / 24 summed in row order, as the weighted np.bincount sums them
    for i in range(stage.size):
        if stage[i] >= first_open and stage[i] <= last_open:
            g = grid[i]
            counts[0, g] += 1
            age[g] += (now - t_detect[i]) / 24.0
            if bounces[i] > 0:
                counts[1, g] += 1
            if severity[i] >= 2:
                counts[2, g] += 1


def survey(residents: ResidentTable, per_grid: int, rng: np.random.Generator,
           noise: float = 0.1) -> np.ndarray:
    """Mean answer per grid of a trust survey of ``per_grid`` residents drawn at random (with
    replacement) in each grid; each answer is the resident's trust plus normal noise (sd
    ``noise``), clipped to [0, 1]. NaN with no survey (``per_grid`` 0)."""
    start = residents.start
    n = start.size - 1
    if per_grid <= 0:
        return np.full(n, np.nan)
    u = rng.random((n, per_grid))
    if per_grid > 128:  # numpy's pairwise sum splits longer rows in halves: numpy's own code
        size = np.diff(start)
        idx = start[:-1, None] + np.floor(u * size[:, None]).astype(np.int64)
        answers = residents.trust_of(idx.ravel(), np.repeat(np.arange(n), per_grid)) + \
            rng.normal(0.0, noise, idx.size)
        return np.clip(answers, 0.0, 1.0).reshape(n, per_grid).mean(axis=1)
    # rng.normal(0.0, noise, size) is 0.0 + noise × a standard normal, the same draws (the
    # kernel adds the 0.0 and the noise); it spent a third of its time in the loc/scale loop
    z = rng.standard_normal(n * per_grid)
    return _survey(start, u, z, float(noise), residents.trust, residents.trust_shift)


@njit(cache=True)
def _survey(start, u, z, noise, trust, shift):  # pragma: no cover - compiled
    # numpy's survey in one pass: idx = start + floor(u * size) (float64, then int64), the
    # effective trust np.clip(trust[idx] + shift[grid], 0, 1), plus the noise 0.0 + noise * z,
    # clipped again, and each grid's mean as np.mean(axis=1) takes it: numpy's pairwise sum of
    # the row, divided by its length (tests/test_warning.py compares it with the numpy code)
    n, k = u.shape
    idx = np.empty(n * k, np.int64)
    for g in range(n):
        lo = start[g]
        size = np.float64(start[g + 1] - lo)
        for j in range(k):
            idx[g * k + j] = lo + np.int64(np.floor(u[g, j] * size))
    out = np.empty(n)
    row = np.empty(k)
    for g in range(n):
        for j in range(k):
            m = g * k + j
            if m + _AHEAD < n * k:  # a random resident record each: ask for one 64 answers ahead
                prefetch(trust, idx[m + _AHEAD])
            x = np.float64(trust[idx[m]]) + shift[g]
            if x < 0.0:
                x = 0.0
            elif x > 1.0:
                x = 1.0
            a = x + (0.0 + noise * z[m])
            if a < 0.0:
                a = 0.0
            elif a > 1.0:
                a = 1.0
            row[j] = a
        # numpy's pairwise_sum of k <= 128 values: a plain loop below 8, else eight accumulators
        if k < 8:
            res = 0.0
            for j in range(k):
                res += row[j]
        else:
            r0, r1, r2, r3, r4, r5, r6, r7 = row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7]
            i = 8
            while i < k - (k % 8):
                r0 += row[i]
                r1 += row[i + 1]
                r2 += row[i + 2]
                r3 += row[i + 3]
                r4 += row[i + 4]
                r5 += row[i + 5]
                r6 += row[i + 6]
                r7 += row[i + 7]
                i += 8
            res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
            while i < k:
                res += row[i]
                i += 1
        out[g] = res / k
    return out




@dataclass
class ObservedHistory:
    """Weekly tallies of what the city saw: ``weeks[k]`` is a (len(TALLIES), n_grids) array; the
    current week accumulates in ``week``. ``smoothed`` is the exponentially smoothed weekly
    report count (reports + serious reports)."""

    n_grids: int
    weeks: list[np.ndarray] = field(default_factory=list)
    week: np.ndarray = field(init=False)
    smoothed: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.week = np.zeros((len(TALLIES), self.n_grids))
        self.smoothed = np.zeros(self.n_grids)

    def add_day(self, tally: np.ndarray) -> None:
        """Fold one day's tallies into the current week."""
        self.week += tally

    def add_reports(self, obs: dict[str, np.ndarray], t0: float, t1: float) -> None:
        """Fold the cases reported in ``[t0, t1)`` (of ``obs``) into the current week:
        ``add_day(daily_tally(obs, t0, t1, n_grids))`` in one compiled pass, without the day's
        four arrays of every grid (counts are whole numbers: adding them one at a time gives the
        same floats)."""
        _tally_into(self.week, obs["t_detect"], obs["grid"], obs["severity"], obs["channel"], obs["recurrence"],
                    float(t0), float(t1), VIDEO)

    def add_reports_of(self, tab: CaseTable, t0: float, t1: float) -> None:
        """:meth:`add_reports` of ``observable_cases(tab, t0, t1)`` straight from the table's
        observable columns: the same pass counts only the rows detected in ``[t0, t1)`` (latent
        rows have no detection time), without first copying those rows out (at 5x the copy took
        two passes over a million detection times a day)."""
        _tally_into(self.week, tab["t_detect"], tab["grid"], tab["severity"], tab["channel"], tab["recurrence"],
                    float(t0), float(t1), VIDEO)

    def close_week(self) -> None:
        """End the current week: keep its tallies, update the smoothed count, start a new one."""
        x = self.week[0] + self.week[1]
        self.smoothed = x if not self.weeks else SMOOTHING * x + (1 - SMOOTHING) * self.smoothed
        self.weeks.append(self.week)
        self.week = np.zeros_like(self.week)

    def last(self, k: int, row: str) -> np.ndarray:
        """Sum of tally ``row`` over the last ``k`` closed weeks."""
        i = TALLIES.index(row)
        if not self.weeks:
            return np.zeros(self.n_grids)
        return np.sum([w[i] for w in self.weeks[-k:]], axis=0)


def features(hist: ObservedHistory, snap: dict[str, np.ndarray], trust_survey: np.ndarray,
             layout: CityLayout, near: np.ndarray | None = None) -> np.ndarray:
    """The per-grid feature matrix (n_grids × len(FEATURES)) from observed tallies ``hist``, the
    backlog snapshot ``snap`` and the survey. ``near`` is the 3×3 neighbourhood sum of the
    backlog (computed here when not given). Missing survey answers count as 0.5."""
    det4 = hist.last(4, "detected")
    community = np.bincount(layout.community_of, weights=det4, minlength=layout.n_communities)
    if near is None:
        near = _near(layout, snap["backlog"])
    cols = {
        "detected_1w": hist.last(1, "detected"), "detected_4w": det4, "smoothed": hist.smoothed,
        "serious_4w": hist.last(4, "serious"), "video_4w": hist.last(4, "video"),
        "repeat_8w": hist.last(8, "repeat"), **snap,
        "survey_trust": np.where(np.isfinite(trust_survey), trust_survey, 0.5),
        "community_detected_4w": community[layout.community_of], "near_backlog": near,
        "residents_k": layout.residents_per_grid / 1000.0,
    }
    return np.column_stack([np.asarray(cols[f], dtype=np.float64) for f in FEATURES])


def _near(layout: CityLayout, per_grid: np.ndarray) -> np.ndarray:
    """3×3 neighbourhood sum on the map (:func:`~sim.engine.escalation.neighbourhood_sum` reads
    only the state's layout)."""
    return neighbourhood_sum(cast(CityState, SimpleNamespace(layout=layout)), per_grid)
