"""The snow season of the Boston fit window: how long it lasted and how much it held down
ordinary (non-winter) requests, measured on the fit window only.

January–February 2015 brought Boston's blizzards: the winter request types (snow complaints,
snow plowing, space savers, ...) surge, while ordinary requests (graffiti, bulk items, tree
maintenance ...) fall. Without this, a fitted growth trend has to explain January's low
volume and carries a level that is too low into the summer (docs/calibration.md).

* **Season** (:func:`snow_season_days`): from the window's first day to the end of the last
  7-day block (counted from the window's start) in which the winter types make at least
  ``share`` of all requests.
* **Suppression** (:func:`measure`): ordinary least squares of log daily ordinary requests on
  a constant, a linear time trend (per year), Monday-first weekday dummies, a public-holiday
  dummy and a snow-season dummy; the multiplier is ``exp(coefficient)`` of the snow dummy.
  The trend and its standard error are reported as a cross-check of the fitted
  ``world.trend_per_year``; they do not enter the scenario.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import boston as b

SNOW_SHARE = 0.05  # a 7-day block is snowy while winter types are >= 5 % of its requests


@dataclass(frozen=True)
class SnowSeason:
    """Length (days from the window start), multiplier on ordinary requests, and the trend."""

    days: int
    multiplier: float
    multiplier_se: float  # standard error of the log multiplier
    trend_per_year: float
    trend_se: float


def snow_season_days(frame: pd.DataFrame, winter_types: Iterable[str], start: str, end: str,
                     share: float = SNOW_SHARE) -> int:
    """Days from ``start`` to the end of the last 7-day block with winter share >= ``share``
    (0 if there is none)."""
    wt = set(winter_types)
    total = b.block_counts(frame["OPEN_DT"], start, end, 7)
    winter = b.block_counts(frame.loc[frame["TYPE"].isin(wt), "OPEN_DT"], start, end, 7)
    snowy = np.flatnonzero(winter >= share * np.maximum(total, 1))
    return int(7 * (snowy[-1] + 1)) if snowy.size else 0


def measure(data: b.BostonData, winter_types: Iterable[str], holidays: Iterable[pd.Timestamp],
            start: str = b.FIT_WINDOW[0], end: str = b.FIT_WINDOW[1],
            share: float = SNOW_SHARE) -> SnowSeason:
    """The snow season and its multiplier on ordinary requests (module docstring)."""
    df = b.window(data, start, end)
    wt = set(winter_types)
    n_snow = snow_season_days(df, wt, start, end, share)
    days = pd.date_range(pd.Timestamp(start), pd.Timestamp(end), freq="D", inclusive="left")
    ordinary = df.loc[~df["TYPE"].isin(wt), "OPEN_DT"].dt.normalize()
    y = np.log(np.maximum(ordinary.value_counts().reindex(days, fill_value=0).to_numpy(), 1))
    t = np.asarray((days - days[0]).days, dtype=float) / 365.0
    wd = np.asarray(days.day_of_week)
    cols = [np.ones(len(days)), t] + [(wd == k).astype(float) for k in range(1, 7)]
    cols += [np.asarray(days.isin(list(holidays)), dtype=float),
             (np.arange(len(days)) < n_snow).astype(float)]
    x = np.column_stack([c for c in cols if c.any()])  # no holiday / no snow: no column
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ coef
    cov = float(resid @ resid) / (len(y) - x.shape[1]) * np.linalg.inv(x.T @ x)
    mult, mult_se = (float(np.exp(coef[-1])), float(np.sqrt(cov[-1, -1]))) if n_snow else (1.0, 0.0)
    return SnowSeason(days=n_snow, multiplier=round(mult, 3), multiplier_se=round(mult_se, 3),
                      trend_per_year=round(float(coef[1]), 3),
                      trend_se=round(float(np.sqrt(cov[1, 1])), 3))
