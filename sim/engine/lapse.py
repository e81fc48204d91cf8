"""Lapse: the parties of a detected case give up waiting for it to be handled.

While a detected case waits (in transit or queued, not in service), its parties give up at the
hazard ``world.lapse_per_day × world.lapse_severity_factor ** severity`` per day — serious
cases are dropped less often. The clock is a unit-exponential budget drawn at emergence and
spent at the day's hazard. A lapsed case leaves the system (``Stage.LAPSED``): a documented exit,
not a resolution — its residents' trust and tension take the hit, and the grievance may come
back (:mod:`sim.engine.emergence`). Undetected cases fade in the same way in detection.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .cases import Stage
from .escalation import Escalation
from .split import in_parts, row_parts
from .state import CityState


def lapse_rate_per_hour(world: dict, severity: np.ndarray) -> np.ndarray:
    """Hourly lapse hazard of cases of ``severity``."""
    return world["lapse_per_day"] / 24.0 * world["lapse_severity_factor"] ** severity.astype(np.float64)


class Lapse:
    """Stage ``lapse``. Reads waiting cases and world; writes their lapse clocks and, for those
    that lapse, their escalation up to the lapse, stage and close time."""

    def __init__(self, escalation: Escalation) -> None:
        self.escalation = escalation

    def __call__(self, s: CityState) -> None:
        tab, t0, t1 = s.cases, s.clock.t0, s.clock.t1
        if s.world["lapse_per_day"] <= 0 or len(tab) == 0:
            return
        # One compiled pass over the table: spend the lapse clock of every waiting case (reporting
        # or queued) over its exposure today and return those that ran out. The hazard per
        # severity is looked up in a table computed by the numpy formula itself. The same pass
        # lists the rows the escalation stage's pass, which follows, will act on (the rest of a
        # 5x backlog, capped and waiting, it only reads): that pass then takes those alone.
        # A large backlog in a part per thread (sim/engine/split.py), the rows joined in order.
        cols = (tab["stage"], tab["acc_from"], tab["t_detect"], tab["severity"], tab["lapse_left"])
        rate, rules = lapse_rate_per_hour(s.world, _SEVERITIES), self.escalation.end_of_day_rules(s)
        by_row = (tab["level"], tab["category"], tab["t_arrive"])

        def part(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            o, t, a = _spend(*(c[lo:hi] for c in cols), rate, float(t0), float(t1),  # type: ignore[call-arg]
                             *(c[lo:hi] for c in by_row), *rules)
            return (o + lo, t, a + lo) if lo else (o, t, a)

        parts = in_parts(part, row_parts(tab.n))
        out, t_lapse, acts = parts[0] if len(parts) == 1 else (np.concatenate(x) for x in zip(*parts, strict=True))
        if out.size:
            self.escalation.accrue(s, out, t_lapse)  # the clock runs until they give up
            tab["stage"][out] = Stage.LAPSED
            tab["t_close"][out] = t_lapse
        self.escalation.expect(s, acts)  # the lapsed rows are among them: it skips closed rows


_SEVERITIES = np.arange(128, dtype=np.int8)  # every value a severity column could hold (0..3 in use)


@njit(cache=True)
def _max(a, b):  # pragma: no cover - compiled
    """``np.maximum`` of two floats (a NaN wins)."""
    return a if (a >= b or a != a) else b


@njit(cache=True, nogil=True)
def _spend(stage, acc_from, t_detect, severity, lapse_left, rate_of, t0, t1, level, category, t_arrive, entry, top,
           review_after, street_scoped, t_end):  # pragma: no cover - compiled
    """For cases in stages REPORTING or QUEUED: exposure from ``max(acc_from, t0, t_detect)`` to
    ``t1`` at the hourly hazard ``rate_of[severity]``. Cases whose budget ``lapse_left`` runs out
    are returned (ascending rows) with the hour they give up; the others' budgets are spent.
    Also returned, ascending: the rows the escalation stage's pass (``escalation._end_of_day_rows``
    with the last six arguments) will act on, the cases that run out included (their stage is
    then closed, which that pass skips)."""
    n = stage.shape[0]
    out = np.empty(n, np.int64)
    when = np.empty(n, np.float64)
    acts = np.empty(n, np.int64)
    k = 0
    m = 0
    # The levels at which the escalation pass acts on a row only to integrate its hazard: at or
    # above the top (no review), not street-scoped and no entry level above them (no referral up),
    # by the level's byte (negative levels are 128..255: never quiet). At 5x nearly the whole
    # backlog waits at the court with severity 3: its rows need neither category, entry nor
    # t_arrive read (-18 % of the pass at 5x day 200).
    e_max = entry.max() if entry.size else -1
    quiet = np.zeros(256, np.bool_)
    for lv in range(min(street_scoped.size, 128)):
        quiet[lv] = e_max <= lv and lv >= top and not street_scoped[lv]
    for i in range(n):
        st = stage[i]
        if st < 0 or st > 2:
            continue
        a = acc_from[i]
        sv = severity[i]
        if st != 0:  # REPORTING or QUEUED
            start = _max(_max(a, t0), t_detect[i])
            span = _max(t1 - start, 0.0)
            rate = rate_of[sv]
            left = lapse_left[i]
            if rate > 0 and left <= rate * span:
                out[k] = i
                when[k] = start + left / rate
                k += 1
            else:
                lapse_left[i] = left - rate * span
        # would escalation._end_of_day_rows act on the row (integrate its hazard, or list it)? Its
        # tests in its order, with the severity before its integration (a row it integrates is
        # acted on either way). Written out here: as a compiled function taking the arrays, each
        # call cost 70 ns (their reference counts), the pass 20 times as long.
        lv = level[i]
        if quiet[np.uint8(lv)]:  # entry[...] <= e_max <= lv, lv >= top, not street-scoped
            if a < t_end and sv < 3:
                acts[m] = i
                m += 1
            continue
        acted = False
        if a < t_end:
            acted = sv < 3 or ((st == 1 or st == 2) and lv >= 0 and entry[category[i], sv] > lv)
        if not acted and st == 2:
            acted = (lv < top and t_end - t_arrive[i] >= review_after) or (
                lv >= 0 and street_scoped[lv] and t_end - t_arrive[i] >= -np.inf)
        if acted:
            acts[m] = i
            m += 1
    return out[:k].copy(), when[:k].copy(), acts[:m].copy()
