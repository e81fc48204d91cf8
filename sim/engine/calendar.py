"""The run's calendar: which date, weekday and day of year a simulation day is, and the slow
trend of emergence.

Without ``run.start_date`` the model keeps its calendar-free convention: day of year =
``world.start_day_of_year + day`` (365-day year) and ``weekday_multipliers[day % 7]``. With a
start date, day ``d`` is the date ``start_date + d``: its weekday picks the multiplier (Monday
first, as the field's documentation says) and its day of year drives seasonality, so weekday,
holiday and seasonal effects line up with a real calendar (e.g. the Boston 311 data).

Trend: emergence is multiplied by ``exp(world.trend_per_year × t / 365)`` — a constant growth
(or decline) rate, ``t`` = days since 1 January of the start date's year (so runs started on
different dates of one year share one trend line), or since day 0 without a start date; 0 = none.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

_NON_LEAP = dt.date(2015, 1, 1)  # a 365-day year, for months without a start date


@dataclass(frozen=True)
class Calendar:
    """Day-0 date (None = calendar-free) and the legacy day-of-year offset."""

    start: dt.date | None = None
    start_day_of_year: int = 0

    @classmethod
    def from_scenario(cls, data: dict[str, Any]) -> Calendar:
        """From a validated scenario's ``run.start_date`` and ``world.start_day_of_year``."""
        text = data.get("run", {}).get("start_date", "")
        start = dt.date.fromisoformat(text) if text else None
        return cls(start, int(data["world"]["start_day_of_year"]))

    def date(self, day: int) -> dt.date | None:
        """Calendar date of simulation day ``day`` (None without a start date)."""
        return None if self.start is None else self.start + dt.timedelta(days=int(day))

    def weekday_index(self, day: int) -> int:
        """Index into ``weekday_multipliers``: the date's weekday (Monday = 0), else ``day % 7``."""
        d = self.date(day)
        return int(day) % 7 if d is None else d.weekday()

    def day_of_year(self, day: int) -> int:
        """Day of year, 0-based (1 January = 0)."""
        d = self.date(day)
        return (self.start_day_of_year + int(day)) % 365 if d is None else d.timetuple().tm_yday - 1

    def month(self, day: int) -> int:
        """Calendar month 1..12 (without a start date: from the 365-day day of year)."""
        d = self.date(day)
        if d is not None:
            return d.month
        return (_NON_LEAP + dt.timedelta(days=self.day_of_year(day))).month

    def hours_to_timestamps(self, hours: Any) -> Any:
        """Model hours since day 0 -> numpy datetime64[s] (NaT for inf/NaN); None without a
        start date."""
        import numpy as np

        if self.start is None:
            return None
        h = np.asarray(hours, dtype=float)
        ok = np.isfinite(h)
        secs = np.where(ok, np.round(h * 3600.0), 0).astype("int64")
        out = np.datetime64(self.start.isoformat(), "s") + secs.astype("timedelta64[s]")
        return np.where(ok, out, np.datetime64("NaT", "s"))


    def trend_days(self, day: int) -> int:
        """Days since the trend's origin: 1 January of the start year (day 0 without a start)."""
        return int(day) if self.start is None else \
            (self.start - dt.date(self.start.year, 1, 1)).days + int(day)


def trend_factor(world: dict[str, Any], calendar: Calendar, day: int) -> float:
    """``exp(trend_per_year × t / 365)``: the emergence trend (1 when there is none)."""
    rate = float(world.get("trend_per_year", 0.0))
    return math.exp(rate * calendar.trend_days(day) / 365.0) if rate else 1.0
