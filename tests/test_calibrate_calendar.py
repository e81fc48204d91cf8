"""Calendar days (run.start_date), emergence trend and city-wide over-dispersion."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

import sim
from sim.config.params import ScenarioError
from sim.engine.calendar import Calendar, trend_factor


def test_calendar_dates_weekdays_and_day_of_year() -> None:
    cal = Calendar(dt.date(2015, 1, 1))  # a Thursday
    assert cal.weekday_index(0) == 3 and cal.weekday_index(4) == 0  # 5 Jan 2015: Monday
    assert cal.day_of_year(0) == 0 and cal.day_of_year(181) == 181  # 1 July 2015
    assert cal.month(31) == 2
    legacy = Calendar(None, 181)
    assert legacy.weekday_index(9) == 2 and legacy.day_of_year(0) == 181 and legacy.month(0) == 7
    ts = cal.hours_to_timestamps(np.array([1.5, np.inf]))
    assert str(ts[0]) == "2015-01-01T01:30:00" and np.isnat(ts[1])
    # the trend runs from 1 January of the start year: Jul-1 runs continue the Jan-1 line
    w = {"trend_per_year": 0.5}
    jul = Calendar(dt.date(2015, 7, 1))
    assert trend_factor(w, jul, 0) == pytest.approx(trend_factor(w, cal, 181))
    assert trend_factor(w, cal, 365) == pytest.approx(math.exp(0.5))


@pytest.mark.parametrize("bad", ["2015-02-30", "15-01-01", "2015/01/01", "1800-01-01", 5])
def test_bad_start_date_names_the_field(bad: object) -> None:
    with pytest.raises(ScenarioError, match=r"run\.start_date .*YYYY-MM-DD"):
        sim.load_scenario("town", {"run.start_date": bad})


def test_bad_start_date_cli_exits_2(capsys) -> None:  # type: ignore[no-untyped-def]
    from sim.cli import main

    assert main(["run", "town", "--days", "1", "--set", "run.start_date='2015-13-01'"]) == 2
    assert "run.start_date" in capsys.readouterr().err


def _daily(params: dict[str, object], days: int = 28, seed: int = 1) -> np.ndarray:
    from sim.model import CityModel

    scn = sim.load_scenario("town", {"city.residents": 20000, **params})
    m = CityModel(scn, rng=seed)
    m.run(days)
    ts = m.timeseries()
    # background grievances only: those contagion triggers (ODD §7.16) follow their parents, not
    # the calendar
    return (ts["new_cases"] - ts["triggered"]).to_numpy()


def test_start_date_aligns_weekday_multipliers() -> None:
    """With a start date the multipliers are read Monday first, by the date's weekday."""
    quiet_sunday = [1, 1, 1, 1, 1, 1, 0]
    d = _daily({"world.weekday_multipliers": quiet_sunday, "run.start_date": "2015-01-01"})
    sundays = [i for i in range(28) if (dt.date(2015, 1, 1) + dt.timedelta(i)).weekday() == 6]
    assert sundays[0] == 3
    assert all(d[i] == 0 for i in sundays) and sum(d[i] for i in range(28) if i not in sundays) > 0


def test_trend_and_common_overdispersion_move_emergence() -> None:
    base = _daily({"run.start_date": "2015-01-01"}, days=56)
    up = _daily({"run.start_date": "2015-01-01", "world.trend_per_year": 3.0}, days=56)
    assert up[28:].sum() > 1.2 * base[28:].sum()
    noisy = _daily({"world.overdispersion_common": 0.5}, days=140, seed=2)
    weeks = noisy[:140].reshape(20, 7).sum(axis=1)
    calm = _daily({}, days=140, seed=2)[:140].reshape(20, 7).sum(axis=1)
    assert weeks.var() / weeks.mean() > 3 * calm.var() / calm.mean()


def test_arrival_months_follow_the_start_date() -> None:
    out = sim.run("town", {"city.residents": 20000, "run.start_date": "2015-02-20"}, seed=1,
                  days=20, stats=("arrivals",))
    months = {k for k in out if k.startswith("arrivals.month_multiplier.")}
    assert months == {"arrivals.month_multiplier.2", "arrivals.month_multiplier.3"}
