"""sim.run's optional statistics, list-element keys, and the generated Boston scenario files."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sim
from sim.calibrate import boston as b
from sim.calibrate import boston_scenario as bs
from sim.calibrate.profiles import pinned_blas_environment
from sim.runner import build_scenario, split_params
from sim.stats import STATS, arrival_stats, arrival_window

ROOT = Path(__file__).resolve().parents[1]


def test_split_and_build_list_elements() -> None:
    plain, elems = split_params({"handling.success[3]": 0.5, "world.overdispersion": 1.0})
    assert plain == {"world.overdispersion": 1.0} and elems == {"handling.success": {3: 0.5}}
    scn = build_scenario("town", {"handling.success[3]": 0.5, "handling.mean_hours[0]": 2})
    assert scn.get("handling.success")[3] == 0.5
    assert scn.get("handling.mean_hours")[0] == 2.0
    base = sim.load_scenario("town")
    assert scn.get("handling.success")[:3] == base.get("handling.success")[:3]
    with pytest.raises(sim.ScenarioError, match=r"handling\.success\[3\] = 2(\.0)?: must be"):
        build_scenario("town", {"handling.success[3]": 2})
    with pytest.raises(sim.ScenarioError, match="index out of range"):
        build_scenario("town", {"world.weekday_multipliers[9]": 1.0})


def test_arrival_stats() -> None:
    daily = np.array([10.0] * 14 + [30.0] * 7 + [5.0] * 3)  # 3 full weeks + 3 days
    s = arrival_stats(daily, start_day_of_year=0)
    weeks = np.array([70.0, 70.0, 210.0])
    assert s["weekly_var_mean"] == pytest.approx(weeks.var(ddof=1) / weeks.mean())
    assert s["arrivals.per_day"] == pytest.approx(daily.mean())
    assert set(s) == {"arrivals.per_day", "weekly_var_mean", "weekly_var_mean_late",
                      "arrivals.month_multiplier.1"}
    assert np.isnan(s["weekly_var_mean_late"])  # 12 days: one full week in the second half
    late = arrival_stats(np.r_[np.zeros(24), daily], start_day_of_year=0)["weekly_var_mean_late"]
    assert late == pytest.approx(s["weekly_var_mean"])  # the second half is the 24 days above
    s = arrival_stats(np.ones(62), start_day_of_year=181)  # 1 July .. 31 August
    assert s["arrivals.month_multiplier.7"] == 1 and s["arrivals.month_multiplier.8"] == 1


def test_arrival_window_from_stop_shock() -> None:
    data = sim.load_scenario("boston").data
    assert arrival_window(data, 211) == 181
    assert arrival_window(sim.load_scenario("town").data, 50) == 50


def test_run_adds_stats_to_the_kpis() -> None:
    params = {"city.residents": 20_000}
    out = sim.run("town", params, seed=3, days=21, stats=tuple(STATS))
    core = sim.run("town", params, seed=3, days=21)
    # same model, same KPIs without the stats (NaN, e.g. a category with no detected case, = NaN)
    assert all(out[k] == v or (v != v and out[k] != out[k]) for k, v in core.items())
    # mediation_success is a core outcome; the stats add the rest
    for key in ("weekly_var_mean", "proactive_share", "mediation_success", "arrivals.per_day",
                "resolved_share_of_reported",
                "resolved_by_tier.village", "resolved_by_tier.court"):
        assert key in out
    assert 0 <= out["proactive_share"] <= 1
    tiers = sum(out[f"resolved_by_tier.{t}"] for t in ("village", "township", "county", "court"))
    assert tiers == pytest.approx(1.0)
    disputes = sum(out[f"dispute_tier.{t}"] for t in ("village", "township", "county", "court"))
    assert disputes == pytest.approx(1.0)
    for opt in ("court", "petition"):  # residents' choices of an option per choice of mediation
        assert out[f"channel_ratio.{opt}_per_mediation"] == pytest.approx(
            out[f"channel_shares.{opt}"] / out["channel_shares.mediation"])
    only = sim.run("town", params, seed=3, days=21, stats=("arrivals",))
    assert set(only) - set(core) == {k for k in out if k.startswith("arrivals.")} | {
        "weekly_var_mean", "weekly_var_mean_late"}
    with pytest.raises(ValueError, match="unknown statistic 'nope'"):
        sim.run("town", params, seed=3, days=1, stats=("nope",))


def test_boston_scenario_loads_with_data_volumes() -> None:
    scn = sim.load_scenario("boston")
    cats = scn.data["world"]["categories"]
    deps = {c["department"] for c in cats.values()}
    assert deps == set(b.AGENCIES.values()) | {b.OTHER}
    shocks = {s["name"]: s for s in scn.get("world.shocks")}
    season = {s["category"]: s["start_day"] for s in shocks.values()
              if s["name"].startswith("season_end_")}  # winter types: their rate over their season
    snowy = shocks["snow_season"]  # every type held down in the snow season (sim/calibrate/snow.py)
    assert snowy["start_day"] == 0 and snowy["category"] == "" and 0 < snowy["multiplier"] < 1

    def days_in_season(n: int) -> float:
        return snowy["multiplier"] * min(snowy["days"], n) + max(n - snowy["days"], 0)

    per_day = sum(c["rate_per_1000_per_year"] * days_in_season(season.get(k, 181)) / 181
                  for k, c in cats.items()) * bs.RESIDENTS / 1000 / 365
    assert per_day == pytest.approx(58_119 / 181, rel=1e-3)  # Jan-Jun volume
    pothole = cats["public_works__pothole_repair_internal"]
    assert pothole["proactive_only"] == 1.0 and pothole["severity_probs"][3] == 0.0
    assert scn.get("run.days") == 211
    assert scn.get("run.start_date") == "2015-01-01"
    names = [s["name"] for s in scn.get("world.shocks")]
    assert "holiday_2015-01-19" in names and "season_end_public_works__misc_snow_complaint" in names
    hold = sim.load_scenario(ROOT / "calibration" / "boston_jul_aug.toml")
    assert hold.get("run.start_date") == "2015-07-01" and hold.get("run.days") == 92
    shocks = {s["name"]: s for s in hold.get("world.shocks")}
    assert shocks["extraction_tail"]["start_day"] == 62
    assert shocks["holiday_2015-07-03"]["start_day"] == 2  # Independence Day, observed
    assert shocks["season_end_public_works__misc_snow_complaint"]["start_day"] == 0
    assert "snow_season" not in shocks  # July: no snow


def test_generated_files_are_up_to_date(tmp_path: Path) -> None:
    """``python -m sim.calibrate.boston_scenario`` writes the committed files again (in a process
    of its own: it pins OpenBLAS's kernels, which the profile fits depend on)."""
    env = pinned_blas_environment()
    if env is None:
        pytest.skip("the committed fits need OpenBLAS's Haswell kernels (x86-64 with AVX2)")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-m", "sim.calibrate.boston_scenario", "--root", str(tmp_path)],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for rel in ("scenarios/boston.toml", "calibration/boston_jul_aug.toml",
                "calibration/targets/boston_2015_jan_jun.toml",
                "calibration/targets/boston_2015_jul_aug.toml"):
        assert (tmp_path / rel).read_text() == (ROOT / rel).read_text(), rel


