"""Optional statistics of a finished run: ``sim.run(..., stats=("arrivals", ...))``.

Each entry of :data:`STATS` computes keys the core's KPIs do not carry (calibration targets
them; see docs/calibration.md):

* ``arrivals`` — ``arrivals.per_day`` and ``weekly_var_mean``: reported (detected) cases per
  day and the variance/mean of their 7-day block counts over the *arrival window*: the days
  before the first shock that stops all emergence (multiplier 0, all categories, all grids) —
  the scenario's way of letting the last cases be observed for 30 days, as the real extraction
  did — else the whole run; a trailing partial week is dropped; ``weekly_var_mean_late`` the
  same over the window's second half (from day ``window // 2``). ``arrivals.month_multiplier.<m>``
  — mean reported cases per day in calendar month ``m`` (from ``world.start_day_of_year``,
  365-day year) over the window's mean;
* ``proactive_share`` — share of detected cases found by patrol, screening or video;
* ``resolved_by_tier`` — ``resolved_by_tier.{village,township,county,court}``: resolved shares
  by tier (grid + community, street, district + city, court);
* ``dispute_tier`` — ``dispute_tier.<tier>``: where the disputes a township's system took in
  ended, the definition of a township's dispute tally (Zhaisha: resolved at village level, at
  township level, passed to the county, sent to court). Disputes: the categories whose route
  sends a minor case to community mediation (default: public order, major disputes); taken in:
  entered at the grid, community or street (not filed at court or entered at the district by
  their severity). Each is counted once, by the furthest place it went: sent to court (ever
  routed there, whatever the court then did) > passed to the county (routed to the district or
  city) > resolved at the street (township) > resolved at the grid or community (village);
  closed and open cases, those still open or lapsed below the district left out (no outcome);
* ``resolved_share_of_reported`` — resolved cases / detected cases (a hotline's resolution rate
  counts the requests it received, not disputes nobody reported).
* ``channel_ratios`` — ``channel_ratio.{court,petition}_per_mediation``: residents' final
  choices of court and of petition per choice of mediation (``channel_shares.*``; the only form
  in which the sourced channel figures, a multiple-response survey of village cadres, can be
  compared: calibration/data/dispute_facts.md §1, YJD).

(People's-mediation success and the share of mediated cases that go on to court are core
outcomes: ``mediation_success``, ``mediated_to_court_share``.)

Statistics that read case records declare it, so :func:`sim.run` keeps the records only then.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from .config.scenario import Scenario

_MONTH_START = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])
_TIERS = {"village": (0, 1), "township": (2,), "county": (3, 4), "court": (5,)}


@dataclass
class Finished:
    """What a statistic may read: the model after its run, its scenario, the flat KPIs so far
    and the closed-case sink (None when no statistic asked for records)."""

    model: Any
    scenario: Scenario
    kpis: Mapping[str, float]
    sink: Any = None

    @cached_property
    def records(self) -> dict[str, np.ndarray]:
        """Closed-case records, sorted by case id."""
        return self.sink.table()

    @cached_property
    def channels(self) -> np.ndarray:
        """Detection channel of every case, closed then open (-1: not detected)."""
        return np.concatenate([self.records["channel"], self.model.cases["channel"]])


def arrival_window(data: Mapping[str, Any], days: int) -> int:
    """Days before the first shock that stops all emergence (else ``days``)."""
    stops = [s["start_day"] for s in data["world"]["shocks"]
             if s["multiplier"] == 0 and not s["category"] and s["share_of_grids"] >= 1]
    return int(min([days, *stops]))


def weekly_var_mean(daily: np.ndarray) -> float:
    """Variance/mean (ddof=1) of 7-day block sums of ``daily`` (partial last week dropped)."""
    n_weeks = daily.size // 7
    weeks = daily[: 7 * n_weeks].reshape(n_weeks, 7).sum(axis=1)
    return float(weeks.var(ddof=1) / weeks.mean()) if n_weeks >= 2 and weeks.mean() > 0 \
        else np.nan


def arrival_stats(daily: np.ndarray, start_day_of_year: int, months: np.ndarray | None = None
                  ) -> dict[str, float]:
    """Per-day mean, weekly variance/mean and month multipliers of daily arrival counts
    (``months``: calendar month of each day, from ``run.start_date``; else from the day of year)."""
    daily = np.asarray(daily, dtype=float)
    out: dict[str, float] = {"arrivals.per_day": float(daily.mean()) if daily.size else np.nan}
    out["weekly_var_mean"] = weekly_var_mean(daily)
    # the window's second half alone: week-to-week noise apart from early-window events
    # (Boston: the snow season of Jan-Mar; docs/calibration.md)
    out["weekly_var_mean_late"] = weekly_var_mean(daily[daily.size // 2:])
    doy = (start_day_of_year + np.arange(daily.size)) % 365
    month = np.searchsorted(_MONTH_START, doy, side="right") if months is None \
        else np.asarray(months)[: daily.size]  # 1..12
    mean = daily.mean() if daily.size else np.nan
    for m in np.unique(month):
        out[f"arrivals.month_multiplier.{int(m)}"] = float(daily[month == m].mean() / mean)
    return out


def _arrivals(run: Finished) -> dict[str, float]:
    window = arrival_window(run.scenario.data, run.model.day)
    daily = run.model.timeseries()["detected"].to_numpy()[:window]
    from .engine.calendar import Calendar

    cal = Calendar.from_scenario(run.scenario.data)
    months = np.array([cal.month(d) for d in range(daily.size)])
    return arrival_stats(daily, run.scenario.data["world"]["start_day_of_year"], months)


def _proactive_share(run: Finished) -> dict[str, float]:
    from .engine.cases import PROACTIVE_CHANNELS

    ch = run.channels
    det = ch >= 0
    return {"proactive_share": float(np.isin(ch[det], PROACTIVE_CHANNELS).mean())
            if det.any() else np.nan}


def _resolved_by_tier(run: Finished) -> dict[str, float]:
    from .engine.cases import Stage

    level = run.records["level"][run.records["stage"] == Stage.RESOLVED]
    n_res = level.size
    return {f"resolved_by_tier.{name}": float(np.isin(level, lv).sum() / n_res) if n_res
            else np.nan for name, lv in _TIERS.items()}


def _dispute_tier(run: Finished) -> dict[str, float]:
    from .engine.cases import Stage
    from .engine.levels import Level

    cols = ("category", "entry_level", "levels_routed", "stage", "level")
    rec, open_ = run.records, run.model.cases
    c = {k: np.concatenate([rec[k], open_[k][: len(open_)]]) for k in cols}
    dispute = np.flatnonzero(run.model.state.categories.entry_level[:, 0] == Level.COMMUNITY)
    taken_in = np.isin(c["category"], dispute) & (c["entry_level"] >= 0) & (c["entry_level"] <= Level.STREET)
    routed = c["levels_routed"].astype(np.int64)
    court = (routed >> Level.COURT) & 1 == 1
    county = ~court & ((routed & ((1 << Level.DISTRICT) | (1 << Level.CITY))) != 0)
    resolved = ~court & ~county & (c["stage"] == Stage.RESOLVED)
    tiers = {"village": resolved & (c["level"] <= Level.COMMUNITY), "township": resolved & (c["level"] == Level.STREET),
             "county": county, "court": court}
    n = int((taken_in & (court | county | resolved)).sum())
    return {f"dispute_tier.{name}": float((taken_in & sel).sum() / n) if n else np.nan
            for name, sel in tiers.items()}


def _resolved_share_of_reported(run: Finished) -> dict[str, float]:
    k = run.kpis
    reported = k["cases_total"] * k["detection_rate"]
    return {"resolved_share_of_reported": k["cases_resolved"] / reported if reported else np.nan}


def _channel_ratios(run: Finished) -> dict[str, float]:
    k = run.kpis
    med = k.get("channel_shares.mediation", np.nan)
    return {f"channel_ratio.{opt}_per_mediation": k.get(f"channel_shares.{opt}", np.nan) / med
            if med > 0 else np.nan for opt in ("court", "petition")}


@dataclass(frozen=True)
class Stat:
    """One optional statistic: its function and whether it reads case records."""

    fn: Callable[[Finished], dict[str, float]]
    needs_cases: bool = False


#: The optional statistics, in the order their keys are added.
STATS: dict[str, Stat] = {
    "arrivals": Stat(_arrivals),
    "proactive_share": Stat(_proactive_share, needs_cases=True),
    "resolved_by_tier": Stat(_resolved_by_tier, needs_cases=True),
    "dispute_tier": Stat(_dispute_tier, needs_cases=True),
    "resolved_share_of_reported": Stat(_resolved_share_of_reported),
    "channel_ratios": Stat(_channel_ratios),
}


def check_stats(names: Sequence[str]) -> None:
    """ValueError naming the first unknown statistic and the known ones."""
    for n in names:
        if n not in STATS:
            raise ValueError(f"stats: unknown statistic {n!r} (known: {', '.join(STATS)})")


def needs_cases(names: Sequence[str]) -> bool:
    """True if any of ``names`` reads case records (ValueError for an unknown name)."""
    check_stats(names)
    return any(STATS[n].needs_cases for n in names)


def compute(names: Sequence[str], run: Finished) -> dict[str, float]:
    """The statistics ``names`` of a finished run, in :data:`STATS` order."""
    check_stats(names)
    out: dict[str, float] = {}
    for name, stat in STATS.items():
        if name in names:
            out.update(stat.fn(run))
    return out
