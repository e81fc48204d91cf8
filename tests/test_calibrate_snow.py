"""The Boston snow season (sim.calibrate.snow): a synthetic oracle and the real fit window."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.calibrate import boston as b
from sim.calibrate import boston_scenario as bs
from sim.calibrate import snow


def _synthetic(mult: float, snow_days: int, trend: float) -> b.BostonData:
    """Ordinary requests 200 × exp(trend·t) a day (× ``mult`` in the first ``snow_days``),
    60 winter-type requests a day during the snow season, 2 after it."""
    start = pd.Timestamp("2015-01-01")
    rows: list[tuple[pd.Timestamp, str]] = []
    for day in range(140):
        n = 200 * np.exp(trend * day / 365.0) * (mult if day < snow_days else 1.0)
        ts = start + pd.Timedelta(days=day, hours=12)
        rows += [(ts, "Pothole")] * int(round(n))
        rows += [(ts, "Snow")] * (60 if day < snow_days else 2)
    df = pd.DataFrame(rows, columns=["OPEN_DT", "TYPE"])
    return b.BostonData(df, pd.Timestamp("2016-01-01"))


def test_measure_recovers_a_known_snow_season() -> None:
    data = _synthetic(mult=0.7, snow_days=35, trend=0.5)
    got = snow.measure(data, {"Snow"}, [], "2015-01-01", "2015-05-21")
    assert got.days == 35  # the last 7-day block with >= 5 % winter-type requests ends on day 35
    assert got.multiplier == pytest.approx(0.7, abs=0.005)
    assert got.trend_per_year == pytest.approx(0.5, abs=0.01)
    none = snow.measure(data, {"No such type"}, [], "2015-01-01", "2015-05-21")
    assert none.days == 0


def test_season_days_count_snow_days_at_the_multiplier() -> None:
    sn = snow.SnowSeason(days=70, multiplier=0.8, multiplier_se=0.1, trend_per_year=0.0,
                         trend_se=0.1)
    assert bs.season_days(181, sn) == pytest.approx(0.8 * 70 + 111)
    assert bs.season_days(30, sn) == pytest.approx(0.8 * 30)  # a season inside the snow
    assert bs.season_days(181, None) == 181


def test_boston_fit_window_snow_season() -> None:
    """Jan-Jun 2015: winter types >= 5 % of requests up to the week ending 12 March (day 70);
    ordinary requests held down to about 0.78 of their level (measured)."""
    data = b.load()
    cats = bs.category_table(data, *b.FIT_WINDOW)
    seasons = bs.winter_categories(data, cats, *b.FIT_WINDOW)
    sn = bs.snow_season(data, cats, seasons, *b.FIT_WINDOW)
    assert sn.days == 70
    assert 0.6 < sn.multiplier < 0.9 and sn.multiplier_se < 0.1
    assert 0.0 < sn.trend_per_year < 1.0