def test_weekdays_monday_first_and_holidays() -> None:
    stats = {f"weekday_multiplier.{i}": float(i) for i in range(7)}
    assert bs.weekday_list(stats) == [0, 1, 2, 3, 4, 5, 6]  # the model reads them by date
    hol = [str(h.date()) for h in bs.holidays_between("2015-01-01", "2015-07-01")]
    assert hol == ["2015-01-01", "2015-01-19", "2015-02-16", "2015-04-20", "2015-05-25"]
    # measured: 78 requests on 1 Jan, 130 on 19 Jan, 140 on 25 May (median day 368)
    assert 0.3 < bs.holiday_multiplier(b.load(), *b.FIT_WINDOW) < 0.5


def test_china_targets_cite_sources() -> None:
    import tomllib

    raw = tomllib.loads((ROOT / "calibration" / "targets" / "china.toml").read_text())
    for key, t in raw["targets"].items():
        assert t["source"], key
        assert math.isfinite(t["value"])
    assert raw["targets"]["mediation_success"]["value"] == pytest.approx(0.965)


def test_boston_department_queues_do_not_bind() -> None:
    """A server holds a request for its whole closure time: every department's offered load
    (requests/day x mean days of work) on the fitted city, at August's trend, the busiest
    weekday and every type in season at once, stays below its staff."""
    scn = sim.load_scenario(ROOT / "calibration" / "fitted" / "boston.toml")
    w, ref = scn.data["world"], scn.get("handling.mean_hours")[3]
    peak = w["emergence_multiplier"] * math.exp(w["trend_per_year"] * 243 / 365) * max(
        w["weekday_multipliers"])
    load: dict[str, float] = {}
    for c in w["categories"].values():
        per_day = c["rate_per_1000_per_year"] * bs.RESIDENTS / 1000 / 365 * peak
        worked = 1.0 - c["severity_probs"][3]  # never-closed requests take no work
        load[c["department"]] = load.get(c["department"], 0.0) + \
            per_day * worked * ref * c["service_multiplier"] / 24
    assert scn.get("levers.department_staff") == bs.DEPARTMENT_STAFF
    assert max(load.values()) < bs.DEPARTMENT_STAFF
    assert max(load, key=load.__getitem__) == "public_works" and load["public_works"] > 2000
    with pytest.raises(sim.ScenarioError, match=r"department_staff = 20001: must be an integer "
                                                r"in \[0, 20000\]"):
        build_scenario("town", {"levers.department_staff": 20001})
